#!lua flags=allow-oom
-- remove: deletes a job that is not running, with everything that refers
-- to it (includes/delete.lua), its dedupe key included.
-- KEYS[1] done
-- ARGV[1] prefix
-- ARGV[2] job id
-- Returns 1 deleted, 0 running or unknown.
--@include "base.lua"
--@include "delete.lua"
return delete_jobs({ ARGV[2] }, false, false, 0, KEYS[1])
