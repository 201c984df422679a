-- enqueue: (new) -> pending, for a batch of jobs. A job id that exists is
-- left alone (idempotent enqueue with your own id).
-- KEYS[1] ready      sorted set of runnable jobs
-- KEYS[2] delayed    sorted set, score = ms when the job may run
-- KEYS[3] s:pending  status index, score = creation sequence
-- KEYS[4] seq        creation sequence counter
-- ARGV[1] prefix
-- ARGV[2] number of jobs N, then N times:
--   id, task, args (msgpack, '' for none), maxRetries, priority, delayMs
-- Returns N integers: 1 stored, 0 already existed.
--@include "base.lua"
local now = now_ms()
local n = tonumber(ARGV[2])
local out = {}
local i = 3
for j = 1, n do
  local id, task, args, mr, pri, delay = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], tonumber(ARGV[i + 5])
  i = i + 6
  local key = job_key(id)
  if redis.call('EXISTS', key) == 1 then
    out[j] = 0
  else
    local seq = redis.call('INCR', KEYS[4])
    if args == '' then
      redis.call('HSET', key, 't', task, 's', 'pending', 'm', mr, 'p', pri, 'q', seq, 'c', now, 'n', 0)
    else
      redis.call('HSET', key, 't', task, 's', 'pending', 'm', mr, 'p', pri, 'q', seq, 'c', now, 'n', 0, 'a', args)
    end
    redis.call('ZADD', KEYS[3], seq, id)
    if delay > 0 then
      push_delayed(KEYS[2], now + delay, id)
    else
      push_ready(KEYS[1], seq, pri, id)
    end
    event('E', id, task, '', 'pending', 0, now, delay)
    out[j] = 1
  end
end
flush()
return out
