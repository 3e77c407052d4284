-- Reads dead letters by their index members (ARGV[2..]; ARGV[1] the prefix): `j:<job id>` a
-- job that gave up, `e:<event id>` a payload that could not be normalized. One row each of
-- event id, route (or ''), source, type, attempts, error (or false), received_at_ms, the
-- platform's event id.
local P = ARGV[1]
local out = {}
for a = 2, #ARGV do
  local member = ARGV[a]
  local kind, id = string.sub(member, 1, 1), string.sub(member, 3)
  if kind == 'j' then
    local j = redis.call('HMGET', P .. 'job:' .. id, 'event', 'route', 'attempts', 'error')
    local e = redis.call('HMGET', P .. 'event:' .. (j[1] or ''), 'source', 'type', 'received', 'pid')
    out[#out + 1] = { j[1] or '', j[2] or '', e[1] or '', e[2] or '', j[3] or '0', j[4], e[3] or '0', e[4] or '' }
  else
    local e = redis.call('HMGET', P .. 'event:' .. id, 'source', 'type', 'error', 'received', 'pid')
    out[#out + 1] = { id, '', e[1] or '', e[2] or '', '0', e[3], e[4] or '0', e[5] or '' }
  end
end
return out
