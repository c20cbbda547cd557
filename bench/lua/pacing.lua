-- Constant-rate pacing for wrk (Debian has no wrk2), shared by the ficus
-- bench scripts:  local pacing = dofile(".../pacing.lua"); delay = pacing.delay
-- FICUS_BENCH_RATE = target requests/s of ONE wrk thread (run wrk -t1).
--
-- Method: a schedule of send slots every 1/RATE s is shared by the thread's
-- connections. When a connection is ready (connected, or its previous
-- response is complete), wrk calls delay(); it claims the next free slot and
-- waits until then. So requests leave at RATE as long as some connection is
-- idle (open loop over a connection pool, like wrk2), and wrk's latency
-- histogram still measures send -> response of each request. If the server
-- falls behind by more than 5 ms the schedule restarts from now rather than
-- bursting to catch up: the achieved rate then drops below RATE, which the
-- bench reports (requests/s achieved vs target) - a saturated run shows up as
-- a shortfall instead of hidden queueing (wrk2 would instead add the missed
-- time to latency; this script under-reports latency only in that case).
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } ficus_timespec;
  int clock_gettime(int clk_id, ficus_timespec *tp);
]]
local ts = ffi.new("ficus_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local M = {}
local rate = tonumber(os.getenv("FICUS_BENCH_RATE") or "")
M.enabled = rate ~= nil and rate > 0
local interval = M.enabled and 1000 / rate or 0
local next_slot = nil

function M.delay()
  local now = now_ms()
  if next_slot == nil or next_slot < now - 5 then next_slot = now end
  local wait = next_slot - now
  next_slot = next_slot + interval
  return math.floor(wait + 0.5)
end

return M
