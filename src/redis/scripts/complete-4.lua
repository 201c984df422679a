-- complete: running -> completed, for a batch of finished attempts. Fenced:
-- only the attempt holding the lease may complete the job; a late answer
-- from an expired lease is refused. A job whose cancel was asked while it
-- ran ends cancelled instead.
-- KEYS[1] s:completed
-- KEYS[2] s:cancelled
-- KEYS[3] leases
-- KEYS[4] done       sorted set of finished jobs, score = finish ms
-- ARGV[1] prefix
-- ARGV[2] N, then N times: id, lease token, result (msgpack), duration ms
-- Returns N integers: 1 applied (or already applied by this attempt), 0 refused.
--@include "base.lua"
local now = now_ms()
local n = tonumber(ARGV[2])
local out = {}
local unleased = {}
local completed = {}
local done = {}
for j = 1, n do
  local i = 3 + (j - 1) * 4
  local id, token, result, duration = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local key = job_key(id)
  local f = redis.call('HMGET', key, 's', 'w', 'x', 't', 'q', 'n', 'l')
  if f[1] == 'running' and f[2] == token then
    -- 'l' remembers the attempt that ended, so a repeated call (its reply was
    -- lost) is recognised as applied rather than refused; 'w' no longer
    -- matches any token, which fences off everyone else.
    unleased[#unleased + 1] = id
    done[#done + 1] = now
    done[#done + 1] = id
    if f[3] == '1' then
      redis.call('HSET', key, 'l', token, 'w', '', 's', 'cancelled', 'f', now)
      redis.call('ZADD', KEYS[2], f[5], id)
      event('X', id, f[4], 'running', 'cancelled', f[6], now)
    else
      redis.call('HSET', key, 'l', token, 'w', '', 's', 'completed', 'f', now, 'r', result)
      completed[#completed + 1] = f[5]
      completed[#completed + 1] = id
      event('C', id, f[4], 'running', 'completed', f[6], now, duration, result)
    end
    out[j] = 1
  elseif f[7] == token then
    out[j] = 1
  else
    out[j] = 0
  end
end
if #unleased > 0 then
  redis.call('ZREM', KEYS[3], unpack(unleased))
  redis.call('ZADD', KEYS[4], unpack(done))
end
if #completed > 0 then
  redis.call('ZADD', KEYS[1], unpack(completed))
end
flush()
return out
