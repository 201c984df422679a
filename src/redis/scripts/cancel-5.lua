#!lua
-- cancel: pending -> cancelled at once; for a running job, records the
-- request and tells the worker that holds it (its signal aborts; it answers
-- through fail or complete, which then end the job cancelled; if it died,
-- expire-leases does).
-- KEYS[1] ready (the fifo list is PREFIX .. 'fifo', see base.lua)
-- KEYS[2] delayed
-- KEYS[3] s:pending
-- KEYS[4] s:cancelled
-- KEYS[5] done
-- ARGV[1] prefix
-- ARGV[2] job id
-- Returns 0 unknown or finished, 1 cancelled, 2 cancel asked of a running job.
--@include "base.lua"
--@include "dependencies.lua"
local id = ARGV[2]
local key = job_key(id)
local f = redis.call('HMGET', key, 's', 't', 'q', 'n')
if f[1] == 'pending' then
  local now = now_ms()
  redis.call('ZREM', KEYS[1], ready_member(f[3], id))
  redis.call('ZREM', KEYS[2], id)
  -- Parked by its task's limits (includes/limits.lua)? Then it waits there.
  redis.call('ZREM', PREFIX .. 'wait:' .. (f[2] or ''), ready_member(f[3], id))
  -- Or its place is the fifo list (base.lua): that entry is left stale.
  forget_fifo(id)
  -- 'v': it ended while pending, so no attempt's duration applies.
  finish(id, key, 'pending', 'cancelled', f[3], now, KEYS[5], 'v', '1')
  event('X', id, f[2], 'pending', 'cancelled', num(f[4]), now)
  deps_forget(id)
  deps_finished(id, 'cancelled', now)
  flush()
  return 1
elseif f[1] == 'running' then
  redis.call('HSET', key, 'x', '1')
  CANCELS[1] = id
  flush()
  return 2
end
return 0
