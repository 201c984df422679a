#!lua flags=allow-oom
-- trim: deletes finished jobs beyond the retention (oldest first, by count
-- and by age), with their index entries and logs (includes/delete.lua).
-- Bounded per call.
-- KEYS[1] done
-- KEYS[2] s:completed (declared for the slot; indexes are named from the prefix)
-- KEYS[3] s:failed
-- KEYS[4] s:cancelled
-- ARGV[1] prefix
-- ARGV[2] max age ms
-- ARGV[3] max count
-- ARGV[4] most jobs to delete in this call
-- Returns the number deleted.
--@include "base.lua"
--@include "delete.lua"
local now = now_ms()
local limit = tonumber(ARGV[4])
local victims = {}
local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[3])
if excess > 0 then
  victims = redis.call('ZRANGE', KEYS[1], 0, math.min(excess, limit) - 1)
end
if #victims < limit then
  local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]), 'LIMIT', #victims, limit - #victims)
  for _, id in ipairs(old) do
    victims[#victims + 1] = id
  end
end
if #victims == 0 then
  return 0
end
return delete_jobs(victims, true, true, now, KEYS[1])
