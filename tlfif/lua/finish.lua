-- Finish a job whose reply is written, in one round trip: signal it (waking every waiter;
-- the signal stays a day and is the job's tombstone, see claim.lua), drop it from the
-- node's in-flight list and its owner's pending set, and delete the body.
--
-- KEYS[1] done signal      {tlfif}:done:<uuid4>
-- KEYS[2] in-flight list   {tlfif}:inflight:<node>
-- KEYS[3] job key          {tlfif}:job:<uuid4>
-- KEYS[4] user pending set {tlfif}:userpending:<sub>
-- ARGV[1] job id
-- ARGV[2] how long the signal stays, seconds
-- Returns how many entries left the in-flight list.

redis.call("RPUSH", KEYS[1], "1")
redis.call("EXPIRE", KEYS[1], tonumber(ARGV[2]))
local removed = redis.call("LREM", KEYS[2], 0, ARGV[1])
redis.call("DEL", KEYS[3])
redis.call("ZREM", KEYS[4], ARGV[1])
return removed
