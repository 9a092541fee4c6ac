-- Claim the oldest pending job without waiting, and read it, in one round trip: the claim
-- a node makes while there is a backlog (an empty queue falls back to a blocking BLMOVE,
-- which a script cannot do, and then claim.lua). The same rules as claim.lua: a job
-- already answered (its done signal is the tombstone) is dropped, not returned; a job
-- taken is kept while it runs; a job with a cancel mark (cancel.lua) is taken to be answered
-- "cancelled", never run.
--
-- KEYS[1] pending list     {tlfif}:pending
-- KEYS[2] in-flight list   {tlfif}:inflight:<node>
-- ARGV[1] job key prefix   {tlfif}:job:
-- ARGV[2] done key prefix  {tlfif}:done:
-- ARGV[3] TTL to hold the job for while in flight, seconds
-- ARGV[4] how many answered ids one call may drop before it gives up (and returns nil)
-- ARGV[5] cancel mark prefix {tlfif}:cancel:
-- Every key shares the {tlfif} hash tag, so the keys built here sit in KEYS' slot.
-- Returns {id, body} for the job taken ({id, ""}: it expired before it was claimed;
-- {id, body, 1}: it was cancelled, answer it so); nil when nothing unanswered was pending.

for _ = 1, tonumber(ARGV[4]) do
  local id = redis.call("LMOVE", KEYS[1], KEYS[2], "RIGHT", "LEFT")
  if not id then
    return nil
  end
  local key = ARGV[1] .. id
  if redis.call("EXISTS", ARGV[2] .. id) == 0 then
    local body = redis.call("GET", key)
    if body then
      redis.call("EXPIRE", key, tonumber(ARGV[3]))
      if redis.call("EXISTS", ARGV[5] .. id) == 1 then
        return {id, body, 1}
      end
      return {id, body}
    end
    return {id, ""}
  end
  redis.call("LREM", KEYS[2], 1, id)
  redis.call("DEL", key)
end
return nil
