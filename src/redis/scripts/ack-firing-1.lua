#!lua
-- ack-firing: a firing's job is enqueued. It leaves the in-flight set and
-- becomes its schedule's last job (unless a later tick already did).
-- KEYS[1] schedule-firings
-- ARGV[1] prefix
-- ARGV[2] firing job id, ARGV[3] schedule id, ARGV[4] tick (ms)
-- Returns 1 acked, 0 not in flight (already acked by a process it was
-- handed to again).
--@include "base.lua"
local job, id, at = ARGV[2], ARGV[3], ARGV[4]
if redis.call('ZREM', KEYS[1], job) == 0 then
  return 0
end
local key = PREFIX .. 'schedule:' .. id
local last = redis.call('HGET', key, 'r')
if redis.call('EXISTS', key) == 1 and (not last or tonumber(last) < tonumber(at)) then
  redis.call('HSET', key, 'j', job, 'r', at)
end
return 1
