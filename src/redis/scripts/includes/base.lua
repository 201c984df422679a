-- Shared by every script. ARGV[1] is always the queue's key prefix: job
-- hashes are named from it inside the script, so they stay in the prefix's
-- hash slot. Times come from the Redis server's clock (TIME), never from the
-- callers', so leases mean the same on every machine.
local PREFIX = ARGV[1]

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function job_key(id)
  return PREFIX .. 'job:' .. id
end

-- Index key names, built once per call (a concatenation per job adds up).
local STATUS_KEYS = {}
local function status_key(status)
  local k = STATUS_KEYS[status]
  if k == nil then
    k = PREFIX .. 's:' .. status
    STATUS_KEYS[status] = k
  end
  return k
end

local function logs_key(id)
  return PREFIX .. 'logs:' .. id
end

-- Integers as plain decimal strings (tostring would switch to exponents).
local function int(n)
  return string.format('%.0f', n)
end

-- A script must never fail after its first write: Redis keeps what it wrote
-- and the rest is lost (a job left running without a lease, or popped from
-- the ready set and nowhere else). So whatever a record holds, reading it
-- cannot raise an error: numbers come through num(), and a job's fields
-- through job_fields(), which reads with pcall.

-- A number read from a record, or `default` (0) when missing or malformed.
local function num(v, default)
  return tonumber(v) or default or 0
end

-- HMGET of a job hash; nil and Redis's error when the key holds another
-- type (WRONGTYPE: something else wrote it), so only that job is affected.
local function job_fields(key, ...)
  local f = redis.pcall('HMGET', key, ...)
  if f.err ~= nil then
    return nil, f.err
  end
  return f
end

--@states

-- Status index changes, queued in call order and applied by flush():
-- consecutive changes of one index go out as one command, so a batch of
-- claims or completions costs one ZREM or ZADD, not one per job. Four
-- parallel lists rather than a table per change: this runs for every job.
local IX_OP, IX_KEY, IX_SCORE, IX_ID, IX_N = {}, {}, {}, {}, 0
local function index_change(op, index, score, id)
  local n = IX_N + 1
  IX_OP[n], IX_KEY[n], IX_SCORE[n], IX_ID[n], IX_N = op, index, score, id, n
end
local function apply_index()
  local i, n = 1, IX_N
  while i <= n do
    local op, index = IX_OP[i], IX_KEY[i]
    local args, a = {}, 0
    -- At most 1000 members per command: unpack() has a stack limit.
    if op == 'ZADD' then
      while i <= n and a < 2000 and IX_OP[i] == op and IX_KEY[i] == index do
        args[a + 1], args[a + 2], a, i = IX_SCORE[i], IX_ID[i], a + 2, i + 1
      end
    else
      while i <= n and a < 1000 and IX_OP[i] == op and IX_KEY[i] == index do
        args[a + 1], a, i = IX_ID[i], a + 1, i + 1
      end
    end
    redis.call(op, index, unpack(args))
  end
  IX_OP, IX_KEY, IX_SCORE, IX_ID, IX_N = {}, {}, {}, {}, 0
end

-- The one place a job's status is written. Refuses (returns false) anything
-- the table above does not allow; `from` nil creates a job, which starts
-- pending. Moves the job between the per-status indexes (sorted by creation
-- sequence) and writes the status in the same HSET as the caller's other
-- fields (names and values after `seq`: varargs, no table per job). Running
-- jobs have no index of their own: the leases set is it, and the callers
-- add and remove leases. A job whose place is the fifo list (see below) has
-- no entry in 's:pending' either: the list is its index. `seq` false stores
-- such a job (no entry added).
local ENDED = false
local function move(id, key, from, to, seq, ...)
  if from == nil then
    if to ~= 'pending' then
      return false
    end
  else
    local legal = LEGAL[from]
    if legal == nil or legal[to] ~= true then
      return false
    end
    if from ~= 'running' then
      index_change('ZREM', status_key(from), nil, id)
    end
    if to ~= 'running' then
      ENDED = true
    end
  end
  if to ~= 'running' and seq ~= false then
    if tonumber(seq) == nil then
      seq = 0
    end
    index_change('ZADD', status_key(to), seq, id)
  end
  redis.call('HSET', key, 's', to, ...)
  return true
end

-- Ready set member: score is -priority, and equal scores sort by member, so
-- a zero-padded creation sequence in front of the id keeps FIFO order.
local function ready_member(seq, id)
  return string.format('%016.0f', num(seq)) .. id
end

-- Events: every record is a netstring list (count, then fields), all records
-- of one script call go out in one PUBLISH. Netstrings carry binary results
-- and progress values as they are. Built as one flat list of pieces,
-- concatenated once at the end.
local EVENTS = {}
-- A kind of record is only built while some process listens to it (it keeps
-- the key 'listen:<kind>' alive); checked once per kind and call.
local WANTED = {}
local function wanted(kind)
  local w = WANTED[kind]
  if w == nil then
    w = redis.call('EXISTS', PREFIX .. 'listen:' .. kind) == 1
    WANTED[kind] = w
  end
  return w
