-- wrk script: profile updates against the legacy (v1) or new (v2) endpoint.
--   wrk -t1 -c16 -d20s -s bench/lua/profile_update.lua http://127.0.0.1:8081
-- Environment (all optional):
--   FICUS_BENCH_PATH   request path      (default /api/v1/profile/update;
--                                          /api/v2/profile/update for the writer)
--   FICUS_BENCH_USERS  user pool size    (default 100000)
--   FICUS_BENCH_ATTRS  attributes/update (default 3)
--   FICUS_BENCH_RATE   paced requests/s of one wrk thread (bench/lua/pacing.lua);
--                      unset: closed loop, each connection sends when answered
--   FICUS_BENCH_SEQUENTIAL=1  users 1, 2, 3, ... (wrapping) instead of random:
--                      fills the whole pool (bench/writer/run.sh warm-up)
--   FICUS_BENCH_PREGEN=N  build N random requests at start and send random
--                      picks of them: the same user/attribute mix at a fraction
--                      of wrk's per-request Lua cost (bench/writer/run.sh, so
--                      the single wrk thread is not the bottleneck)
-- Each request: POST, keep-alive, Content-Type: application/json, a random
-- user from the pool (UUIDs derived from the index, so runs share users) and
-- N distinct random keys out of 16 with random values.
-- At the end it prints one machine-readable line:
--   FICUS_BENCH requests=.. duration_s=.. rps=.. p50_ms=.. p90_ms=.. p99_ms=.. max_ms=.. errors_4xx_5xx=.. socket_errors=..

local path = os.getenv("FICUS_BENCH_PATH") or "/api/v1/profile/update"
local pool = tonumber(os.getenv("FICUS_BENCH_USERS") or "100000")
local nattrs = tonumber(os.getenv("FICUS_BENCH_ATTRS") or "3")
local keys = {"plan", "locale", "nickname", "theme", "timezone", "country", "avatar", "bio",
              "newsletter", "lang", "currency", "status", "level", "badge", "referrer", "device"}
local headers = {["Content-Type"] = "application/json"}
local sequential = os.getenv("FICUS_BENCH_SEQUENTIAL") == "1"
local next_user = 0
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local pacing = dofile(here .. "pacing.lua")
if pacing.enabled then delay = pacing.delay end

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end



local function user_id(i)
  return string.format("%08x-0000-4000-8000-%012x", i, i * 2654435761 % 281474976710656)
end

local function build()
  local n
  if sequential then
    next_user = next_user % pool + 1
    n = next_user
  else
    n = math.random(1, pool)
  end
  local u = user_id(n)
  -- pick nattrs distinct keys (partial Fisher-Yates over a copy)
  local idx = {}
  for i = 1, #keys do idx[i] = i end
  local parts = {}
  for n = 1, nattrs do
    local j = math.random(n, #idx)
    idx[n], idx[j] = idx[j], idx[n]
    parts[n] = string.format('"%s":"v%d"', keys[idx[n]], math.random(0, 999999))
  end
  local body = '{"user_id":"' .. u .. '","attributes":{' .. table.concat(parts, ",") .. '}}'
  return wrk.format("POST", path, headers, body)
end

local pregen = sequential and 0 or tonumber(os.getenv("FICUS_BENCH_PREGEN") or "0")
local cache = {}

function request()
  if pregen <= 0 then return build() end
  return cache[math.random(1, pregen)]
end

function init(args)
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
  for i = 1, pregen do cache[i] = build() end  -- before the clock starts
end

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "FICUS_BENCH requests=%d duration_s=%.2f rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f errors_4xx_5xx=%d socket_errors=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.status, e.connect + e.read + e.write + e.timeout))
end
