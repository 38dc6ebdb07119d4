#pragma once
// Lua scripts of the Redis session store: each decision is one script, so admission, renewal and
// eviction are atomic across every edge of the fleet. Both keys of a viewer share the hash tag
// {<viewer hash>}, so a script only touches one Redis Cluster slot.
//   KEYS[1] live:    hash stream id → "<started_ms>:<renewed_ms>"; stream id = sid "\n" place (the
//                    place never holds "\n", so the last "\n" splits it however odd the sid)
//   KEYS[2] evicted: zset scored by eviction time of "s:" stream id (evicted by a newer stream)
//                    and "k:" sid (kicked by the admin: every place)
namespace cdn::auth::redis_scripts {

// ARGV: sid, limit, block_new (0/1), now_ms, lease_ms, evicted_memory_ms, place, refuse (0/1:
// a sid live at another place is refused rather than a new stream).
// Returns 0 Allowed, 1 Evicted, 2 LimitReached, 3 AllowedNewPlace, 4 InUseElsewhere.
inline constexpr const char* kAdmit = R"LUA(
local live, ev = KEYS[1], KEYS[2]
local sid, limit, block = ARGV[1], tonumber(ARGV[2]), ARGV[3] == '1'
local now, lease, mem = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local place, refuse = ARGV[7], ARGV[8] == '1'
local id, sid_nl = sid .. '\n' .. place, sid .. '\n'
redis.call('ZREMRANGEBYSCORE', ev, '-inf', now - mem)
if redis.call('ZSCORE', ev, 's:' .. id) or redis.call('ZSCORE', ev, 'k:' .. sid) then return 1 end
local flat = redis.call('HGETALL', live)
local others, mine, elsewhere = {}, nil, false
for i = 1, #flat, 2 do
  local started, renewed = string.match(flat[i + 1], '^(%d+):(%d+)$')
  if started == nil or tonumber(renewed) + lease <= now then
    redis.call('HDEL', live, flat[i])
  elseif flat[i] == id then
    mine = started
  else
    others[#others + 1] = {flat[i], tonumber(started)}
    if string.sub(flat[i], 1, #sid_nl) == sid_nl and not string.find(flat[i], '\n', #sid_nl + 1, true) then
      elsewhere = true
    end
  end
end
if mine == nil and elsewhere and refuse then return 4 end
if mine == nil and limit > 0 and #others >= limit then
  if block then return 2 end
  table.sort(others, function(a, b) return a[2] < b[2] end)
  for i = 1, #others - limit + 1 do
    redis.call('HDEL', live, others[i][1])
    redis.call('ZADD', ev, now, 's:' .. others[i][1])
  end
  redis.call('PEXPIRE', ev, mem)
end
redis.call('HSET', live, id, (mine or ARGV[4]) .. ':' .. ARGV[4])
redis.call('PEXPIRE', live, lease)
if mine == nil and elsewhere then return 3 end
return 0
)LUA";

// Ends the sid at every place. ARGV: sid, now_ms, evicted_memory_ms. Returns 1 when one was live.
inline constexpr const char* kKick = R"LUA(
local sid_nl, existed = ARGV[1] .. '\n', 0
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(f, 1, #sid_nl) == sid_nl and not string.find(f, '\n', #sid_nl + 1, true) then
    existed = existed + redis.call('HDEL', KEYS[1], f)
  end
end
redis.call('ZADD', KEYS[2], tonumber(ARGV[2]), 'k:' .. ARGV[1])
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3]))
if existed > 0 then return 1 end
return 0
)LUA";

// ARGV: now_ms, lease_ms. Returns a flat array stream id (sid \n place), started, renewed of live
// sessions.
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
