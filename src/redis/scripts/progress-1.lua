#!lua
-- progress: stores the last progress value of running attempts and
-- announces it. Fenced: an attempt that lost its lease reports nothing.
-- KEYS[1] leases (routes the call to the queue's slot)
-- ARGV[1] prefix
-- ARGV[2] N, then N times: id, lease token, value (msgpack)
--@include "base.lua"
local n = tonumber(ARGV[2])
local i = 3
for _ = 1, n do
  local id, token, value = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  i = i + 3
  local key = job_key(id)
  local f = job_fields(key, 's', 'w', 't', 'n') or {}
  if f[1] == 'running' and f[2] == token then
    redis.call('HSET', key, 'g', value)
    event('P', id, f[3], '', '', f[4], 0, value)
  end
end
flush()
return 0
