-- Read a job just moved into a node's in-flight list and keep it while it runs.
-- The 300 s TTL purges jobs nobody took; once a node holds one, an expiry mid-run
-- would make a poll answer "expired" for a job that is being answered.
--
-- A job already answered is skipped here, in O(1): its done signal is the tombstone. That
-- covers an id still pending after its job expired and was answered "expired", a copy
-- requeued while its first node still finished it, and a queued job cancelled once its
-- reply is written. A job with a cancel mark (cancel.lua) is not run: the node answers it
-- "cancelled" (the router may be writing the same answer; the write-once reply keeps one).
--
-- KEYS[1] job key          {tlfif}:job:<uuid4>
-- KEYS[2] done signal      {tlfif}:done:<uuid4>
-- KEYS[3] in-flight list   {tlfif}:inflight:<node>
-- KEYS[4] cancel mark      {tlfif}:cancel:<uuid4>
-- ARGV[1] TTL to hold the job for while in flight, seconds
-- ARGV[2] job id
-- Returns the job JSON; 0 when it was already answered (it is dropped from the in-flight
-- list, and any body left with it); 1 when it was cancelled (kept in flight, to be answered);
-- nil when it expired before it was claimed.

if redis.call("EXISTS", KEYS[2]) == 1 then
  redis.call("LREM", KEYS[3], 1, ARGV[2])
  redis.call("DEL", KEYS[1])
  return 0
end
local body = redis.call("GET", KEYS[1])
if body then
  redis.call("EXPIRE", KEYS[1], tonumber(ARGV[1]))
  if redis.call("EXISTS", KEYS[4]) == 1 then
    return 1
  end
end
return body
