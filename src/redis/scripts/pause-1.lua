#!lua
-- pause: no job starts while the key exists (claim checks it on every
-- call, so a pause reaches every process at its next claim); running jobs
-- finish, enqueue goes on.
-- KEYS[1] paused
-- ARGV[1] prefix
-- Returns 1 if it was running, 0 if already paused.
-- Publishes 'p' on the control channel: workers hand back what they prefetched.
-- Event 'Z' (paused), with no job: id, task, from and to empty.
--@include "base.lua"
if redis.call('SET', KEYS[1], '1', 'NX') == false then
  return 0
end
event('Z', '', '', '', '', 0, now_ms())
flush()
-- Workers give back the jobs they claimed ahead and have not started.
redis.call('PUBLISH', PREFIX .. 'control', 'p')
return 1
