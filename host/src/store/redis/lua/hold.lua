-- Holds route ARGV[1] for ARGV[2] ms from now (server clock) in the hash KEYS[1]
-- (route -> end, ms), unless it is already held longer. Returns the ms it is held now.
local key, route, ms = KEYS[1], ARGV[1], tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wanted = now + ms
local current = tonumber(redis.call('HGET', key, route))
if current == nil or current < wanted then
  redis.call('HSET', key, route, string.format('%d', wanted))
  current = wanted
end
return current - now
