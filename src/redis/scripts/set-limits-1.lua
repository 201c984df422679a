#!lua
-- set-limits: stores the per-task limits every claimer applies
-- (includes/limits.lua), and makes parked jobs of those tasks due at the
-- next claim so a changed limit takes effect at once.
-- KEYS[1] limits
-- ARGV[1] prefix
-- ARGV[2] N, then N times: task, '<concurrency>:<max>:<intervalMs>' or '' for none
-- Returns 0.
--@include "base.lua"
local n = tonumber(ARGV[2])
for j = 0, n - 1 do
  local task, spec = ARGV[3 + j * 2], ARGV[4 + j * 2]
  if spec == '' then
    redis.call('HDEL', KEYS[1], task)
  else
    redis.call('HSET', KEYS[1], task, spec)
  end
  if redis.call('ZADD', PREFIX .. 'throttled', 'XX', 'CH', 0, task) == 1 then
    WAKE = true
  end
end
flush()
return 0
