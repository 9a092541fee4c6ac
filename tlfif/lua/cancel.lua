-- Ask to cancel a job, in one round trip: where it is, and the cancel mark when it is still
-- to be answered. The mark is what a node reads: at claim (claim.lua, take.lua: a queued job
-- never reaches the engine) and between tokens while it runs (watcher/cancel_watch.py).
--
-- KEYS[1] done signal      {tlfif}:done:<uuid4>
-- KEYS[2] job key          {tlfif}:job:<uuid4>
-- KEYS[3] node set         {tlfif}:nodes
-- KEYS[4] cancel mark      {tlfif}:cancel:<uuid4>
-- ARGV[1] in-flight key prefix {tlfif}:inflight:
-- ARGV[2] job id
-- ARGV[3] how long the mark stays, seconds (as long as a job may be held in flight)
-- Every key shares the {tlfif} hash tag, so the keys built here sit in KEYS' slot.
-- Returns "done" (answered already: no mark), "gone" (expired unanswered: no mark),
-- "running" (held by a node) or "queued" (waiting), as state.lua.

if redis.call("EXISTS", KEYS[1]) == 1 then
  return "done"
end
if redis.call("EXISTS", KEYS[2]) == 0 then
  return "gone"
end
redis.call("SET", KEYS[4], "1", "EX", tonumber(ARGV[3]))
for _, node in ipairs(redis.call("SMEMBERS", KEYS[3])) do
  if redis.call("LPOS", ARGV[1] .. node, ARGV[2]) then
    return "running"
  end
end
return "queued"
