-- claim: pending -> running, for up to N ready jobs, each with a lease.
-- First promotes delayed jobs that are due into the ready set.
-- KEYS[1] ready
-- KEYS[2] delayed
-- KEYS[3] s:pending
-- KEYS[4] leases     sorted set of running jobs, score = ms when the lease expires
-- ARGV[1] prefix
-- ARGV[2] worker id (the lease token is "<worker id>:<attempt>")
-- ARGV[3] N, the most jobs to claim
-- ARGV[4] lease length in ms
-- Returns { next delayed due ms or '', the claimed jobs packed one after
--           another (src/redis/packed.ts): id, task, args, attempt, maxRetries }
--@include "base.lua"
local now = now_ms()
local worker, count, lease = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])

-- Promote due delayed jobs (bounded, so one call stays short).
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1000)
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[2], id)
  local f = redis.call('HMGET', job_key(id), 's', 'q', 'p')
  if f[1] == 'pending' then
    push_ready(KEYS[1], f[2], f[3], id)
  end
end
-- Whoever promoted claims first; others are woken only for what is left.
WAKE = false

local out = { '', '' }
local packed = {}
if count > 0 then
  local popped = redis.call('ZPOPMIN', KEYS[1], count)
  local unpend = {}
  local leased = {}
  local expires = now + lease
  for i = 1, #popped, 2 do
    local id = string.sub(popped[i], 17)
    local key = job_key(id)
    local f = redis.call('HMGET', key, 's', 't', 'a', 'n', 'm')
    -- A member whose job is no longer pending is stale: drop it.
    if f[1] == 'pending' then
      local attempt = tonumber(f[4]) + 1
      redis.call('HSET', key, 's', 'running', 'n', attempt, 'b', now, 'w', worker .. ':' .. attempt)
      unpend[#unpend + 1] = id
      leased[#leased + 1] = expires
      leased[#leased + 1] = id
      local args = f[3] or ''
      packed[#packed + 1] = struct.pack('>Hc0I4c0I4c0I4I4', #id, id, #f[2], f[2], #args, args, attempt, tonumber(f[5]))
      event('S', id, f[2], 'pending', 'running', attempt, now)
    end
  end
  if #unpend > 0 then
    redis.call('ZREM', KEYS[3], unpack(unpend))
    redis.call('ZADD', KEYS[4], unpack(leased))
  end
end
if #due > 0 and redis.call('ZCARD', KEYS[1]) > 0 then
  WAKE = true
end
local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if first[2] ~= nil then
  out[1] = first[2]
end
out[2] = table.concat(packed)
flush()
return out
