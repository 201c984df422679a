#!lua
-- complete: running -> completed, for a batch of finished attempts. Fenced:
-- only the attempt holding the lease may complete the job; a late answer
-- from an expired lease is refused. A job whose cancel was asked while it
-- ran ends cancelled instead. A job that held a slot of its task's
-- concurrency limit gives it back (includes/limits.lua).
-- KEYS[1] s:completed (the status indexes are written through move())
-- KEYS[2] s:cancelled
-- KEYS[3] leases
-- KEYS[4] done       sorted set of finished jobs, score = finish ms
-- ARGV[1] prefix
-- ARGV[2] the attempts, packed one after another (src/redis/packed.ts): id,
--         lease token, result (msgpack; empty for undefined, the result of
--         most jobs), duration ms
-- Returns N integers: 1 applied (or already applied by this attempt), 0 refused
-- (another attempt holds the job, or it is no longer running), 2 no such job
-- (deleted, or Redis lost its data), 3 the key is not a job hash (WRONGTYPE:
-- its lease is dropped, the value left alone).
--@include "base.lua"
--@include "limits.lua"
--@include "dependencies.lua"
-- msgpack of undefined as src/codec.ts writes it (fixext 1, type 0); the
-- Redis conformance tests read it back as undefined.
local UNDEFINED = '\212\0\0'
local now = now_ms()
local blob = ARGV[2]
local pos = 1
local j = 0
local out = {}
local unleased = {}
local done = {}
while pos <= #blob do
  local id, token, result, duration
  id, token, result, duration, pos = struct.unpack('>Hc0Hc0I4c0I4', blob, pos)
  j = j + 1
  if result == '' then
    result = UNDEFINED
  end
  local key = job_key(id)
  local f = job_fields(key, 's', 'w', 'x', 't', 'q', 'n', 'l', 'y')
  if f == nil then
    unleased[#unleased + 1] = id
    out[j] = 3
  elseif f[1] == 'running' and f[2] == token then
    -- 'l' remembers the attempt that ended, so a repeated call (its reply was
    -- lost) is recognised as applied rather than refused; 'w' no longer
    -- matches any token, which fences off everyone else.
    unleased[#unleased + 1] = id
    done[#done + 1] = now
    done[#done + 1] = id
    if f[3] == '1' then
      finish(id, key, 'running', 'cancelled', f[5], now, nil, 'l', token, 'w', '')
      event('X', id, f[4], 'running', 'cancelled', f[6], now)
      deps_finished(id, 'cancelled', now)
    else
      finish(id, key, 'running', 'completed', f[5], now, nil, 'l', token, 'w', '', 'r', result)
      event('C', id, f[4], 'running', 'completed', f[6], now, duration, result)
      deps_finished(id, 'completed', now)
    end
    if f[8] == '1' then
      release_slot(f[4], id)
    end
    out[j] = 1
  elseif f[7] == token then
    out[j] = 1
  elseif not f[1] then
    out[j] = 2
  else
    out[j] = 0
  end
end
if #unleased > 0 then
  redis.call('ZREM', KEYS[3], unpack(unleased))
end
if #done > 0 then
  redis.call('ZADD', KEYS[4], unpack(done))
end
flush()
return out
