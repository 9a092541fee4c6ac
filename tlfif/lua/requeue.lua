-- Move a node's in-flight jobs back to pending, but only if the node is dead (no
-- heartbeat) or is the caller itself reclaiming at start. Jobs go to the consuming
-- end of pending, so they run next: they waited longest.
--
-- KEYS[1] heartbeat key  {tlfif}:node:<node>
-- KEYS[2] in-flight list {tlfif}:inflight:<node>
-- KEYS[3] pending list   {tlfif}:pending
-- KEYS[4] node set       {tlfif}:nodes
-- ARGV[1] node id
-- ARGV[2] "force" to reclaim regardless of the heartbeat (the node itself, at start)
-- Returns the number of jobs moved, or -1 when the node is alive and not forced.

if ARGV[2] ~= "force" and redis.call("EXISTS", KEYS[1]) == 1 then
  return -1
end
local moved = 0
while redis.call("LMOVE", KEYS[2], KEYS[3], "RIGHT", "RIGHT") do
  moved = moved + 1
end
if ARGV[2] ~= "force" then
  redis.call("SREM", KEYS[4], ARGV[1])
end
return moved
