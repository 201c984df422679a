-- Deletes jobs that are not running, with everything that refers to them:
-- the hash, the status index entry, the done entry, the log list, a pending
-- job's place in the ready, delayed or parked set (in the fifo list it is
-- marked stale, see base.lua), and its dedupe key.
-- Needs base.lua. Batched: one command per index and one DEL for all, not
-- several per job (retention runs as often as jobs finish).
-- `finished_only`: a pending job is kept too (a done entry of a job that was
-- retried since is stale); a running job is always kept. `tail`: leave a
-- dedupe key to expire at the end of its ttl (retention must not shorten a
-- dedupe window); otherwise it goes with the job (a job removed by hand
-- frees its key). Every id leaves the done set. Returns the number deleted.
local function delete_jobs(ids, finished_only, tail, now, done_key)
  if #ids == 0 then
    return 0
  end
  local keys = {}
  local byStatus = {}
  local deleted = 0
  for _, id in ipairs(ids) do
    local key = job_key(id)
    -- A key of another type is not a job: left alone (only its index entries go).
    local h = job_fields(key, 's', 'u', 'c', 'q', 't') or {}
    local status = h[1]
    if h[1] == nil or status == 'running' or (finished_only and status == 'pending') then
      h = {}
    else
      keys[#keys + 1] = key
      keys[#keys + 1] = logs_key(id)
    end
    if status and h[1] then
      deleted = deleted + 1
      local list = byStatus[status]
      if list == nil then
        list = {}
        byStatus[status] = list
      end
      list[#list + 1] = id
      if status == 'pending' then
        -- What it still waited for (includes/dependencies.lua), if anything.
        keys[#keys + 1] = PREFIX .. 'deps:' .. id
        local member = ready_member(h[4], id)
        redis.call('ZREM', PREFIX .. 'ready', member)
        redis.call('ZREM', PREFIX .. 'delayed', id)
        redis.call('ZREM', PREFIX .. 'wait:' .. (h[5] or ''), member)
        -- Before its 's:pending' entry goes (with the others, below).
        forget_fifo(id)
      end
    end
    if h[2] then
      local dk = PREFIX .. 'dedupe:' .. h[2]
      local v = redis.call('GET', dk)
      local ttl, holder = string.match(v or '', '^(%d+):(.*)$')
      if holder == id then
        local ends = num(h[3]) + num(ttl)
        if tail and ends > now then
          -- Redis keeps a key through its expiry ms: gone from `ends` on,
          -- as enqueue's own check (now - created < ttl) has it.
          redis.call('PEXPIREAT', dk, ends - 1)
        else
          keys[#keys + 1] = dk
        end
      end
    end
  end
  for status, list in pairs(byStatus) do
    redis.call('ZREM', status_key(status), unpack(list))
  end
  if #keys > 0 then
    redis.call('DEL', unpack(keys))
  end
  redis.call('ZREM', done_key, unpack(ids))
  return deleted
end
