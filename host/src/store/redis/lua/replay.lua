-- Queues event ARGV[3] again along the routes ARGV[5..], due at ARGV[4]: dead-lettered jobs of
-- those routes become pending with a fresh retry schedule (attempts back to 0; the attempt
-- history is kept), routes without a job get one,
-- delivered and pending jobs are left alone. Returns the routes queued.
local eid, now = ARGV[3], ARGV[4]
local ekey = P .. 'event:' .. eid
if redis.call('EXISTS', ekey) == 0 then
  return {}
end
local source = redis.call('HGET', ekey, 'source') or ''
local queued = {}
for a = 5, #ARGV do
  local route = ARGV[a]
  local jid = redis.call('HGET', P .. 'jobs:' .. eid, route)
  if not jid then
    if new_job(eid, route, now, now) then
      queued[#queued + 1] = route
    end
  else
    local job = P .. 'job:' .. jid
    if redis.call('HGET', job, 'status') == 'dead_lettered' then
      redis.call('HSET', job, 'status', 'pending', 'due', now, 'updated', now, 'attempts', 0)
      redis.call('ZREM', P .. 'dlq', 'j:' .. jid)
      redis.call('ZREM', P .. 'dlq:route:' .. route, 'j:' .. jid)
      redis.call('ZREM', P .. 'dlq:source:' .. source, 'j:' .. jid)
      redis.call('ZADD', P .. 'pending', now, jid)
      make_ready(jid, route)
      queued[#queued + 1] = route
    end
  end
end
return queued
