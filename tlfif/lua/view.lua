-- What the router reads of the node, in one round trip: the hold, the cached EC2 state
-- and every live heartbeat. enqueue.lua appends the same to a new job's answer (POST
-- /infer's one round trip): change both together.
--
-- KEYS[1] node set         {tlfif}:nodes
-- KEYS[2] hold             {tlfif}:hold
-- KEYS[3] EC2 state cache  {tlfif}:ec2state
-- ARGV[1] heartbeat key prefix {tlfif}:node:
-- Every key shares the {tlfif} hash tag, so the keys built here sit in KEYS' slot.
-- Returns {hold or nil, EC2 state or nil, heartbeat JSON, ...} (nodes in name order; a
-- node whose heartbeat lapsed is left out).

local view = {redis.call("GET", KEYS[2]), redis.call("GET", KEYS[3])}
local nodes = redis.call("SMEMBERS", KEYS[1])
table.sort(nodes)
for _, node in ipairs(nodes) do
  local beat = redis.call("GET", ARGV[1] .. node)
  if beat then
    view[#view + 1] = beat
  end
end
return view
