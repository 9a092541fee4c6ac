-- Set the hold on node starts. A budget hold is never replaced by a manual one: a
-- POST /stop during a budget hold must not turn it into a hold the next prompt lifts.
--
-- KEYS[1] hold key   {tlfif}:hold
-- ARGV[1] kind       "manual" | "budget"
-- ARGV[2] TTL, s     0 for none
-- Returns the hold in force after the call.

if ARGV[1] == "manual" and redis.call("GET", KEYS[1]) == "budget" then
  return "budget"
end
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  redis.call("SET", KEYS[1], ARGV[1], "EX", ttl)
else
  redis.call("SET", KEYS[1], ARGV[1])
end
return ARGV[1]
