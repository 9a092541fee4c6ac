-- Where a job is, in one round trip and without scanning the pending list: answered,
-- expired unanswered, held by a node (in one of the nodes' in-flight lists, each as long
-- as that node's job slots), or else waiting.
--
-- KEYS[1] done signal      {tlfif}:done:<uuid4>
-- KEYS[2] job key          {tlfif}:job:<uuid4>
-- KEYS[3] node set         {tlfif}:nodes
-- ARGV[1] in-flight key prefix {tlfif}:inflight:
-- ARGV[2] job id
-- Every key shares the {tlfif} hash tag, so the keys built here sit in KEYS' slot.
-- Returns "done", "gone", "running" or "queued".

if redis.call("EXISTS", KEYS[1]) == 1 then
  return "done"
end
if redis.call("EXISTS", KEYS[2]) == 0 then
  return "gone"
end
for _, node in ipairs(redis.call("SMEMBERS", KEYS[3])) do
  if redis.call("LPOS", ARGV[1] .. node, ARGV[2]) then
    return "running"
  end
end
return "queued"
