-- Records an attempt of job ARGV[3] and, while ARGV[4] is still its lease, moves it on.
-- ARGV[5] attempt (JSON), ARGV[6] attempt number, ARGV[7] 'delivered' | 'retry' | 'dead',
-- ARGV[8] retry due (ms), ARGV[9] has_error ('0'/'1'), ARGV[10] error, ARGV[11] now (ms).
-- Returns 1 when the job changed, 0 when only the attempt was recorded.
local jid, lease, now = ARGV[3], ARGV[4], ARGV[11]
local job = P .. 'job:' .. jid
local f = redis.call('HMGET', job, 'event', 'route', 'status', 'lease', 'entry')
local eid, route, status, held, entry = f[1], f[2], f[3], f[4], f[5]
if not eid then
  return 0
end
redis.call('RPUSH', P .. 'attempts:' .. eid, ARGV[5])
if status ~= 'pending' or held ~= lease then
  return 0
end
release_entry(jid, route, entry)
redis.call('HSET', job, 'attempts', ARGV[6], 'lease', '', 'entry', '', 'updated', now)
if ARGV[9] == '1' then
  redis.call('HSET', job, 'error', ARGV[10])
else
  redis.call('HDEL', job, 'error')
end
local kind = ARGV[7]
if kind == 'delivered' then
  redis.call('HSET', job, 'status', 'delivered', 'due', now)
  redis.call('ZREM', P .. 'pending', jid)
elseif kind == 'retry' then
  redis.call('HSET', job, 'due', ARGV[8])
  redis.call('ZADD', P .. 'pending', ARGV[8], jid)
  make_delayed(jid, ARGV[8])
else
  redis.call('HSET', job, 'status', 'dead_lettered', 'due', now)
  redis.call('ZREM', P .. 'pending', jid)
  local source = redis.call('HGET', P .. 'event:' .. eid, 'source') or ''
  redis.call('ZADD', P .. 'dlq', now, 'j:' .. jid)
  redis.call('ZADD', P .. 'dlq:route:' .. route, now, 'j:' .. jid)
  redis.call('ZADD', P .. 'dlq:source:' .. source, now, 'j:' .. jid)
end
return 1
