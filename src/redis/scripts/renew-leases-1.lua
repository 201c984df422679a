#!lua flags=allow-oom
-- renew-leases: extends the leases a worker still holds, all in one call.
-- Also how a worker learns that a lease was lost, or that a cancel was asked
-- (in case the control message was missed while disconnected).
-- KEYS[1] leases
-- ARGV[1] prefix
-- ARGV[2] lease length in ms
-- ARGV[3] N, then N times: id, lease token
-- Returns pairs: id and 'lost' (another attempt holds it, or it no longer
-- runs), 'gone' (no such job: deleted, or Redis lost its data), 'corrupt'
-- (the key is not a job hash: its lease is dropped) or 'cancel', for the
-- jobs that need attention.
-- Allowed while Redis is out of memory (flags=allow-oom): a renewal only
-- rewrites the score of a lease that exists, so a worker that cannot write
-- its results keeps its jobs until it can, instead of their leases expiring.
--@include "base.lua"
local now = now_ms()
local until_ms = now + tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local out = {}
local i = 4
for _ = 1, n do
  local id, token = ARGV[i], ARGV[i + 1]
  i = i + 2
  local f = job_fields(job_key(id), 's', 'w', 'x')
  if f == nil then
    redis.call('ZREM', KEYS[1], id)
    out[#out + 1] = id
    out[#out + 1] = 'corrupt'
  elseif f[1] == 'running' and f[2] == token then
    redis.call('ZADD', KEYS[1], 'XX', until_ms, id)
    if f[3] == '1' then
      out[#out + 1] = id
      out[#out + 1] = 'cancel'
    end
  else
    out[#out + 1] = id
    out[#out + 1] = f[1] and 'lost' or 'gone'
  end
end
return out
