#!lua
-- claim-firings: the compare-and-set half of ScheduleStore.claimDue. Lua
-- cannot read cron, so the caller read the due schedules, computed each
-- one's next tick with croner, and asks here to move each from the tick it
-- saw to the next. Only a caller that still sees the tick it read wins it:
-- of many processes that read the same due schedule, exactly one does.
-- KEYS[1] schedules         sorted set, score = ms of the next tick
-- KEYS[2] schedule-firings  sorted set, score = ms claimed, member = job id
-- ARGV[1] prefix
-- ARGV[2] now (ms, the caller's clock; it is also what the next ticks were computed from)
-- ARGV[3] N, then N times 4 fields:
--   'f', schedule id, tick seen (ms), next tick (ms): claim a due tick; its
--        firing, job id 'sched:<id>:<tick>', goes in flight;
--   'r', firing job id, claimed-at seen (ms), '': take over a firing whose
--        claimer left it in flight too long.
-- Returns N integers: 1 won, 0 lost (someone else moved it first).
--@include "base.lua"
local now = ARGV[2]
local n = tonumber(ARGV[3])
local out = {}
for j = 1, n do
  local i = 4 + (j - 1) * 4
  local kind, a, seen, next_run = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3]
  out[j] = 0
  if kind == 'f' then
    local cur = redis.call('ZSCORE', KEYS[1], a)
    if cur and tonumber(cur) == seen then
      redis.call('ZADD', KEYS[1], next_run, a)
      redis.call('HSET', PREFIX .. 'schedule:' .. a, 'n', next_run)
      redis.call('ZADD', KEYS[2], now, 'sched:' .. a .. ':' .. ARGV[i + 2])
      out[j] = 1
    end
  else
    local cur = redis.call('ZSCORE', KEYS[2], a)
    if cur and tonumber(cur) == seen then
      redis.call('ZADD', KEYS[2], now, a)
      out[j] = 1
    end
  end
end
return out