end
local function ns(v)
  local s = v or ''
  local n = #EVENTS
  EVENTS[n + 1] = #s
  EVENTS[n + 2] = ':'
  EVENTS[n + 3] = s
  EVENTS[n + 4] = ','
end
local function event(kind, id, task, from, to, attempts, at, x1, x2, x3)
  if not wanted(kind) then
    return
  end
  local n = #EVENTS
  EVENTS[n + 1] = '2:10,1:'
  EVENTS[n + 2] = kind
  EVENTS[n + 3] = ','
  ns(id)
  ns(task)
  ns(from)
  ns(to)
  ns(tostring(attempts))
  ns(int(at))
  ns(x1 and tostring(x1))
  ns(x2)
  ns(x3 and tostring(x3))
end

-- Control messages to workers: 'w' (jobs are ready), 'd<ms>' (a delayed job
-- is due at ms), 'c<id>' (cancel this running job).
local WAKE = false
local DUE = nil
local CANCELS = {}

-- Fresh jobs of priority 0 (nearly every job) wait in the list 'fifo', ids
-- only, oldest first: a list entry costs about a quarter of a sorted-set
-- member. Everything else that is ready (a priority, a retry, a job handed
-- back, promoted from the delayed set or released by its dependencies)
-- waits in the sorted set 'ready', as before. Claim order: 'ready' members
-- of priority >= 0 (so re-queued jobs keep their place ahead of newer
-- ones), then the list, then negative priorities.
-- A job in the list has no 's:pending' entry (the list indexes it, at a
-- sixth of the memory): every other pending job has one. Counting pending
-- jobs adds the list's live entries; listing them merges the list in by
-- creation sequence (list-5.lua, counts-5.lua).
-- Removing an id from the middle of a list is O(n), so a pending job that
-- leaves the list otherwise (cancelled, deleted) is counted in the hash
-- 'fifo:stale' instead (id -> stale entries), and claim skips that many of
-- its entries. Its stale entry is ahead of any later one (only a fresh
-- enqueue pushes an id, at the tail), so the entry skipped is the stale one.
-- The field '' (no job id is empty) holds the total of stale entries.
local FIFO = PREFIX .. 'fifo'
local STALE = PREFIX .. 'fifo:stale'

local function ready_empty(ready_key)
  return redis.call('ZCARD', ready_key) == 0 and redis.call('LLEN', FIFO) == 0
end

-- A pending job left the queue without being claimed: if its place was the
-- list (it has no 's:pending' entry), mark that entry stale. Called before
-- the job's own index change is applied (flush).
local function forget_fifo(id)
  if redis.call('ZSCORE', status_key('pending'), id) == false then
    redis.call('HINCRBY', STALE, id, 1)
    redis.call('HINCRBY', STALE, '', 1)
  end
end

-- Claim met a stale entry of `id` (`stale` of them left): one fewer.
local function drop_stale(id, stale)
  if stale > 1 then
    redis.call('HINCRBY', STALE, id, -1)
  else
    redis.call('HDEL', STALE, id)
  end
  if redis.call('HINCRBY', STALE, '', -1) <= 0 then
    redis.call('HDEL', STALE, '')
  end
end

local function push_ready(ready_key, seq, priority, id)
  if not WAKE and ready_empty(ready_key) then
    WAKE = true
  end
  redis.call('ZADD', ready_key, -num(priority), ready_member(seq, id))
end

local function push_delayed(delayed_key, at, id)
  local first = redis.call('ZRANGE', delayed_key, 0, 0, 'WITHSCORES')
  if (first[2] == nil or tonumber(first[2]) > at) and (DUE == nil or at < DUE) then
    DUE = at
  end
  redis.call('ZADD', delayed_key, at, id)
end

local function flush()
  apply_index()
  -- 'I': jobs ended or went back to pending in this call, one record however
  -- many (what onIdle() waits on: it looks at the counts then, and needs
  -- neither the jobs nor their results).
  if ENDED then
    event('I', '', '', '', '', 0, 0)
  end
  if #EVENTS > 0 then
    redis.call('PUBLISH', PREFIX .. 'events', table.concat(EVENTS))
  end
  if WAKE then
    redis.call('PUBLISH', PREFIX .. 'control', 'w')
  end
  if DUE ~= nil then
    redis.call('PUBLISH', PREFIX .. 'control', 'd' .. int(DUE))
  end
  for i = 1, #CANCELS do
    redis.call('PUBLISH', PREFIX .. 'control', 'c' .. CANCELS[i])
  end
end

-- A job reached a terminal state: stamp it (with the caller's other fields
-- in the same HSET) and queue it for retention. `done_key` nil: the caller
-- adds it to the done set itself, in one command for a batch.
local function finish(id, key, from, to, seq, now, done_key, ...)
  if not move(id, key, from, to, seq, 'f', now, ...) then
    return false
  end
  if done_key ~= nil then
    redis.call('ZADD', done_key, now, id)
  end
  return true
end
