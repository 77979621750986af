-- Prepended to every scenario script by bench/wrk.py.
--
-- Counters live in each wrk thread's own Lua state; done() (which runs in the main state)
-- reads them back through the thread objects collected in setup(), and prints one line of
-- JSON that bench/wrk.py parses ("BENCH_JSON {...}").

local bench_threads = {}
local bench_nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")

function setup(thread)
  table.insert(bench_threads, thread)
  thread:set("tid", #bench_threads)
end

-- Per-thread counters (globals, so thread:get() can read them).
n2xx, n3xx, n4xx, n5xx, n503, n503_retry_after, bad, starved = 0, 0, 0, 0, 0, 0, 0, 0
-- Password logins refused by the hashing bound (503 + Retry-After with gatepass's own
-- description): a designed answer to overload, neither an error nor throughput.
refused = 0
-- Scenarios whose unit is not one request (the authorization code flow: authorize + token)
-- set `bench_units = true` and count right units in `flows`; their throughput is flows/s.
flows = 0
local REFUSAL = "too many logins in progress"

-- Count a response by status class; `ok_body` says whether a 2xx body is the right one.
function bench_count(status, headers, ok_body, body)
  if status >= 200 and status < 300 then
    n2xx = n2xx + 1
    if not ok_body then bad = bad + 1 end
  elseif status < 400 then
    n3xx = n3xx + 1
  elseif status < 500 then
    n4xx = n4xx + 1
  else
    n5xx = n5xx + 1
    if status == 503 then
      n503 = n503 + 1
      if headers["Retry-After"] or headers["retry-after"] then
        n503_retry_after = n503_retry_after + 1
        if body and string.find(body, REFUSAL, 1, true) then refused = refused + 1 end
      end
    end
  end
end

-- The lines of the file named by BENCH_DATA that belong to this thread (round robin).
function bench_thread_lines()
  local path = os.getenv("BENCH_DATA")
  local lines = {}
  if not path then return lines end
  local index = 0
  for line in io.lines(path) do
    if line ~= "" then
      if index % bench_nthreads == (tid - 1) then table.insert(lines, line) end
      index = index + 1
    end
  end
  return lines
end

-- The refresh token in a JSON token response, or nil (a pattern is enough: tokens are
-- base64url/JWT strings without quotes or escapes).
function bench_refresh_token(body)
  return string.match(body or "", '"refresh_token"%s*:%s*"([^"]+)"')
end

local function json_escape(s)
  return (string.gsub(s, '[%c"\\]', function(c) return string.format("\\u%04x", string.byte(c)) end))
end

function done(summary, latency, requests)
  local counters = {n2xx = 0, n3xx = 0, n4xx = 0, n5xx = 0, n503 = 0,
                    n503_retry_after = 0, bad = 0, starved = 0, refused = 0, flows = 0}
  for _, thread in ipairs(bench_threads) do
    for name, _ in pairs(counters) do
      counters[name] = counters[name] + (tonumber(thread:get(name)) or 0)
    end
  end
  local parts = {
    string.format('"requests":%d', summary.requests),
    string.format('"duration_us":%d', summary.duration),
    string.format('"bytes":%d', summary.bytes),
    string.format('"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}',
      summary.errors.connect, summary.errors.read, summary.errors.write,
      summary.errors.status, summary.errors.timeout),
    string.format('"latency_us":{"min":%d,"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d}',
      latency.min, latency.mean, latency.max, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency:percentile(99.9)),
    string.format('"counted":%s', bench_checked and "true" or "false"),
    string.format('"units":%s', bench_units and "true" or "false"),
    string.format('"script":"%s"', json_escape(os.getenv("BENCH_SCRIPT") or "")),
  }
  for name, value in pairs(counters) do
    table.insert(parts, string.format('"%s":%d', name, value))
  end
  io.write("BENCH_JSON {" .. table.concat(parts, ",") .. "}\n")
end
