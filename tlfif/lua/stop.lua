-- The one way a node decides to stop: only when nothing is pending and nothing is in
-- flight on it, mark its heartbeat "stopping" in the same step, so a prompt that
-- arrives after this sees "stopping" and starts the node again.
--
-- KEYS[1] pending list   {tlfif}:pending
-- KEYS[2] in-flight list {tlfif}:inflight:<node>
-- KEYS[3] heartbeat key  {tlfif}:node:<node>
-- ARGV[1] heartbeat JSON with state "stopping"
-- ARGV[2] heartbeat TTL, ms
-- Returns 1 when the node may stop, 0 when work is waiting.

if redis.call("LLEN", KEYS[1]) > 0 or redis.call("LLEN", KEYS[2]) > 0 then
  return 0
end
redis.call("SET", KEYS[3], ARGV[1], "PX", tonumber(ARGV[2]))
return 1
