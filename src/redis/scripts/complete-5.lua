-- complete: running -> completed, for a batch of finished attempts. Fenced:
-- only the attempt holding the lease may complete the job; a late answer
-- from an expired lease is refused. A job whose cancel was asked while it
-- ran ends cancelled instead.
-- KEYS[1] s:running
-- KEYS[2] s:completed
-- KEYS[3] s:cancelled
-- KEYS[4] leases
-- KEYS[5] done       sorted set of finished jobs, score = finish ms
-- ARGV[1] prefix
-- ARGV[2] N, then N times: id, lease token, result (msgpack), duration ms
-- Returns N integers: 1 applied (or already applied by this attempt), 0 refused.
--@include "base.lua"
local now = now_ms()
local n = tonumber(ARGV[2])
local out = {}
local i = 3
for j = 1, n do
  local id, token, result, duration = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  i = i + 4
  local key = job_key(id)
  local f = redis.call('HMGET', key, 's', 'w', 'x', 't', 'q', 'n', 'l')
  if f[1] == 'running' and f[2] == token then
    -- 'l' remembers the attempt that ended, so a repeated call (its reply was
    -- lost) is recognised as applied rather than refused.
    redis.call('HSET', key, 'l', token)
    redis.call('HDEL', key, 'w')
    redis.call('ZREM', KEYS[4], id)
    if f[3] == '1' then
      finish(id, key, 'running', 'cancelled', f[5], now, KEYS[5])
      event('X', id, f[4], 'running', 'cancelled', f[6], now)
    else
      finish(id, key, 'running', 'completed', f[5], now, KEYS[5])
      redis.call('HSET', key, 'r', result)
      event('C', id, f[4], 'running', 'completed', f[6], now, duration, result)
    end
    out[j] = 1
  elseif f[7] == token then
    out[j] = 1
  else
    out[j] = 0
  end
end
flush()
return out
