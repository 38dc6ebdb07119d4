#pragma once
// Lua scripts of the Redis session store: each decision is one script, so admission, renewal and
// eviction are atomic across every edge of the fleet. Both keys of a viewer share the hash tag
// {<viewer hash>}, so a script only touches one Redis Cluster slot.
//   KEYS[1] live:    hash sid → "<started_ms>:<renewed_ms>"
//   KEYS[2] evicted: zset sid scored by eviction time
namespace cdn::auth::redis_scripts {

// ARGV: sid, limit, block_new (0/1), now_ms, lease_ms, evicted_memory_ms.
// Returns 0 Allowed, 1 Evicted, 2 LimitReached.
inline constexpr const char* kAdmit = R"LUA(
local live, ev = KEYS[1], KEYS[2]
local sid, limit, block = ARGV[1], tonumber(ARGV[2]), ARGV[3] == '1'
local now, lease, mem = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
redis.call('ZREMRANGEBYSCORE', ev, '-inf', now - mem)
if redis.call('ZSCORE', ev, sid) then return 1 end
local flat = redis.call('HGETALL', live)
local others, mine = {}, nil
for i = 1, #flat, 2 do
  local started, renewed = string.match(flat[i + 1], '^(%d+):(%d+)$')
  if started == nil or tonumber(renewed) + lease <= now then
    redis.call('HDEL', live, flat[i])
  elseif flat[i] == sid then
    mine = started
  else
    others[#others + 1] = {flat[i], tonumber(started)}
  end
end
if mine == nil and limit > 0 and #others >= limit then
  if block then return 2 end
  table.sort(others, function(a, b) return a[2] < b[2] end)
  for i = 1, #others - limit + 1 do
    redis.call('HDEL', live, others[i][1])
    redis.call('ZADD', ev, now, others[i][1])
  end
  redis.call('PEXPIRE', ev, mem)
end
redis.call('HSET', live, sid, (mine or ARGV[4]) .. ':' .. ARGV[4])
redis.call('PEXPIRE', live, lease)
return 0
)LUA";

// ARGV: sid, now_ms, evicted_memory_ms. Returns 1 when the session was live.
inline constexpr const char* kKick = R"LUA(
local existed = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3]))
return existed
)LUA";

// ARGV: now_ms, lease_ms. Returns a flat array sid, started, renewed of live sessions.
inline constexpr const char* kList = R"LUA(
local flat = redis.call('HGETALL', KEYS[1])
local now, lease, out = tonumber(ARGV[1]), tonumber(ARGV[2]), {}
for i = 1, #flat, 2 do
  local started, renewed = string.match(flat[i + 1], '^(%d+):(%d+)$')
  if started and tonumber(renewed) + lease > now then
    out[#out + 1] = flat[i]; out[#out + 1] = started; out[#out + 1] = renewed
  end
end
return out
)LUA";

}  // namespace cdn::auth::redis_scripts
