#!lua flags=no-writes
-- list: jobs newest first (by creation sequence), from the per-status
-- indexes and the fifo list only (never KEYS or SCAN), as one consistent
-- snapshot.
-- KEYS[1..5] s:pending, leases (the running jobs), s:completed, s:failed, s:cancelled
-- ARGV[1] prefix
-- ARGV[2] status to list, or '' for all
-- ARGV[3] offset
-- ARGV[4] limit, or -1 for no limit
-- ARGV[5] task name to keep, or '' for all
-- Returns a flat list: id, then the job's fields t s m c b f n r e k g (in
-- that order, arguments left out), per job.
--@include "base.lua"
local want, offset, limit, task = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local CHUNK = 256

-- One cursor per index; a k-way merge on the scores yields newest first.
local cursors = {}
-- STATUSES (generated from src/job-status.ts) is the order of KEYS.
local names = STATUSES
for i = 1, 5 do
  if want == '' or want == names[i] then
    cursors[#cursors + 1] = { key = KEYS[i], at = 0, buf = {}, pos = 1, done = false, running = i == 2 }
    if i == 1 then
      -- Pending jobs in the fifo list have no 's:pending' entry (base.lua).
      cursors[#cursors + 1] = { key = FIFO, at = 0, buf = {}, pos = 1, done = false, fifo = true, seen = {} }
    end
  end
end

-- The fifo list read from its tail (newest first), a chunk at a time, keeping
-- the live entries: the newest entry of an id whose job is pending and has
-- no 's:pending' entry (an older entry of the id, or one of a job indexed
-- there, is stale). Scored by the job's creation sequence, as the indexes are.
local function load_fifo(c)
  c.buf, c.pos = {}, 1
  while #c.buf == 0 and not c.done do
    local ids = redis.call('LRANGE', c.key, -(c.at + CHUNK), -(c.at + 1))
    c.at = c.at + CHUNK
    if #ids < CHUNK then
      c.done = true
    end
    for i = #ids, 1, -1 do
      local id = ids[i]
      if not c.seen[id] then
        c.seen[id] = true
        local f = job_fields(job_key(id), 's', 'q')
        if f and f[1] == 'pending' and redis.call('ZSCORE', KEYS[1], id) == false then
          c.buf[#c.buf + 1] = id
          c.buf[#c.buf + 1] = num(f[2])
        end
      end
    end
  end
end

-- Running jobs are few (the leases set holds them, scored by expiry): read
-- them all and order them by creation sequence here.
local function load_running(c)
  local ids = redis.call('ZRANGE', c.key, 0, -1)
  local rows = {}
  for _, id in ipairs(ids) do
    -- A key of another type (WRONGTYPE) is not listed.
    local q = redis.pcall('HGET', job_key(id), 'q')
    if type(q) == 'string' then
      rows[#rows + 1] = { id, num(q) }
    end
  end
  table.sort(rows, function(a, b)
    return a[2] > b[2]
  end)
  c.buf = {}
  for _, r in ipairs(rows) do
    c.buf[#c.buf + 1] = r[1]
    c.buf[#c.buf + 1] = r[2]
  end
  c.pos = 1
  c.done = true
end

local function head(c)
  if c.running and not c.done then
    load_running(c)
  end
  if c.fifo and c.pos > #c.buf then
    load_fifo(c)
    if #c.buf == 0 then
      return nil
    end
  end
  if c.pos > #c.buf then
    if c.done then
      return nil
    end
    c.buf = redis.call('ZREVRANGE', c.key, c.at, c.at + CHUNK - 1, 'WITHSCORES')
    c.at = c.at + CHUNK
    c.pos = 1
    if #c.buf < CHUNK * 2 then
      c.done = true
    end
    if #c.buf == 0 then
      return nil
    end
  end
  return c
end

local out = {}
local taken = 0
local skipped = 0
-- One index and no filter: start reading at the offset.
if #cursors == 1 and task == '' and not cursors[1].running then
  cursors[1].at = offset
  skipped = offset
end
while limit < 0 or taken < limit do
  local best = nil
  for _, c in ipairs(cursors) do
    if head(c) ~= nil then
      if best == nil or tonumber(c.buf[c.pos + 1]) > tonumber(best.buf[best.pos + 1]) then
        best = c
      end
    end
  end
  if best == nil then
    break
  end
  local id = best.buf[best.pos]
  best.pos = best.pos + 2
  local h = job_fields(job_key(id), 't', 's', 'm', 'c', 'b', 'f', 'n', 'r', 'e', 'k', 'g', 'dl', 'v')
  if h ~= nil and h[2] and (task == '' or h[1] == task) then
    if skipped < offset then
      skipped = skipped + 1
    else
      out[#out + 1] = id
      out[#out + 1] = h
      taken = taken + 1
    end
  end
end
return out
