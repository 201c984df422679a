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
local seen = {}
local fresh = 0
for j = 1, n do
  local id = ARGV[3 + (j - 1) * 6]
  if seen[id] or redis.call('EXISTS', job_key(id)) == 1 then
    out[j] = 0
  else
    seen[id] = true
    out[j] = 1
    fresh = fresh + 1
  end
end
if fresh == 0 then
  return out
end
-- One INCRBY hands out the creation sequence of the whole batch.
local seq = redis.call('INCRBY', KEYS[4], fresh) - fresh
local pending = {}
local ready = {}
if redis.call('ZCARD', KEYS[1]) == 0 then
  WAKE = true
end
for j = 1, n do
  if out[j] == 1 then
    local i = 3 + (j - 1) * 6
    local id, task, args, mr, pri, delay = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], tonumber(ARGV[i + 5])
    seq = seq + 1
    local key = job_key(id)
    if args == '' then
      redis.call('HSET', key, 't', task, 's', 'pending', 'm', mr, 'p', pri, 'q', seq, 'c', now, 'n', 0)
    else
      redis.call('HSET', key, 't', task, 's', 'pending', 'm', mr, 'p', pri, 'q', seq, 'c', now, 'n', 0, 'a', args)
    end
    pending[#pending + 1] = seq
    pending[#pending + 1] = id
    if delay > 0 then
      push_delayed(KEYS[2], now + delay, id)
    else
      ready[#ready + 1] = -tonumber(pri)
      ready[#ready + 1] = ready_member(seq, id)
    end
    event('E', id, task, '', 'pending', 0, now, delay)
  end
end
redis.call('ZADD', KEYS[3], unpack(pending))
if #ready > 0 then
  redis.call('ZADD', KEYS[1], unpack(ready))
else
  WAKE = false
end
flush()
return out
