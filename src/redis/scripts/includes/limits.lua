-- Per-task flow control: background({ concurrency, rateLimit }), across
-- every process of the queue. Needs base.lua.
--
-- limits            hash: task -> '<concurrency>:<max>:<intervalMs>' (0 = no such limit),
--                   written by workers at start (set-limits script)
-- active:<task>     set of the task's running jobs that hold a slot (their hash has y = '1')
-- rate:<task>       sorted set of the task's starts in the current window, score = start ms
-- wait:<task>       parked jobs: ready-set members and scores, in ready order
-- throttled         sorted set: task -> ms when its parked jobs are looked at again
--
-- A job that may not start yet is parked in wait:<task> instead of being
-- claimed again and again. It comes back to the ready set when a slot frees
-- (release_slot, from every script that ends a running attempt) or at the
-- task's alarm in `throttled`: the time its rate window opens, which the
-- claim script hands its caller as a due time. Nothing polls in between.

local function wait_key(task)
  return PREFIX .. 'wait:' .. task
end

local function active_key(task)
  return PREFIX .. 'active:' .. task
end

local function rate_key(task)
  return PREFIX .. 'rate:' .. task
end

-- A running job that held a slot ended: the slot goes back, and the first
-- job parked for the task returns to the ready set to take it.
local function release_slot(task, id)
  if not task then
    return
  end
  redis.call('SREM', active_key(task), id)
  local m = redis.call('ZPOPMIN', wait_key(task))
  if m[1] ~= nil then
    local ready = PREFIX .. 'ready'
    if not WAKE and ready_empty(ready) then
      WAKE = true
    end
    redis.call('ZADD', ready, m[2], m[1])
  end
end
