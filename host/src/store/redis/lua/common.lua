-- Prepended to every writing script. ARGV[1] is the key prefix, ARGV[2] the consumer group.
-- Key names follow keys.rs; the moves below keep the one invariant the queue rests on:
-- a pending job has exactly one home, either the `delayed` sorted set (not due yet) or one
-- entry on its route's stream (due; in the group's pending list while leased), and its hash's
-- `entry` field names that entry. Finished jobs have neither.
local P, GROUP = ARGV[1], ARGV[2]

-- Puts a due job on its route's stream. The group is created with the stream, from id 0, so
-- no entry added before the group existed can be missed.
local function make_ready(jid, route)
  local stream = P .. 'stream:' .. route
  if redis.call('SADD', P .. 'routes', route) == 1 then
    redis.pcall('XGROUP', 'CREATE', stream, GROUP, '0', 'MKSTREAM')
  end
  local entry = redis.call('XADD', stream, '*', 'job', jid)
  redis.call('HSET', P .. 'job:' .. jid, 'entry', entry, 'lease', '')
end

-- Parks a job until `due` (lease promotes it then).
local function make_delayed(jid, due)
  redis.call('ZADD', P .. 'delayed', due, jid)
  redis.call('HSET', P .. 'job:' .. jid, 'entry', '', 'lease', '')
end

-- Takes a job's entry off its stream: acknowledged (out of the pending list), then deleted.
-- Streams only ever lose acknowledged entries this way; nothing trims them.
local function release_entry(jid, route, entry)
  if entry and entry ~= '' then
    local stream = P .. 'stream:' .. route
    redis.call('XACK', stream, GROUP, entry)
    redis.call('XDEL', stream, entry)
  end
  redis.call('ZREM', P .. 'leases', jid)
end

-- A new pending job of event `eid` along `route`, due at `due`; ready at once when due by
-- `now`. Returns false when the event already has a job on that route.
local function new_job(eid, route, due, now)
  local jobs = P .. 'jobs:' .. eid
  if redis.call('HEXISTS', jobs, route) == 1 then
    return false
  end
  local jid = tostring(redis.call('INCR', P .. 'seq:job'))
  redis.call('HSET', P .. 'job:' .. jid, 'event', eid, 'route', route, 'status', 'pending',
    'attempts', '0', 'due', due, 'updated', due)
  redis.call('HSET', jobs, route, jid)
  redis.call('ZADD', P .. 'pending', due, jid)
  if tonumber(due) <= tonumber(now) then
    make_ready(jid, route)
  else
    make_delayed(jid, due)
  end
  return true
end

