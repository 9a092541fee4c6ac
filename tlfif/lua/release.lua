-- Give back the jobs a stopping node could not finish: each goes from the node's in-flight
-- list to the consuming end of pending (it waited longest), and lives again only as long as
-- it was meant to from its creation, so a node that stays down (a manual hold) never keeps
-- a job from its "expired" reply for the in-flight hour.
--
-- KEYS[1] in-flight list {tlfif}:inflight:<node>
-- KEYS[2] pending list   {tlfif}:pending
-- ARGV[1] the job key's prefix, "{tlfif}:job:"
-- ARGV[2] a job's time to live from its creation, milliseconds
-- ARGV[3] now, milliseconds
-- Returns the number of jobs given back.

local released = 0
while true do
  local id = redis.call("LMOVE", KEYS[1], KEYS[2], "RIGHT", "RIGHT")
  if not id then
    break
  end
  released = released + 1
  local key = ARGV[1] .. id
  local body = redis.call("GET", key)
  if body then
    local ok, job = pcall(cjson.decode, body)
    local created = ok and tonumber(job["created_ms"]) or 0
    local expire_at = created + tonumber(ARGV[2])
    if expire_at <= tonumber(ARGV[3]) then
      -- Past its lifetime already: expire now, so the next poll or check answers it.
      redis.call("PEXPIRE", key, 1)
    else
      redis.call("PEXPIREAT", key, expire_at)
    end
  end
end
return released
