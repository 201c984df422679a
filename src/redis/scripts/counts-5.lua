#!lua flags=no-writes
-- counts: jobs per status, as one consistent snapshot.
-- KEYS[1..5] s:pending, leases (the running jobs), s:completed, s:failed, s:cancelled
-- ARGV[1] prefix
-- Returns five integers, in the order of KEYS. Pending jobs are those of
-- 's:pending' and the live entries of the fifo list (which have no
-- 's:pending' entry, see base.lua): its length less its stale entries.
--@include "base.lua"
local out = {}
for i = 1, 5 do
  out[i] = redis.call('ZCARD', KEYS[i])
end
local stale = tonumber(redis.call('HGET', STALE, '')) or 0
out[1] = out[1] + math.max(0, redis.call('LLEN', FIFO) - stale)
return out
