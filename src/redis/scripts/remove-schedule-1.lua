#!lua flags=allow-oom
-- remove-schedule: deletes a schedule. Its firings still in flight are
-- dropped by the next claim that finds the schedule gone.
-- KEYS[1] schedules
-- ARGV[1] prefix
-- ARGV[2] id
-- Returns 1 removed, 0 unknown.
--@include "base.lua"
local id = ARGV[2]
local removed = redis.call('DEL', PREFIX .. 'schedule:' .. id)
redis.call('ZREM', KEYS[1], id)
if removed == 1 then
  redis.call('PUBLISH', PREFIX .. 'control', 's')
end
return removed
