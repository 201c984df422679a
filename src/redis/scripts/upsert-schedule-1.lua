#!lua
-- upsert-schedule: creates or replaces a schedule. One with the same task
-- and spec keeps its next run and last job (only its arguments change), so
-- every process may store its schedules at start-up without moving or
-- repeating a tick.
-- KEYS[1] schedules  sorted set, score = ms of the next tick
-- ARGV[1] prefix
-- ARGV[2] id, ARGV[3] task, ARGV[4] cron ('' for none), ARGV[5] tz ('' for
--         none), ARGV[6] everyMs ('' for none), ARGV[7] args (encoded),
--         ARGV[8] next run ms for a new or changed schedule
-- Returns 1 created or changed, 0 kept its next run.
--@include "base.lua"
local id, task, cron, tz, every, args, next_run =
  ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local key = PREFIX .. 'schedule:' .. id
local f = redis.call('HMGET', key, 't', 'c', 'z', 'e')
if f[1] == task and f[2] == cron and f[3] == tz and f[4] == every then
  redis.call('HSET', key, 'a', args)
  return 0
end
redis.call('HSET', key, 't', task, 'c', cron, 'z', tz, 'e', every, 'a', args, 'n', next_run)
redis.call('ZADD', KEYS[1], next_run, id)
-- Schedulers in other processes sleep until their earliest tick: this one may be sooner.
redis.call('PUBLISH', PREFIX .. 'control', 's')
return 1
