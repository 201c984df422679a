#!lua
-- pause: no job starts while the key exists (claim checks it on every
-- call, so a pause reaches every process at its next claim); running jobs
-- finish, enqueue goes on.
-- KEYS[1] paused
-- ARGV[1] prefix
-- Returns 1 if it was running, 0 if already paused.
-- Event 'Z' (paused), with no job: id, task, from and to empty.
--@include "base.lua"
if redis.call('SET', KEYS[1], '1', 'NX') == false then
  return 0
end
event('Z', '', '', '', '', 0, now_ms())
flush()
return 1
