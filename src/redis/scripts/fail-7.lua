#!lua
-- fail: running -> failed | pending (retry) | cancelled, for a batch of
-- attempts that did not succeed. Fenced like complete. A retry goes to the
-- ready set, or to the delayed set while its backoff runs; a job whose
-- cancel was asked ends cancelled, never retried. A job that held a slot
-- of its task's concurrency limit gives it back.
-- KEYS[1] ready
-- KEYS[2] delayed
-- KEYS[3] s:pending
-- KEYS[4] s:failed
-- KEYS[5] s:cancelled
-- KEYS[6] leases
-- KEYS[7] done
-- ARGV[1] prefix
-- ARGV[2] N, then N times:
--   id, lease token, kind ('f' failed, 'r' retry, 'c' stopped by cancel),
--   error message, error code, retry delay ms, duration ms, error stack
--   (written, as field 'st', only when the job ends failed: the stack is
--   for an operator debugging a failure, and retries stay as light as before)
-- Returns N integers: 1 applied (or already applied by this attempt), 0 refused
-- (another attempt holds the job), 2 no such job, 3 not a job hash (WRONGTYPE:
-- its lease is dropped), as complete.
--@include "base.lua"
--@include "limits.lua"
--@include "dependencies.lua"
local now = now_ms()
local n = tonumber(ARGV[2])
local out = {}
for j = 1, n do
  local i = 3 + (j - 1) * 8
  local id, token, kind, err, code, delay, duration, stack =
    ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], tonumber(ARGV[i + 5]), ARGV[i + 6],
    ARGV[i + 7]
  local key = job_key(id)
  local f = job_fields(key, 's', 'w', 'x', 't', 'q', 'n', 'm', 'p', 'l', 'o', 'y', 'hd')
  if f == nil then
    redis.call('ZREM', KEYS[6], id)
    out[j] = 3
  elseif f[1] == 'running' and f[2] == token then
    redis.call('HSET', key, 'l', token, 'w', '')
    redis.call('ZREM', KEYS[6], id)
    local attempts = num(f[6])
    -- No retry is left once attempts exceed maxRetries (counted from the
    -- last retry by hand, field 'o'), whatever the caller thought.
    if kind == 'r' and attempts > num(f[7]) + num(f[10]) then
      kind = 'f'
    end
    if f[3] == '1' or kind == 'c' then
      finish(id, key, 'running', 'cancelled', f[5], now, KEYS[7])
      event('X', id, f[4], 'running', 'cancelled', attempts, now)
      deps_finished(id, 'cancelled', now, f[12] or '')
    elseif kind == 'r' then
      move(id, key, 'running', 'pending', f[5], 'e', err, 'k', code)
      if num(delay) > 0 then
        push_delayed(KEYS[2], now + delay, id)
      else
        push_ready(KEYS[1], f[5], f[8], id)
      end
      event('R', id, f[4], 'running', 'pending', attempts, now, err, code, delay)
    else
      finish(id, key, 'running', 'failed', f[5], now, KEYS[7], 'e', err, 'k', code)
      if stack ~= '' then
        redis.call('HSET', key, 'st', stack)
      end
      event('F', id, f[4], 'running', 'failed', attempts, now, err, code, duration)
      deps_finished(id, 'failed', now, f[12] or '')
    end
    if f[11] == '1' then
      release_slot(f[4], id)
    end
    out[j] = 1
  elseif f[9] == token then
    out[j] = 1
  elseif not f[1] then
    out[j] = 2
  else
    out[j] = 0
  end
end
flush()
return out
