-- Takes one token from the bucket KEYS[1] (hash: tokens, ts in µs of the server clock).
-- ARGV[1] tokens per second, ARGV[2] burst. Returns 0 when a token was taken, else the
-- milliseconds until one is available (at least 1).
--
-- The clock is the server's (TIME), never a node's: nodes with skewed clocks share one
-- timeline. A missing key is a full bucket; the key expires once the bucket would be full
-- again, so idle buckets cost nothing. A refusal writes nothing: refill is linear in time,
-- so computing it later from the same `ts` gives the same answer.
local key = KEYS[1]
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local f = redis.call('HMGET', key, 'tokens', 'ts')
local tokens, ts = tonumber(f[1]), tonumber(f[2])
if tokens == nil or ts == nil then
  tokens, ts = burst, now
end
local elapsed = now - ts
if elapsed < 0 then
  elapsed = 0
end
tokens = math.min(burst, tokens + elapsed * rate / 1000000)
if tokens >= 1 then
  tokens = tokens - 1
  redis.call('HSET', key, 'tokens', string.format('%.17g', tokens), 'ts', string.format('%d', now))
  local refill_ms = math.ceil((burst - tokens) * 1000 / rate)
  redis.call('PEXPIRE', key, refill_ms + 1000)
  return 0
end
return math.max(1, math.ceil((1 - tokens) * 1000 / rate))
