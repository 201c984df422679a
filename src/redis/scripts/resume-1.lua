#!lua
-- resume: ends a pause, and wakes every worker (control 'w') so idle ones
-- claim at once rather than at their next poll.
-- KEYS[1] paused
-- ARGV[1] prefix
-- Returns 1 if it was paused, 0 otherwise.
-- Event 'U' (resumed), with no job: id, task, from and to empty.
--@include "base.lua"
if redis.call('DEL', KEYS[1]) == 0 then
  return 0
end
WAKE = true
event('U', '', '', '', '', 0, now_ms())
flush()
return 1
