#!lua
-- expire-leases: running -> pending | failed | cancelled for jobs whose lease
-- ran out (their worker died, hung or lost Redis). The attempt counts: with
-- no retry left the job fails with ERR_LEASE_EXPIRED; a job whose cancel was
-- asked ends cancelled. The lease token is cleared, so the old holder's late
-- answer is refused. A slot of the task's concurrency limit held by the
-- job is given back.
-- KEYS[1] leases
-- KEYS[2] ready
-- KEYS[3] s:pending
-- KEYS[4] s:failed
-- KEYS[5] s:cancelled
-- KEYS[6] done
-- KEYS[7] delayed
-- ARGV[1] prefix
-- ARGV[2] most leases to expire in this call
-- Returns { number expired, then the ids }. A lease whose key is not a job
-- hash (WRONGTYPE) is dropped, the value left alone; it is not counted.
--@include "base.lua"
--@include "limits.lua"
--@include "dependencies.lua"
local now = now_ms()
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
local out = { 0 }
local msg = 'the lease of the attempt expired (its worker died, stalled or lost Redis)'
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  local key = job_key(id)
  local f = job_fields(key, 's', 'x', 't', 'q', 'n', 'm', 'p', 'o', 'y') or {}
  if f[1] == 'running' then
    local attempts = num(f[5])
    if f[2] == '1' then
      finish(id, key, 'running', 'cancelled', f[4], now, KEYS[6], 'w', '')
      event('X', id, f[3], 'running', 'cancelled', attempts, now)
      deps_finished(id, 'cancelled', now)
    elseif attempts > num(f[6]) + num(f[8]) then
      finish(id, key, 'running', 'failed', f[4], now, KEYS[6], 'w', '', 'e', msg, 'k', 'ERR_LEASE_EXPIRED')
      event('F', id, f[3], 'running', 'failed', attempts, now, msg, 'ERR_LEASE_EXPIRED', '')
      deps_finished(id, 'failed', now)
    else
      move(id, key, 'running', 'pending', f[4], 'w', '', 'e', msg, 'k', 'ERR_LEASE_EXPIRED')
      push_ready(KEYS[2], f[4], f[7], id)
      event('R', id, f[3], 'running', 'pending', attempts, now, msg, 'ERR_LEASE_EXPIRED', 0)
    end
    if f[9] == '1' then
      release_slot(f[3], id)
    end
    out[1] = out[1] + 1
    out[#out + 1] = id
  end
end
flush()
return out
