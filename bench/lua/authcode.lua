-- The authorization code flow: one unit is authorize (GET with the signed-in browser's
-- cookie → 302/303, `code` and `state` in Location) then token (POST with the code, the PKCE
-- code_verifier, the redirect URI and client_secret_basic → 200 with access_token and
-- id_token). wrk has no per-connection state, so each thread keeps a queue of the codes its
-- authorize answers carried: request() redeems the oldest code when there is one and asks for
-- a new code otherwise; as wrk sends a connection's next request right after reading its
-- answer, every connection alternates authorize, token, authorize, ...
--
-- Each flow uses the next PKCE pair of this thread's share of BENCH_DATA (lines `verifier
-- challenge`); its index travels as `state`, which the server hands back with the code.
-- Inputs: BENCH_AUTHORIZE_PATH, BENCH_TOKEN_PATH, BENCH_CLIENT_ID, BENCH_REDIRECT_URI,
-- BENCH_SCOPE, BENCH_COOKIE (the sign-in cookie header value), BENCH_AUTH (Basic ...).
--
-- Counted: `flows`, the token answers that were right (the unit of throughput); `bad`, every
-- wrong answer (an authorize answer without a code or with a foreign state, a token answer
-- that is not 200 with both tokens). A flow that is cut by the end of the run is neither.
bench_checked = true
bench_units = true


local authorize_path = os.getenv("BENCH_AUTHORIZE_PATH") or "/oauth/authorize"
local token_path = os.getenv("BENCH_TOKEN_PATH") or "/oauth/token"
local client_id = os.getenv("BENCH_CLIENT_ID") or ""
local redirect_uri = os.getenv("BENCH_REDIRECT_URI") or ""
local scope = os.getenv("BENCH_SCOPE") or "openid"
local cookie = os.getenv("BENCH_COOKIE") or ""
local basic = os.getenv("BENCH_AUTH") or ""

-- application/x-www-form-urlencoded / query encoding of one value
function bench_urlencode(s)
  return (string.gsub(s, "[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

-- The value of `name` in the query of a URL, or nil.
function bench_query_param(url, name)
  return string.match(url, "[?&]" .. name .. "=([^&#]*)")
end

-- A response header by name, whatever its case (wrk hands them over as sent).
function bench_header(headers, name)
  local value = headers[name]
  if value then return value end
  local wanted = string.lower(name)
  for key, v in pairs(headers) do
    if string.lower(key) == wanted then return v end
  end
  return nil
end

local verifiers, authorizes = {}, {}
local next_pair = 0
local codes, head, tail = {}, 1, 0
local redirect_prefix = redirect_uri .. "?"
local encoded_redirect = bench_urlencode(redirect_uri)
local token_headers

function init(args)
  for _, line in ipairs(bench_thread_lines()) do
    local verifier, challenge = string.match(line, "^(%S+)%s+(%S+)$")
    if verifier then
      table.insert(verifiers, verifier)
      local state = tostring(#verifiers)
      local query = "response_type=code&client_id=" .. bench_urlencode(client_id)
        .. "&redirect_uri=" .. encoded_redirect .. "&scope=" .. bench_urlencode(scope)
        .. "&state=" .. state .. "&nonce=n" .. state
        .. "&code_challenge=" .. challenge .. "&code_challenge_method=S256"
      table.insert(authorizes, wrk.format("GET", authorize_path .. "?" .. query, {Cookie = cookie}))
    end
  end
  token_headers = {Authorization = basic, ["Content-Type"] = "application/x-www-form-urlencoded"}
end

function request()
  if head <= tail then
    local item = codes[head]
    codes[head] = nil
    head = head + 1
    -- The code goes back as it came: already encoded, as query and form encode alike.
    local body = "grant_type=authorization_code&code=" .. item[1]
      .. "&redirect_uri=" .. encoded_redirect .. "&code_verifier=" .. verifiers[item[2]]
    return wrk.format("POST", token_path, token_headers, body)
  end
  if #authorizes == 0 then
    starved = starved + 1  -- no PKCE pairs for this thread: a provisioning fault
    return wrk.format("GET", authorize_path)
  end
  next_pair = next_pair % #authorizes + 1
  return authorizes[next_pair]
end

-- What an answer means for the flow: "code" (with the code and its pair's index), "tokens",
-- or "bad".
function bench_flow_answer(status, headers, body)
  if status == 302 or status == 303 then
    local location = bench_header(headers, "Location") or ""
    if string.sub(location, 1, #redirect_prefix) ~= redirect_prefix then return "bad" end
    local code = bench_query_param(location, "code")
    local index = tonumber(bench_query_param(location, "state") or "")
    if not code or code == "" or not index or not verifiers[index] then return "bad" end
    return "code", code, index
  end
  if status == 200 and string.find(body or "", '"access_token"%s*:%s*"')
      and string.find(body, '"id_token"%s*:%s*"') then
    return "tokens"
  end
  return "bad"
end

function response(status, headers, body)
  bench_count(status, headers, true, body)
  local kind, code, index = bench_flow_answer(status, headers, body)
  if kind == "code" then
    tail = tail + 1
    codes[tail] = {code, index}
  elseif kind == "tokens" then
    flows = flows + 1
  else
    bad = bad + 1
  end
end
