-- One rate-limit check, atomically: a sliding log of one caller's admitted requests in
-- one bucket ("write" or "read"), checked against every limit of that bucket at once.
-- A refused request is not recorded, so the wait it is told stays true.
--
-- KEYS[1] request log  {tlfif}:throttle:<bucket>:<who>  (sorted set: unique member -> ms)
-- ARGV[1] now, ms (the caller's clock: tests pass a fake one)
-- ARGV[2] a member unique to this request
-- ARGV[3], ARGV[4], ... pairs of (limit, window ms): at most `limit` requests in any
--         `window`; a limit of 0 is none
-- Returns 0 when the request passes (and is recorded), else the ms until one would pass.

local now = tonumber(ARGV[1])
local longest = 0
for i = 3, #ARGV, 2 do
  longest = math.max(longest, tonumber(ARGV[i + 1]))
end
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", now - longest)

local wait = 0
for i = 3, #ARGV, 2 do
  local limit, window = tonumber(ARGV[i]), tonumber(ARGV[i + 1])
  if limit > 0 then
    local since = "(" .. (now - window)
    local count = redis.call("ZCOUNT", KEYS[1], since, "+inf")
    if count >= limit then
      -- One more fits once the entry `count - limit` places from the oldest has left.
      local entry = redis.call("ZRANGEBYSCORE", KEYS[1], since, "+inf",
                               "WITHSCORES", "LIMIT", count - limit, 1)
      wait = math.max(wait, tonumber(entry[2]) + window - now)
    end
  end
end
if wait > 0 then
  return wait
end

redis.call("ZADD", KEYS[1], now, ARGV[2])
redis.call("PEXPIRE", KEYS[1], longest)
return 0
