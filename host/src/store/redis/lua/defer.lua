-- Gives leased job ARGV[3] back, due at ARGV[5], while ARGV[4] is still its lease.
local jid, lease, due = ARGV[3], ARGV[4], ARGV[5]
local job = P .. 'job:' .. jid
local f = redis.call('HMGET', job, 'route', 'status', 'lease', 'entry')
if f[2] ~= 'pending' or f[3] ~= lease then
  return 0
end
release_entry(jid, f[1], f[4])
redis.call('HSET', job, 'due', due)
redis.call('ZADD', P .. 'pending', due, jid)
make_delayed(jid, due)
return 1
