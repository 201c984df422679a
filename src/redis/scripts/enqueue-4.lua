#!lua
-- enqueue: (new) -> pending, for a batch of jobs. A job id that exists is
-- left alone (idempotent enqueue with your own id). A job with a dedupe key
-- is not stored while the job that holds the key is pending or running, or
-- within the key's ttl of that job's creation: the caller gets that job's id.
-- KEYS[1] ready      sorted set of runnable jobs (fresh ones of priority 0
--                    go to the list PREFIX .. 'fifo' instead, and into no
--                    status index, see base.lua)
-- KEYS[2] delayed    sorted set, score = ms when the job may run
-- KEYS[3] s:pending  status index, score = creation sequence
-- KEYS[4] seq        creation sequence counter
-- ARGV[1] prefix
-- ARGV[2] the jobs, packed one after another (src/redis/packed.ts): id,
--         task, args (msgpack, empty for none), maxRetries, priority,
--         delayMs, timeoutMs (0: the task's), dedupe key (empty for none),
--         dedupe ttl ms
-- ARGV[3] optional: the dependencies of the jobs that have some (includes/dependencies.lua)
-- Returns N values: 1 stored, 0 already existed, or the id (a string) of the
-- job its dedupe key led to (nothing stored), or '!' and the id of a
-- dependency that does not exist (nothing stored).
-- The key 'dedupe:<key>' holds '<ttl ms>:<job id>'. It has no expiry while
-- the job exists (retention gives it one for the rest of its ttl, see trim);
-- a later job with the key takes it over once the holder has finished and
-- its ttl has passed.
--@include "base.lua"
--@include "dependencies.lua"
deps_parse(ARGV[3])
local now = now_ms()
-- The jobs' fields, ten per job, read once.
local W = 10
local J = {}
local blob = ARGV[2]
local pos = 1
while pos <= #blob do
  local id, task, args, mr, pri, delay, timeout, dkey, dttl, tc
  id, task, args, mr, pri, delay, timeout, dkey, dttl, tc, pos = struct.unpack('>Hc0I4c0I4c0I4i4dI4Hc0dI4c0', blob, pos)
  local i = #J
  J[i + 1], J[i + 2], J[i + 3], J[i + 4], J[i + 5], J[i + 6], J[i + 7], J[i + 8], J[i + 9], J[i + 10] =
    id, task, args, mr, pri, delay, timeout, dkey, dttl, tc
end
local n = #J / W

-- The id a dedupe key leads to, or nil when it is free for a new job.
local claimedKeys = {}
local function dedupe_holder(dk)
  local mine = claimedKeys[dk]
  if mine then
    return mine
  end
  local v = redis.call('GET', dk)
  if not v then
    return nil
  end
  local ttl, holder = string.match(v, '^(%d+):(.*)$')
  if not holder then
    return nil
  end
  -- A holder key of another type (WRONGTYPE) counts as gone.
  local h = job_fields(job_key(holder), 's', 'c') or {}
  if h[1] == false or h[1] == nil then
    -- Deleted by retention within its ttl (trim left the key to expire then).
    return holder
  end
  if h[1] == 'pending' or h[1] == 'running' or now - num(h[2]) < num(ttl) then
    return holder
  end
  return nil
end

local out = {}
local seen = {}
local fresh = 0
for j = 1, n do
  local i = (j - 1) * W
  local id, dkey = J[i + 1], J[i + 8]
  if seen[id] or redis.call('EXISTS', job_key(id)) == 1 then
    out[j] = 0
  elseif deps_missing(id, seen) then
    out[j] = '!' .. DEPS_MISSING
  else
    local holder = nil
    if dkey ~= '' then
      local dk = PREFIX .. 'dedupe:' .. dkey
      holder = dedupe_holder(dk)
      if holder == nil then
        claimedKeys[dk] = id
        redis.call('SET', dk, int(J[i + 9]) .. ':' .. id)
      end
    end
    if holder then
      out[j] = holder
    else
      seen[id] = true
      out[j] = 1
      fresh = fresh + 1
    end
  end
end
if fresh == 0 then
  return out
end
-- One INCRBY hands out the creation sequence of the whole batch.
local seq = redis.call('INCRBY', KEYS[4], fresh) - fresh
local ready = {}
-- Fresh jobs of priority 0 go to the fifo list (see base.lua), ids only.
local fifo = {}
if ready_empty(KEYS[1]) then
  WAKE = true
end
for j = 1, n do
  if out[j] == 1 then
    local i = (j - 1) * W
    local id, task, args, mr, pri, delay, timeout, dkey, tc =
      J[i + 1], J[i + 2], J[i + 3], J[i + 4], J[i + 5], J[i + 6], J[i + 7], J[i + 8], J[i + 10]
    seq = seq + 1
    local key = job_key(id)
    -- Held: waits for its dependencies (or one failed already), not runnable yet.
    local held = deps_hold(id, key, seq, task, now, delay)
    -- Runnable now and of priority 0: its place is the fifo list, which is
    -- its index too (no 's:pending' entry, see base.lua).
    local in_fifo = not held and delay <= 0 and pri == 0
    local index = seq
    if in_fifo then
      index = false
    end
    -- Fields that are 0 are not stored (a missing 'm', 'p' or 'n' reads as
    -- 0 everywhere, through num()): most pending jobs are just 't', 'q', 'c',
    -- which keeps their hash in a smaller allocation. Most jobs have none of
    -- the optional fields either: no table for them.
    if timeout == 0 and dkey == '' and tc == '' and mr == 0 and pri == 0 then
      if args == '' then
        move(id, key, nil, 'pending', index, 't', task, 'q', seq, 'c', now)
      else
        move(id, key, nil, 'pending', index, 't', task, 'q', seq, 'c', now, 'a', args)
      end
    else
      local fields = { 't', task, 'q', seq, 'c', now }
      if mr ~= 0 then
        fields[#fields + 1] = 'm'
        fields[#fields + 1] = mr
      end
      if pri ~= 0 then
        fields[#fields + 1] = 'p'
        fields[#fields + 1] = pri
      end
      if args ~= '' then
        fields[#fields + 1] = 'a'
        fields[#fields + 1] = args
      end
      if timeout > 0 then
        fields[#fields + 1] = 'i'
        fields[#fields + 1] = timeout
      end
      if dkey ~= '' then
        fields[#fields + 1] = 'u'
        fields[#fields + 1] = dkey
      end
      if tc ~= '' then
        fields[#fields + 1] = 'tc'
        fields[#fields + 1] = tc
      end
      move(id, key, nil, 'pending', index, unpack(fields))
    end
    if held then
      -- Its dependencies release it (includes/dependencies.lua).
    elseif in_fifo then
      fifo[#fifo + 1] = id
    elseif delay > 0 then
      push_delayed(KEYS[2], now + delay, id)
    else
      ready[#ready + 1] = -pri
      ready[#ready + 1] = ready_member(seq, id)
    end
    event('E', id, task, '', 'pending', 0, now, delay)
  end
end
if #ready > 0 then
  redis.call('ZADD', KEYS[1], unpack(ready))
end
if #fifo > 0 then
  redis.call('RPUSH', FIFO, unpack(fifo))
end
if #ready == 0 and #fifo == 0 then
  WAKE = false
end
deps_fail_held(now)
flush()
return out
