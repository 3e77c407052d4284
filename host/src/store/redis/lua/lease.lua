-- Leases up to ARGV[6] jobs due at ARGV[4] for consumer ARGV[3], until ARGV[5]; ARGV[7] is
-- the number of skipped routes that follow. Returns one row per job: id, event id, route,
-- attempts, lease until, event type, envelope, payload.
--
-- 1. delayed jobs now due are promoted onto their streams;
-- 2. jobs whose lease expired (by the caller's clock, the lease's own unit) are claimed from
--    the consumer that held them (XCLAIM), a crashed node's included;
-- 3. new entries are read with XREADGROUP, one route at a time in turn, so each entry goes
--    to one consumer and a busy route cannot starve the others.
-- Lease tokens grow strictly per job, so a worker whose lease was taken over can never match
-- the newer lease, even when both were taken in the same millisecond.
local CONSUMER = ARGV[3]
local now, limit = tonumber(ARGV[4]), tonumber(ARGV[6])
local skip = {}
for a = 8, 7 + tonumber(ARGV[7]) do
  skip[ARGV[a]] = true
end
local taken = {}

local function take(jid, entry)
  local job = P .. 'job:' .. jid
  local last = tonumber(redis.call('HGET', job, 'last_lease') or '0') or 0
  local until_ms = string.format('%d', math.max(tonumber(ARGV[5]), last + 1))
  redis.call('HSET', job, 'lease', until_ms, 'last_lease', until_ms, 'entry', entry)
  redis.call('ZADD', P .. 'leases', until_ms, jid)
  taken[#taken + 1] = { jid, until_ms }
end

-- 1. Promotion (bounded, so one call never runs long; the rest waits for the next).
local due = redis.call('ZRANGEBYSCORE', P .. 'delayed', '-inf', ARGV[4], 'LIMIT', 0, 1000)
for _, jid in ipairs(due) do
  redis.call('ZREM', P .. 'delayed', jid)
  local route = redis.call('HGET', P .. 'job:' .. jid, 'route')
  if route then
    make_ready(jid, route)
  end
end

-- 2. Expired leases.
if limit > 0 then
  local expired = redis.call('ZRANGEBYSCORE', P .. 'leases', '-inf', ARGV[4], 'LIMIT', 0, limit + 100)
  for _, jid in ipairs(expired) do
    if #taken >= limit then
      break
    end
    local f = redis.call('HMGET', P .. 'job:' .. jid, 'route', 'status', 'entry')
    local route, status, entry = f[1], f[2], f[3]
    if status ~= 'pending' or not route then
      redis.call('ZREM', P .. 'leases', jid)
    elseif not skip[route] then
      local stream = P .. 'stream:' .. route
      local claimed = {}
      if entry and entry ~= '' then
        claimed = redis.call('XCLAIM', stream, GROUP, CONSUMER, 0, entry, 'JUSTID')
      end
      if #claimed == 1 then
        take(jid, entry)
      else
        -- Its entry is gone from the group's pending list (deleted by hand, group
        -- recreated): give the job a fresh one, read below or by the next lease.
        if entry and entry ~= '' then
          redis.call('XDEL', stream, entry)
        end
        redis.call('ZREM', P .. 'leases', jid)
        make_ready(jid, route)
      end
    end
  end
end

-- 3. New entries, round-robin over the routes not skipped.
local routes = redis.call('SMEMBERS', P .. 'routes')
table.sort(routes)
local active = {}
for _, r in ipairs(routes) do
  if not skip[r] then
    active[#active + 1] = r
  end
end
if #active > 1 then
  -- Start at a different route each millisecond, so a limit smaller than the number of
  -- routes does not always favour the first.
  local start = now % #active
  local rotated = {}
  for n = 1, #active do
    rotated[n] = active[((start + n - 1) % #active) + 1]
  end
  active = rotated
end
while #taken < limit and #active > 0 do
  local still = {}
  for _, route in ipairs(active) do
    if #taken >= limit then
      break
    end
    local stream = P .. 'stream:' .. route
    local res = redis.pcall('XREADGROUP', 'GROUP', GROUP, CONSUMER, 'COUNT', 1, 'STREAMS', stream, '>')
    if type(res) == 'table' and res.err then
      if string.find(res.err, 'NOGROUP', 1, true) then
        redis.pcall('XGROUP', 'CREATE', stream, GROUP, '0', 'MKSTREAM')
        still[#still + 1] = route
      else
        return redis.error_reply(res.err)
      end
    elseif res then
      local entry = res[1][2][1]
      local id, jid = entry[1], entry[2][2]
      local f = redis.call('HMGET', P .. 'job:' .. jid, 'status', 'due', 'entry')
      if f[1] ~= 'pending' or f[3] ~= id then
        -- Not this job's entry any more: drop it.
        redis.call('XACK', stream, GROUP, id)
        redis.call('XDEL', stream, id)
      elseif tonumber(f[2]) > now then
        -- Due later by the caller's clock than by the writer's: park it.
        redis.call('XACK', stream, GROUP, id)
        redis.call('XDEL', stream, id)
        make_delayed(jid, f[2])
      else
        take(jid, id)
      end
      still[#still + 1] = route
    end
  end
  active = still
end

local out = {}
for _, t in ipairs(taken) do
  local jid = t[1]
  local j = redis.call('HMGET', P .. 'job:' .. jid, 'event', 'route', 'attempts')
  local e = redis.call('HMGET', P .. 'event:' .. j[1], 'type', 'envelope', 'payload')
  out[#out + 1] = { jid, j[1], j[2], j[3], t[2], e[1] or '', e[2] or '', e[3] or '' }
end
return out
