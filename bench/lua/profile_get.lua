-- wrk script: profile reads, GET <path>?user_id=<random user of the pool>,
-- keep-alive; the same user ids as profile_update.lua.
--   wrk -t1 -c64 -d20s -s bench/lua/profile_get.lua http://127.0.0.1:8082
-- Environment (all optional):
--   FICUS_BENCH_PATH   request path     (default /api/v2/profile/get)
--   FICUS_BENCH_USERS  user pool size   (default 100000)
--   FICUS_BENCH_RATE   paced requests/s of one wrk thread (bench/lua/pacing.lua)
-- Prints the same FICUS_BENCH line as profile_update.lua (a 404 counts in
-- errors_4xx_5xx: fill the pool first).

local path = os.getenv("FICUS_BENCH_PATH") or "/api/v2/profile/get"
local pool = tonumber(os.getenv("FICUS_BENCH_USERS") or "100000")
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local pacing = dofile(here .. "pacing.lua")
if pacing.enabled then delay = pacing.delay end

local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end

local function user_id(i)
  return string.format("%08x-0000-4000-8000-%012x", i, i * 2654435761 % 281474976710656)
end

-- One pre-formatted request per user, built in init (before the clock
-- starts): a random pick costs wrk's Lua next to nothing, so one wrk thread
-- can outrun the server.
local cache = {}
function request()
  return cache[math.random(1, pool)]
end

function init(args)
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
  for i = 1, pool do cache[i] = wrk.format("GET", path .. "?user_id=" .. user_id(i)) end
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
