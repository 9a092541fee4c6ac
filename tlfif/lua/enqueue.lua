-- Enqueue one job atomically: job body, owner record, idempotency mapping, per-user
-- pending cap and the pending list, all or nothing; nothing under the budget hold.
--
-- KEYS[1] job key          {tlfif}:job:<uuid4>   (any other shape is refused)
-- KEYS[2] owner key        {tlfif}:owner:<uuid4>
-- KEYS[3] pending list     {tlfif}:pending
-- KEYS[4] idempotency key  {tlfif}:idem:<sub>:<key>  (or the job key again when none was given)
-- KEYS[5] user pending set {tlfif}:userpending:<sub>  (sorted set: id -> expiry ms)
-- KEYS[6] hold             {tlfif}:hold
-- KEYS[7] node set         {tlfif}:nodes
-- KEYS[8] EC2 state cache  {tlfif}:ec2state
-- KEYS[9] wake marker      {tlfif}:woken:<sub>  (set by the user's POST /wake; a new job
--                          consumes it: the wake was followed by a prompt)
-- ARGV[1] job JSON
-- ARGV[2] owner JSON
-- ARGV[3] job id
-- ARGV[4] job TTL, seconds
-- ARGV[5] owner and idempotency TTL, seconds
-- ARGV[6] "1" if KEYS[4] is a real idempotency key
-- ARGV[7] now, ms
-- ARGV[8] per-user pending cap (0 = none)
-- ARGV[9] heartbeat key prefix {tlfif}:node: to also answer what view.lua does, or ""
-- Returns {id, created, depth, followed, ...}: created is 1 for a new job, 0 for an
-- idempotent repeat; depth is the pending list's length after it; followed is 1 when the new
-- job consumed the wake marker; with ARGV[9], view.lua's answer follows
-- (the router's warm path: one round trip for the job and the node's state). Or the error "budget" under the budget
-- hold, or "cap" when the user already holds the cap of pending jobs.

local uuid = "%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x"
if not string.match(KEYS[1], "^{tlfif}:job:" .. uuid .. "$")
   or string.match(KEYS[1], "%u") then
  return redis.error_reply("bad job key: " .. KEYS[1])
end

local hold = redis.call("GET", KEYS[6])
if hold == "budget" then
  return redis.error_reply("budget")
end

-- As view.lua: the hold, the cached EC2 state, every live heartbeat.
local function answer(id, created, depth, followed)
  local out = {id, created, depth, followed}
  if ARGV[9] == "" then
    return out
  end
  out[5] = hold
  out[6] = redis.call("GET", KEYS[8])
  local nodes = redis.call("SMEMBERS", KEYS[7])
  table.sort(nodes)
  for _, node in ipairs(nodes) do
    local beat = redis.call("GET", ARGV[9] .. node)
    if beat then
      out[#out + 1] = beat
    end
  end
  return out
end

if ARGV[6] == "1" then
  local existing = redis.call("GET", KEYS[4])
  if existing then
    return answer(existing, 0, redis.call("LLEN", KEYS[3]), 0)
  end
end

local now = tonumber(ARGV[7])
local cap = tonumber(ARGV[8])
redis.call("ZREMRANGEBYSCORE", KEYS[5], "-inf", now)
if cap > 0 and redis.call("ZCARD", KEYS[5]) >= cap then
  return redis.error_reply("cap")
end

local ttl = tonumber(ARGV[4])
local keep = tonumber(ARGV[5])
redis.call("SET", KEYS[1], ARGV[1], "EX", ttl)
redis.call("SET", KEYS[2], ARGV[2], "EX", keep)
local depth = redis.call("LPUSH", KEYS[3], ARGV[3])
redis.call("ZADD", KEYS[5], now + ttl * 1000, ARGV[3])
redis.call("PEXPIRE", KEYS[5], ttl * 1000)
if ARGV[6] == "1" then
  redis.call("SET", KEYS[4], ARGV[3], "EX", keep)
end
return answer(ARGV[3], 1, depth, redis.call("DEL", KEYS[9]))
