-- Reads the jobs of event ARGV[2] (ARGV[1] the prefix), in creation order: one row each of
-- id, route, status, attempts, due, last error (or false).
local P, eid = ARGV[1], ARGV[2]
local pairs_ = redis.call('HGETALL', P .. 'jobs:' .. eid)
local ids = {}
for n = 2, #pairs_, 2 do
  ids[#ids + 1] = tonumber(pairs_[n])
end
table.sort(ids)
local out = {}
for _, id in ipairs(ids) do
  local jid = tostring(id)
  local f = redis.call('HMGET', P .. 'job:' .. jid, 'route', 'status', 'attempts', 'due', 'error')
  out[#out + 1] = { jid, f[1] or '', f[2] or '', f[3] or '0', f[4] or '0', f[5] }
end
return out
