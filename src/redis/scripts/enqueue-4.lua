-- enqueue: (new) -> pending, for a batch of jobs. A job id that exists is
-- left alone (idempotent enqueue with your own id).
-- KEYS[1] ready      sorted set of runnable jobs
-- KEYS[2] delayed    sorted set, score = ms when the job may run
-- KEYS[3] s:pending  status index, score = creation sequence
-- KEYS[4] seq        creation sequence counter
-- ARGV[1] prefix
-- ARGV[2] the jobs, packed one after another (src/redis/packed.ts): id,
--         task, args (msgpack, empty for none), maxRetries, priority, delayMs
-- ARGV[3] optional: the dependencies of the jobs that have some (includes/dependencies.lua)
-- Returns N integers: 1 stored, 0 already existed; or, for a job refused
-- because a dependency does not exist, that dependency's id (a string).
--@include "base.lua"
--@include "dependencies.lua"
deps_parse(ARGV[3])
local now = now_ms()
-- The jobs' fields, six per job, read once.
local J = {}
local blob = ARGV[2]
local pos = 1
while pos <= #blob do
  local id, task, args, mr, pri, delay
  id, task, args, mr, pri, delay, pos = struct.unpack('>Hc0I4c0I4c0I4i4d', blob, pos)
  local i = #J
  J[i + 1], J[i + 2], J[i + 3], J[i + 4], J[i + 5], J[i + 6] = id, task, args, mr, pri, delay
end
local n = #J / 6
local out = {}
local seen = {}
local fresh = 0
for j = 1, n do
  local id = J[1 + (j - 1) * 6]
  if seen[id] or redis.call('EXISTS', job_key(id)) == 1 then
    out[j] = 0
  elseif deps_missing(id, seen) then
    out[j] = DEPS_MISSING
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
    local i = 1 + (j - 1) * 6
    local id, task, args, mr, pri, delay = J[i], J[i + 1], J[i + 2], J[i + 3], J[i + 4], J[i + 5]
    seq = seq + 1
    local key = job_key(id)
    if args == '' then
      redis.call('HSET', key, 't', task, 's', 'pending', 'm', mr, 'p', pri, 'q', seq, 'c', now, 'n', 0)
    else
      redis.call('HSET', key, 't', task, 's', 'pending', 'm', mr, 'p', pri, 'q', seq, 'c', now, 'n', 0, 'a', args)
    end
    pending[#pending + 1] = seq
    pending[#pending + 1] = id
    if deps_hold(id, key, seq, task, now, delay) then
      -- Waits for its dependencies (or one failed already): not runnable yet.
    elseif delay > 0 then
      push_delayed(KEYS[2], now + delay, id)
    else
      ready[#ready + 1] = -pri
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
deps_fail_held(now)
flush()
return out
