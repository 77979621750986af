-- Refresh with rotation: each refresh token works once, so every thread keeps a queue of the
-- tokens it owns (its share of BENCH_DATA, at least one per connection), takes one per request
-- and puts back the new one from each response.
wrk.method = "POST"
wrk.path = os.getenv("BENCH_PATH") or "/auth/refresh"
wrk.headers["Content-Type"] = "application/json"
bench_checked = true

local queue, head, tail = {}, 1, 0

function init(args)
  for _, token in ipairs(bench_thread_lines()) do
    tail = tail + 1
    queue[tail] = token
  end
end

function request()
  if head > tail then
    -- Out of tokens (they are lost only on failed refreshes): count it and fall back to a
    -- request that fails, so the problem shows as errors rather than as inflated throughput.
    starved = starved + 1
    return wrk.format(nil, nil, nil, '{"refresh_token":"starved"}')
  end
  local token = queue[head]
  queue[head] = nil
  head = head + 1
  return wrk.format(nil, nil, nil, '{"refresh_token":"' .. token .. '"}')
end

function response(status, headers, body)
  local token = nil
  if status == 200 then token = bench_refresh_token(body) end
  bench_count(status, headers, token ~= nil, body)
  if token then
    tail = tail + 1
    queue[tail] = token
  end
end
