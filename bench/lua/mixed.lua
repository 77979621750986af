-- The mixed profile: per request, a weighted random pick of 80 % forward-auth verify,
-- 15 % refresh (rotating, per-thread token queue as in refresh.lua), 4 % client_credentials
-- at /oauth/token and 1 % password login. Inputs: BENCH_DATA (refresh tokens),
-- BENCH_ACCESS (a bearer token), BENCH_BASIC (client Basic credentials), BENCH_LOGIN (the
-- password login's JSON body).
bench_checked = true
local access = "Bearer " .. (os.getenv("BENCH_ACCESS") or "")
local basic = "Basic " .. (os.getenv("BENCH_BASIC") or "")
local login = os.getenv("BENCH_LOGIN") or "{}"
local queue, head, tail = {}, 1, 0
local verify_req, cc_req, login_req

function init(args)
  for _, token in ipairs(bench_thread_lines()) do
    tail = tail + 1
    queue[tail] = token
  end
  math.randomseed(os.time() * 1000 + tid)
  verify_req = wrk.format("GET", "/auth/verify", {Authorization = access})
  cc_req = wrk.format("POST", "/oauth/token",
    {Authorization = basic, ["Content-Type"] = "application/x-www-form-urlencoded"},
    "grant_type=client_credentials")
  login_req = wrk.format("POST", "/auth/login", {["Content-Type"] = "application/json"}, login)
end

function request()
  local pick = math.random(100)
  if pick <= 80 then
    return verify_req
  elseif pick <= 95 then
    if head > tail then
      starved = starved + 1
      return verify_req
    end
    local token = queue[head]
    queue[head] = nil
    head = head + 1
    return wrk.format("POST", "/auth/refresh", {["Content-Type"] = "application/json"},
      '{"refresh_token":"' .. token .. '"}')
  elseif pick <= 99 then
    return cc_req
  end
  return login_req
end

function response(status, headers, body)
  -- Every kind answers 2xx when right; refresh and login answers carry a refresh token,
  -- which goes back into the queue (logins add sessions, as they would in production).
  local token = nil
  if status == 200 then token = bench_refresh_token(body) end
  bench_count(status, headers, true, body)
  if token then
    tail = tail + 1
    queue[tail] = token
  end
end
