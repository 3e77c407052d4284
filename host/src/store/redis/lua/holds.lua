-- Every hold of the hash KEYS[1] still running: a flat list route, ms left, ...; holds that
-- ended are removed on the way.
local key = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local all = redis.call('HGETALL', key)
local out = {}
for i = 1, #all, 2 do
  local route, ends = all[i], tonumber(all[i + 1])
  if ends == nil or ends <= now then
    redis.call('HDEL', key, route)
  else
    out[#out + 1] = route
    out[#out + 1] = ends - now
  end
end
return out
