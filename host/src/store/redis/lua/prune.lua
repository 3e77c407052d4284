-- Deletes up to ARGV[5] events that retention lets go, oldest first, each with its jobs,
-- attempts and index entries. ARGV[3] delivered cut-off (ms), ARGV[4] dead-lettered cut-off,
-- ARGV[6], ARGV[7] the cursor: score and member of the last event examined ('' to start).
-- An event with a pending job is kept whatever its age. The idempotency key is left to its
-- TTL, so a redelivery inside the dedupe window stays a duplicate.
-- Returns {deleted, examined, last score, last member}.
local delivered_before, dead_before = tonumber(ARGV[3]), tonumber(ARGV[4])
local max, after_score, after_member = tonumber(ARGV[5]), ARGV[6], ARGV[7]
local oldest_cutoff = math.max(delivered_before, dead_before)
local min = '-inf'
if after_score ~= '' then
  min = after_score
end
-- Members of the cursor's own score that were examined already come first (equal scores
-- are ordered by member): read enough to get past them.
local entries = redis.call('ZRANGE', P .. 'events', min, '(' .. oldest_cutoff, 'BYSCORE',
  'WITHSCORES', 'LIMIT', 0, max * 2)
local deleted, examined, last_score, last_member = 0, 0, after_score, after_member
for i = 1, #entries, 2 do
  local id, score = entries[i], entries[i + 1]
  if after_score == '' or tonumber(score) > tonumber(after_score) or id > after_member then
    if examined >= max then
      break
    end
    examined = examined + 1
    last_score, last_member = score, id
    local ekey = P .. 'event:' .. id
    local f = redis.call('HMGET', ekey, 'status', 'source', 'type')
    local status, source, typ = f[1], f[2] or '', f[3] or ''
    local jobs = redis.call('HGETALL', P .. 'jobs:' .. id)
    local pending, dead = false, status == 'dead_lettered'
    for j = 2, #jobs, 2 do
      local js = redis.call('HGET', P .. 'job:' .. jobs[j], 'status')
      if js == 'pending' then
        pending = true
      elseif js == 'dead_lettered' then
        dead = true
      end
    end
    local cutoff = delivered_before
    if dead then
      cutoff = dead_before
    end
    if not pending and tonumber(score) < cutoff then
      for j = 1, #jobs, 2 do
        local route, jid = jobs[j], jobs[j + 1]
        redis.call('DEL', P .. 'job:' .. jid)
        redis.call('ZREM', P .. 'pending', jid)
        redis.call('ZREM', P .. 'dlq', 'j:' .. jid)
        redis.call('ZREM', P .. 'dlq:route:' .. route, 'j:' .. jid)
        redis.call('ZREM', P .. 'dlq:source:' .. source, 'j:' .. jid)
      end
      redis.call('DEL', ekey, P .. 'jobs:' .. id, P .. 'attempts:' .. id)
      redis.call('ZREM', P .. 'events', id)
      redis.call('ZREM', P .. 'events:source:' .. source, id)
      redis.call('ZREM', P .. 'events:type:' .. typ, id)
      redis.call('ZREM', P .. 'dlq', 'e:' .. id)
      redis.call('ZREM', P .. 'dlq:source:' .. source, 'e:' .. id)
      deleted = deleted + 1
    end
  end
end
return {deleted, examined, last_score, last_member}
