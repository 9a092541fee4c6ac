-- Read a job just moved into a node's in-flight list and keep it while it runs.
-- The 300 s TTL purges jobs nobody took; once a node holds one, an expiry mid-run
-- would make a poll answer "expired" for a job that is being answered.
--
-- KEYS[1] job key {tlfif}:job:<uuid4>
-- ARGV[1] TTL to hold the job for while in flight, seconds
-- Returns the job JSON, or nil when it expired before it was claimed.

local body = redis.call("GET", KEYS[1])
if body then
  redis.call("EXPIRE", KEYS[1], tonumber(ARGV[1]))
end
return body
