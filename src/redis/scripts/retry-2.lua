#!lua
-- retry: failed | cancelled -> pending, by hand (queue.retry). The job goes
-- to the ready set and out of retention; its attempts keep counting, and it
-- gets a fresh budget of maxRetries: field 'o' keeps the attempts it had,
-- and every later retry decision (claim reply, fail, expire-leases) allows
-- attempts up to maxRetries + o. The cancel request, finish time and
-- progress of the ended run are cleared; its last error stays until the
-- next attempt ends; its stack and ended-while-pending mark go.
-- KEYS[1] ready
-- KEYS[2] done
-- ARGV[1] prefix
-- ARGV[2] job id
-- Returns 1 moved, 0 unknown or in another state.
-- Event 'T' (retried): from failed|cancelled, to pending, attempts so far.
--@include "base.lua"
--@include "dependencies.lua"
local id = ARGV[2]
local key = job_key(id)
local f = redis.call('HMGET', key, 's', 't', 'q', 'p', 'n')
if f[1] ~= 'failed' and f[1] ~= 'cancelled' then
  return 0
end
local now = now_ms()
local attempts = tonumber(f[5]) or 0
if not move(id, key, f[1], 'pending', f[3], 'o', attempts) then
  return 0
end
redis.call('HDEL', key, 'x', 'f', 'g', 'st', 'v')
redis.call('ZREM', KEYS[2], id)
if not deps_rehold(id, key, f[3], f[2], now) then
  push_ready(KEYS[1], f[3], f[4], id)
end
event('T', id, f[2], f[1], 'pending', attempts, now)
deps_fail_held(now)
flush()
return 1
