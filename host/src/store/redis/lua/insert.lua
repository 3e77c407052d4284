-- Stores a batch of events atomically. ARGV[3] dedupe window (ms), ARGV[4] now (ms),
-- ARGV[5] number of events, then per event: id, source, platform event id, type, status,
-- has_error ('0'/'1'), error, received_at_ms, envelope, payload, route count, routes...
-- Returns one integer per event: 1 stored now, 0 a duplicate.
--
-- The idempotency key (SET NX with the window as TTL) decides; an event whose key expired but
-- which is still stored is a duplicate too, because a second set of jobs would deliver it
-- twice. Every write of an event happens in this one script, so a concurrent copy sees all of
-- it or none of it.
local window, now = ARGV[3], ARGV[4]
local out = {}
local i = 6
for n = 1, tonumber(ARGV[5]) do
  local id, source, pid, typ, status = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local has_error, err, received = ARGV[i + 5], ARGV[i + 6], ARGV[i + 7]
  local envelope, payload = ARGV[i + 8], ARGV[i + 9]
  local first_route = i + 11
  local last_route = first_route + tonumber(ARGV[i + 10]) - 1
  i = last_route + 1
  local ekey = P .. 'event:' .. id
  local fresh = redis.call('SET', P .. 'idem:' .. id, '1', 'NX', 'PX', window)
  if fresh and redis.call('EXISTS', ekey) == 0 then
    redis.call('HSET', ekey, 'source', source, 'pid', pid, 'type', typ, 'status', status,
      'received', received, 'envelope', envelope, 'payload', payload)
    if has_error == '1' then
      redis.call('HSET', ekey, 'error', err)
    end
    redis.call('ZADD', P .. 'events', received, id)
    redis.call('ZADD', P .. 'events:source:' .. source, received, id)
    redis.call('ZADD', P .. 'events:type:' .. typ, received, id)
    if status == 'pending' then
      for r = first_route, last_route do
        new_job(id, ARGV[r], received, now)
      end
    else
      -- Verified but not normalized: a dead letter without a route, never delivered.
      redis.call('ZADD', P .. 'dlq', received, 'e:' .. id)
      redis.call('ZADD', P .. 'dlq:source:' .. source, received, 'e:' .. id)
    end
    out[n] = 1
  else
    out[n] = 0
  end
end
return out
