#!lua
-- promote: a delayed pending job (a delay or a retry backoff) becomes ready
-- now, in its priority's place.
-- KEYS[1] delayed
-- KEYS[2] ready
-- ARGV[1] prefix
-- ARGV[2] job id
-- Returns 1 if it was delayed, 0 otherwise (unknown, ready, running, ended).
--@include "base.lua"
local id = ARGV[2]
local key = job_key(id)
local f = redis.call('HMGET', key, 's', 'q', 'p')
if f[1] ~= 'pending' or redis.call('ZREM', KEYS[1], id) == 0 then
  return 0
end
push_ready(KEYS[2], f[2], f[3], id)
flush()
return 1
