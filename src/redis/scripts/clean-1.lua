#!lua flags=allow-oom
-- clean: deletes finished jobs of one status that finished at or before a
-- cutoff (by the done set's score), with their logs and dedupe keys.
-- Bounded per call: the caller loops, passing back the cutoff and offset.
-- KEYS[1] done
-- ARGV[1] prefix
-- ARGV[2] status: completed | failed | cancelled
-- ARGV[3] cutoff ms, or '' for now minus ARGV[4]
-- ARGV[4] olderThanMs (used when ARGV[3] is '')
-- ARGV[5] most jobs to delete in this call
-- ARGV[6] offset: done entries at or before the cutoff that an earlier call
--         looked at and kept (other statuses)
-- Returns { deleted, next offset, cutoff, 1 if entries are left to look at else 0 }.
--@include "base.lua"
--@include "delete.lua"
local SCAN = 1000
local status = ARGV[2]
local cutoff = tonumber(ARGV[3])
if cutoff == nil then
  cutoff = now_ms() - tonumber(ARGV[4])
end
local limit, offset = tonumber(ARGV[5]), tonumber(ARGV[6])
local victims = {}
local looked = 0
local more = 1
while #victims < limit and looked < 5 * SCAN do
  local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', cutoff, 'LIMIT', offset, SCAN)
  for _, id in ipairs(ids) do
    if #victims < limit and redis.pcall('HGET', job_key(id), 's') == status then
      victims[#victims + 1] = id
    elseif #victims < limit then
      offset = offset + 1
    end
  end
  looked = looked + #ids
  if #ids < SCAN then
    more = 0
    break
  end
  -- The victims of this chunk are still in the set until deleted below.
  if #victims > 0 then
    break
  end
end
local deleted = delete_jobs(victims, true, false, 0, KEYS[1])
if #victims >= limit then
  more = 1
end
return { deleted, offset, int(cutoff), more }
