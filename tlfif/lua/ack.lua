-- Finish a job once its reply is written and signalled: drop it from the node's
-- in-flight list, from its owner's pending set, and delete the body.
--
-- KEYS[1] in-flight list   {tlfif}:inflight:<node>
-- KEYS[2] job key          {tlfif}:job:<uuid4>
-- KEYS[3] user pending set {tlfif}:userpending:<sub>
-- ARGV[1] job id
-- Returns how many entries left the in-flight list.

local removed = redis.call("LREM", KEYS[1], 0, ARGV[1])
redis.call("DEL", KEYS[2])
redis.call("ZREM", KEYS[3], ARGV[1])
return removed
