#!lua
-- append-logs: appends lines to the logs of running attempts, many jobs in
-- one call, and keeps only each job's last lines. Fenced like progress: the
-- attempt must hold the lease, or be the one whose end was applied (its
-- last lines may arrive just after its completion); an attempt that lost
-- its lease writes nothing.
-- KEYS[1] leases (routes the call to the queue's slot)
-- ARGV[1] prefix
-- ARGV[2] most lines kept per job
-- ARGV[3] N, then N times: id, lease token, count of lines, the lines
-- Returns N integers: 1 appended, 0 refused.
--@include "base.lua"
local keep = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local out = {}
local i = 4
for j = 1, n do
  local id, token, count = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local first = i + 3
  i = first + count
  local f = job_fields(job_key(id), 's', 'w', 'l') or {}
  if f[1] and ((f[1] == 'running' and f[2] == token) or f[3] == token) then
    local key = logs_key(id)
    -- Only the lines that can stay are pushed; at most 1000 per command.
    local from = math.max(first, i - keep)
    while from < i do
      local to = math.min(from + 999, i - 1)
      redis.call('RPUSH', key, unpack(ARGV, from, to))
      from = to + 1
    end
    redis.call('LTRIM', key, -keep, -1)
    out[j] = 1
  else
    out[j] = 0
  end
end
return out
