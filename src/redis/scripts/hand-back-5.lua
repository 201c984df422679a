#!lua
-- hand-back: running -> pending at once, for jobs a stopping worker will not
-- finish (or that never started on a thread). The attempt is not counted (it
-- did not fail), and no lease has to run out first. A job whose cancel was
-- asked ends cancelled. A slot of the task's concurrency limit held by the
-- job is given back (its rate-limit start stays counted).
-- KEYS[1] ready
-- KEYS[2] s:pending
-- KEYS[3] s:cancelled
-- KEYS[4] leases
-- KEYS[5] done
-- ARGV[1] prefix
-- ARGV[2] N, then N times: id, lease token
-- Returns N integers: 1 handed back (or cancelled), 0 refused (lease lost),
-- 2 no such job, 3 not a job hash (WRONGTYPE: its lease is dropped).
--@include "base.lua"
--@include "limits.lua"
--@include "dependencies.lua"
local now = now_ms()
local n = tonumber(ARGV[2])
local out = {}
for j = 1, n do
  local i = 3 + (j - 1) * 2
  local id, token = ARGV[i], ARGV[i + 1]
  local key = job_key(id)
  local f = job_fields(key, 's', 'w', 'x', 't', 'q', 'n', 'p', 'y')
  if f == nil then
    redis.call('ZREM', KEYS[4], id)
    out[j] = 3
  elseif f[1] == 'running' and f[2] == token then
    redis.call('ZREM', KEYS[4], id)
    if f[3] == '1' then
      finish(id, key, 'running', 'cancelled', f[5], now, KEYS[5], 'l', token, 'w', '')
      event('X', id, f[4], 'running', 'cancelled', f[6], now)
      deps_finished(id, 'cancelled', now)
    else
      local attempts = math.max(0, num(f[6]) - 1)
      move(id, key, 'running', 'pending', f[5], 'l', token, 'w', '', 'n', attempts)
      push_ready(KEYS[1], f[5], f[7], id)
      event('B', id, f[4], 'running', 'pending', attempts, now)
    end
    if f[8] == '1' then
      release_slot(f[4], id)
    end
    out[j] = 1
  elseif not f[1] then
    out[j] = 2
  else
    out[j] = 0
  end
end
flush()
return out
