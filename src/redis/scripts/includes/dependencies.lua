-- Job dependencies (enqueueWith({ dependsOn })), included after base.lua by
-- the scripts that store or end jobs. A job with unfinished dependencies is
-- stored pending but kept out of the ready and delayed sets until they all
-- completed:
--   deps:<id>         set, the dependencies of <id> not completed yet (gone once empty)
--   dependents:<dep>  set, the jobs waiting for <dep> (deleted when <dep> ends)
--   job hash 'dl'     every dependency of the job, comma-separated (ids hold no comma)
--   job hash 'dd'     ms its delay ends, for a waiting job enqueued with a delay
-- A dependency that ends failed or cancelled fails its waiting dependents with
-- ERR_DEPENDENCY_FAILED and 0 attempts, and theirs in turn. A job nothing
-- depends on costs one EXISTS when it ends.

local DEP_CODE = 'ERR_DEPENDENCY_FAILED'

-- The dependencies of each job of one enqueue batch, read from the enqueue
-- script's optional ARGV[3] (src/redis/dependency-pack.ts): per job, its id
-- ('>Hc0'), a count ('>H'), then that many ids ('>Hc0').
local DEPS = {}
-- The missing dependency that deps_missing found.
local DEPS_MISSING = nil
-- Jobs of this batch to fail once they are indexed as pending: id, seq, task, dep, status.
local DEPS_FAIL = {}

local function deps_parse(blob)
  if blob == nil or blob == '' then
    return
  end
  local pos = 1
  while pos <= #blob do
    local id, count
    id, count, pos = struct.unpack('>Hc0H', blob, pos)
    local list = {}
    for i = 1, count do
      list[i], pos = struct.unpack('>Hc0', blob, pos)
    end
    DEPS[id] = list
  end
end

-- True when a dependency of the new job `id` does not exist (DEPS_MISSING
-- names it). `seen` holds the jobs stored before it in the same batch.
local function deps_missing(id, seen)
  local list = DEPS[id]
  if list == nil then
    return false
  end
  for _, d in ipairs(list) do
    if not seen[d] and redis.call('EXISTS', job_key(d)) == 0 then
      DEPS_MISSING = d
      return true
    end
  end
  return false
end

-- For a new job, just written as pending: true when it must stay out of the
-- ready and delayed sets, because a dependency is unfinished (it waits) or
-- already failed (it fails once indexed, see deps_fail_held).
local function deps_hold(id, key, seq, task, now, delay)
  local list = DEPS[id]
  if list == nil then
    return false
  end
  redis.call('HSET', key, 'dl', table.concat(list, ','))
  local waiting = {}
  for _, d in ipairs(list) do
    local s = redis.pcall('HGET', job_key(d), 's')
    if type(s) == 'table' then
      -- Not a job hash any more (WRONGTYPE): it can never complete.
      s = 'failed'
    end
    if s == 'failed' or s == 'cancelled' then
      local n = #DEPS_FAIL
      DEPS_FAIL[n + 1], DEPS_FAIL[n + 2], DEPS_FAIL[n + 3], DEPS_FAIL[n + 4], DEPS_FAIL[n + 5] =
        id, seq, task, d, s
      return true
    elseif s ~= 'completed' then
      waiting[#waiting + 1] = d
    end
  end
  if #waiting == 0 then
    return false
  end
  for _, d in ipairs(waiting) do
    redis.call('SADD', PREFIX .. 'dependents:' .. d, id)
    -- 'hd' on the dependency: it has dependents, so the scripts that end it
    -- look for them; a job without it (nearly every job) costs no lookup.
    redis.call('HSET', job_key(d), 'hd', '1')
  end
  redis.call('SADD', PREFIX .. 'deps:' .. id, unpack(waiting))
  if delay > 0 then
    redis.call('HSET', key, 'dd', int(now + delay))
  end
  return true
end

local function deps_fail_one(id, key, seq, task, dep, status, now)
  local msg = 'dependency ' .. dep .. ' ended ' .. status .. ', so this job never ran'
  finish(id, key, 'pending', 'failed', seq, now, PREFIX .. 'done', 'e', msg, 'k', DEP_CODE, 'v', '1')
  event('F', id, task, 'pending', 'failed', 0, now, msg, DEP_CODE, '')
end

-- Job `id` reached a terminal `status`: its waiting dependents go to the
-- ready (or delayed) set once nothing else holds them, or fail with it, and
-- so on down the chain (a work list, not recursion).
local function deps_finished(id, status, now, has)
  -- `has`: the job's 'hd' field when the caller read it ('1': it has
  -- dependents); else the set is looked up.
  if has ~= nil then
    if has ~= '1' then
      return
    end
  elseif redis.call('EXISTS', PREFIX .. 'dependents:' .. id) == 0 then
    return
  end
  local work, why = { id }, { status }
  local i = 1
  while i <= #work do
    local dep, st = work[i], why[i]
    i = i + 1
    local dkey = PREFIX .. 'dependents:' .. dep
    local members = redis.call('SMEMBERS', dkey)
    redis.call('DEL', dkey)
    for _, d in ipairs(members) do
      local key = job_key(d)
      local f = job_fields(key, 's', 'q', 'p', 't', 'dd') or {}
      -- A dependent that ended meanwhile (cancelled while it waited) is left alone.
      if f[1] == 'pending' then
        local wkey = PREFIX .. 'deps:' .. d
        if st == 'completed' then
          redis.call('SREM', wkey, dep)
          if redis.call('EXISTS', wkey) == 0 then
            local due = tonumber(f[5] or '')
            if due ~= nil and due > now then
              push_delayed(PREFIX .. 'delayed', due, d)
            else
              push_ready(PREFIX .. 'ready', f[2], f[3], d)
            end
          end
        else
          redis.call('DEL', wkey)
          deps_fail_one(d, key, f[2], f[4], dep, st, now)
          work[#work + 1] = d
          why[#why + 1] = 'failed'
        end
      end
    end
  end
end

-- Ends the jobs of this enqueue whose dependency had already failed; called
-- after they were indexed as pending, so they leave that index cleanly.
local function deps_fail_held(now)
  for i = 1, #DEPS_FAIL, 5 do
    local id = DEPS_FAIL[i]
    deps_fail_one(id, job_key(id), DEPS_FAIL[i + 1], DEPS_FAIL[i + 2], DEPS_FAIL[i + 3], DEPS_FAIL[i + 4], now)
    deps_finished(id, 'failed', now)
  end
end

-- A failed or cancelled job was retried by hand (retry-2.lua) and is pending
-- again: it waits anew for those of its dependencies ('dl') that have not
-- completed. True when it must stay out of the ready set; one still failed
-- fails it again at once (deps_fail_held): retry the dependency first.
local function deps_rehold(id, key, seq, task, now)
  local dl = redis.call('HGET', key, 'dl')
  if not dl or dl == '' then
    return false
  end
  local list = {}
  for d in string.gmatch(dl, '[^,]+') do
    list[#list + 1] = d
  end
  DEPS[id] = list
  return deps_hold(id, key, seq, task, now, 0)
end

-- A waiting job was cancelled: it waits no more.
local function deps_forget(id)
  redis.call('DEL', PREFIX .. 'deps:' .. id)
end
