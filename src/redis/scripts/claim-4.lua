#!lua
-- claim: pending -> running, for up to N ready jobs, each with a lease.
-- First promotes delayed jobs that are due into the ready set. Claims
-- nothing while the queue is paused (the key 'paused' exists). Honours the
-- per-task limits of includes/limits.lua: a job whose task has no free slot
-- or no start left in its rate window is parked, not claimed; parked jobs
-- whose task's alarm is due are given back to the ready set first.
-- KEYS[1] ready      (and the fifo list PREFIX .. 'fifo', see base.lua)
-- KEYS[2] delayed
-- KEYS[3] s:pending
-- KEYS[4] leases     sorted set of running jobs, score = ms when the lease expires
-- ARGV[1] prefix
-- ARGV[2] worker id (the lease token is "<worker id>:<attempt>")
-- ARGV[3] N, the most jobs to claim
-- ARGV[4] lease length in ms
-- Returns { next due ms or '' (the first delayed job, or while not paused the
--           first alarm of a throttled task), the claimed jobs packed one
--           after another (src/redis/packed.ts): id, task, args, attempt,
--           maxRetries, timeoutMs (0: the task's), the ids of keys that were
--           not job hashes (WRONGTYPE), dropped from the indexes, comma-separated }
-- Every record is checked before anything of it is written: a malformed one
-- (no task, a non-numeric attempt count or retry budget) fails alone with
-- ERR_PAYLOAD_CORRUPT; a key of another type is dropped from the indexes
-- and left as it is. The other jobs of the call are claimed as usual.
-- maxRetries is the effective budget: the job's maxRetries plus the attempts
-- it had when it was last retried by hand (field 'o'), so that, as before,
-- `attempt > maxRetries` means no retry is left.
--@include "base.lua"
--@include "limits.lua"
--@include "dependencies.lua"
local now = now_ms()
local worker, count, lease = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local INF = math.huge
-- Parked jobs moved back per task and call, and jobs popped only to be
-- parked per call: both bound one call however many jobs wait.
local CHUNK = 1000
-- A task whose slots are all taken is looked at again after this long even
-- if no release came (a safety net: release_slot is the way slots come back).
local SLOT_RECHECK_MS = 1000

-- Promote due delayed jobs (bounded, so one call stays short).
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1000)
local dropped = {}
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[2], id)
  local f = job_fields(job_key(id), 's', 'q', 'p')
  if f == nil then
    dropped[#dropped + 1] = id
    index_change('ZREM', status_key('pending'), nil, id)
  elseif f[1] == 'pending' then
    push_ready(KEYS[1], f[2], f[3], id)
  end
end

local CORRUPT = 'ERR_PAYLOAD_CORRUPT'
-- What is wrong with a pending job's fields (s, t, a, n, m, o, i), or nil.
local function malformed(f)
  if not f[2] or f[2] == '' then
    return "it names no task (field 't' is missing)"
  end
  -- A missing count is 0 (enqueue leaves zeros out); one that is there must be a number.
  if f[4] and tonumber(f[4]) == nil then
    return "its attempt count (field 'n') is " .. string.format('%q', tostring(f[4])) .. ', not a number'
  end
  if f[5] and tonumber(f[5]) == nil then
    return "its retry budget (field 'm') is " .. string.format('%q', tostring(f[5])) .. ', not a number'
  end
  return nil
end
-- Whoever promoted claims first; others are woken only for what is left.
WAKE = false
local promoted = #due > 0

-- The limits of each task met in this call, with what is left of them.
local STATE = {}
local function limit_state(task)
  local s = STATE[task]
  if s ~= nil then
    return s or nil
  end
  local spec = redis.call('HGET', PREFIX .. 'limits', task)
  local c, max, iv
  if spec then
    c, max, iv = string.match(spec, '^(%d+):(%d+):(%d+)$')
  end
  if c == nil or (c == '0' and max == '0') then
    STATE[task] = false
    return nil
  end
  s = { c = INF, r = INF, climit = c ~= '0', rlimit = max ~= '0', iv = tonumber(iv) }
  s.active, s.starts, s.parked, s.touched, s.more = {}, {}, {}, false, false
  if s.climit then
    s.c = tonumber(c) - redis.call('SCARD', active_key(task))
  end
  if s.rlimit then
    redis.call('ZREMRANGEBYSCORE', rate_key(task), '-inf', now - s.iv)
    s.r = tonumber(max) - redis.call('ZCARD', rate_key(task))
  end
  STATE[task] = s
  return s
end

-- Up to `want` ready jobs in claim order (base.lua): 'ready' members of
-- priority >= 0, then the fifo list, then the rest of 'ready'. A flat list
-- of id, member (false for a list entry) and score. Stale list entries
-- (base.lua) are skipped and forgotten.
local STALE_ANY = nil
local function pop_ready(want)
  local got = {}
  local function take(p)
    for i = 1, #p, 2 do
      local n = #got
      got[n + 1], got[n + 2], got[n + 3] = string.sub(p[i], 17), p[i], p[i + 1]
    end
  end
  local head = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', 0, 'LIMIT', 0, want)
  if #head > 0 then
    -- The lowest scores: exactly the members just read.
    take(redis.call('ZPOPMIN', KEYS[1], #head))
  end
  while #got < want * 3 do
    local ids = redis.call('LPOP', FIFO, want - #got / 3)
    if not ids then
      break
    end
    if STALE_ANY == nil then
      STALE_ANY = redis.call('EXISTS', STALE) == 1
    end
    for _, id in ipairs(ids) do
      local stale = STALE_ANY and tonumber(redis.call('HGET', STALE, id))
      if stale then
        drop_stale(id, stale)
      else
        local n = #got
        got[n + 1], got[n + 2], got[n + 3] = id, false, 0
      end
    end
  end
  if #got < want * 3 then
    take(redis.call('ZPOPMIN', KEYS[1], want - #got / 3))
  end
  return got
end

local paused = redis.call('EXISTS', PREFIX .. 'paused') == 1
local out = { '', '' }
local packed = {}
if not paused and count > 0 then
  -- Throttled tasks whose alarm is due: give back as many parked jobs as
  -- may start now.
  local alarms = redis.call('ZRANGEBYSCORE', PREFIX .. 'throttled', '-inf', now, 'LIMIT', 0, 32)
  for _, task in ipairs(alarms) do
    local s = limit_state(task)
    local room = s and math.min(s.c, s.r) or INF
    local m = {}
    if room > 0 then
      m = redis.call('ZPOPMIN', wait_key(task), math.min(room, CHUNK))
    end
    if #m > 0 then
      local back = {}
      for i = 1, #m, 2 do
        back[i], back[i + 1] = m[i + 1], m[i]
      end
      redis.call('ZADD', KEYS[1], unpack(back))
      promoted = true
    end
    if s then
      s.touched = true
      s.more = #m == 2 * CHUNK and room > CHUNK
    elseif redis.call('EXISTS', wait_key(task)) == 1 then
      -- No limit any more: hand the rest back in the next calls.
      redis.call('ZADD', PREFIX .. 'throttled', now, task)
    else
      redis.call('ZREM', PREFIX .. 'throttled', task)
    end
  end

  local leased = {}
  local expires = now + lease
  local claimed, popped_total, parked_total = 0, 0, 0
  local leftover, leftover_fifo = {}, {}
  while claimed < count and parked_total < CHUNK do
    local want = count - claimed
    if parked_total > 0 then
      want = math.max(want, 64)
    end
    local popped = pop_ready(want)
    if #popped == 0 then
      break
    end
    for i = 1, #popped, 3 do
      local id, member, score = popped[i], popped[i + 1], popped[i + 2]
      if claimed >= count then
        if member then
          leftover[#leftover + 1] = score
          leftover[#leftover + 1] = member
        else
          leftover_fifo[#leftover_fifo + 1] = id
        end
      else
        local key = job_key(id)
        local f = job_fields(key, 's', 't', 'a', 'n', 'm', 'o', 'i', 'dl', 'tc', 'q')
        -- A job from the fifo list has no sorted-set member: made from its
        -- sequence, should it be parked.
        local from_fifo = not member
        if from_fifo then
          member = ready_member(f and f[10], id)
        end
        local bad = f and f[1] == 'pending' and malformed(f)
        if f == nil then
          -- Not a job hash: out of the indexes, the value left alone.
          dropped[#dropped + 1] = id
          index_change('ZREM', status_key('pending'), nil, id)
        elseif bad then
          local msg = 'the job record is malformed: ' .. bad .. '; it cannot run'
          finish(id, key, 'pending', 'failed', string.sub(member, 1, 16), now, PREFIX .. 'done', 'e', msg, 'k', CORRUPT)
          event('F', id, f[2] or '', 'pending', 'failed', num(f[4]), now, msg, CORRUPT, '')
          deps_finished(id, 'failed', now)
        -- A member whose job is no longer pending is stale: drop it.
        elseif f[1] == 'pending' then
          local task = f[2]
          local s = limit_state(task)
          if s and (s.c <= 0 or s.r <= 0) then
            s.parked[#s.parked + 1] = score
            s.parked[#s.parked + 1] = member
            s.touched = true
            if from_fifo then
              -- Out of the list, so into the pending index (base.lua).
              index_change('ZADD', status_key('pending'), num(f[10]), id)
            end
            parked_total = parked_total + 1
          else
            local attempt = num(f[4]) + 1
            local token = worker .. ':' .. attempt
            if s then
              s.c, s.r = s.c - 1, s.r - 1
              if s.climit then
                s.active[#s.active + 1] = id
              end
              if s.rlimit then
                s.starts[#s.starts + 1] = now
                s.starts[#s.starts + 1] = id .. ':' .. attempt
              end
            end
            -- move() also drops an 's:pending' entry: a job from the list has
            -- none, unless an earlier build stored it (docs/redis.md, key layout).
            if s and s.climit then
              move(id, key, 'pending', 'running', nil, 'n', attempt, 'b', now, 'w', token, 'y', '1')
            else
              move(id, key, 'pending', 'running', nil, 'n', attempt, 'b', now, 'w', token)
            end
            leased[#leased + 1] = expires
            leased[#leased + 1] = id
            local args = f[3] or ''
            local budget = num(f[5]) + num(f[6])
            local deps, tc = f[8] or '', f[9] or ''
            packed[#packed + 1] = struct.pack('>Hc0I4c0I4c0I4I4I4I4c0I4c0', #id, id, #task, task, #args, args, attempt, budget, tonumber(f[7]) or 0, #deps, deps, #tc, tc)
            event('S', id, task, 'pending', 'running', attempt, now)
            claimed = claimed + 1
          end
        end
      end
    end
    -- Fewer than asked for: every source ran dry, another pass finds nothing.
    if #popped < want * 3 then
      break
    end
  end
  if #leftover > 0 then
    redis.call('ZADD', KEYS[1], unpack(leftover))
  end
  if #leftover_fifo > 0 then
    -- Back at the head, in their order (LPUSH puts its last argument first).
    local back = {}
    for i = #leftover_fifo, 1, -1 do
      back[#back + 1] = leftover_fifo[i]
    end
    redis.call('LPUSH', FIFO, unpack(back))
  end
  if #leased > 0 then
    redis.call('ZADD', KEYS[4], unpack(leased))
  end

  -- Write back what the limits counted, park, and set each touched task's alarm.
  for task, s in pairs(STATE) do
    if s then
      if #s.active > 0 then
        redis.call('SADD', active_key(task), unpack(s.active))
      end
      if #s.starts > 0 then
        redis.call('ZADD', rate_key(task), unpack(s.starts))
        redis.call('PEXPIRE', rate_key(task), s.iv)
      end
      if #s.parked > 0 then
        redis.call('ZADD', wait_key(task), unpack(s.parked))
      end
      if s.touched then
        local at = nil
        if redis.call('EXISTS', wait_key(task)) == 1 then
          local first = s.rlimit and redis.call('ZRANGE', rate_key(task), 0, 0, 'WITHSCORES') or {}
          if s.rlimit and s.r <= 0 then
            -- Full window: it opens when its oldest start leaves it.
            at = tonumber(first[2]) + s.iv
          elseif s.climit and s.c <= 0 then
            at = now + SLOT_RECHECK_MS
          elseif s.more then
            at = now
          elseif s.rlimit then
            -- The jobs given back hold the room left: no more can start
            -- before the window moves on.
            at = (first[2] and tonumber(first[2]) or now) + s.iv
          else
            at = now + SLOT_RECHECK_MS
          end
        end
        if at then
          redis.call('ZADD', PREFIX .. 'throttled', at, task)
        else
          redis.call('ZREM', PREFIX .. 'throttled', task)
        end
      end
    end
  end
  -- Stopped by the parking bound with jobs left: whoever is free, claim on.
  if parked_total >= CHUNK and not ready_empty(KEYS[1]) then
    WAKE = true
  end
end
if promoted and not paused and not ready_empty(KEYS[1]) then
  WAKE = true
end
local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if first[2] ~= nil then
  out[1] = first[2]
end
if not paused then
  local alarm = redis.call('ZRANGE', PREFIX .. 'throttled', 0, 0, 'WITHSCORES')
  if alarm[2] ~= nil and (first[2] == nil or tonumber(alarm[2]) < tonumber(first[2])) then
    out[1] = alarm[2]
  end
end
out[2] = table.concat(packed)
out[3] = table.concat(dropped, ',')
flush()
return out
