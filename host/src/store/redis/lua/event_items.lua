-- Summarizes events ARGV[2..] (ARGV[1] the prefix): one row each of source, type, status,
-- received_at_ms, jobs, delivered jobs, dead-lettered jobs.
local P = ARGV[1]
local out = {}
for a = 2, #ARGV do
  local eid = ARGV[a]
  local e = redis.call('HMGET', P .. 'event:' .. eid, 'source', 'type', 'status', 'received')
  local jobs = redis.call('HVALS', P .. 'jobs:' .. eid)
  local delivered, dead = 0, 0
  for _, jid in ipairs(jobs) do
    local s = redis.call('HGET', P .. 'job:' .. jid, 'status')
    if s == 'delivered' then
      delivered = delivered + 1
    elseif s == 'dead_lettered' then
      dead = dead + 1
    end
  end
  out[#out + 1] = { e[1] or '', e[2] or '', e[3] or '', e[4] or '0', #jobs, delivered, dead }
end
return out
