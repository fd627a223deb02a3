import { createHash } from 'node:crypto';

/**
 * The ledger's Lua scripts. Each ledger operation is exactly one of them, run with
 * EVALSHA: Redis runs a script to completion before it serves any other command, so a
 * script sees and changes every key it touches as one step and no lock is needed.
 *
 * Static arguments, the same for every script:
 *   KEYS[1]  the lease sorted set; it routes the call to the prefix's Cluster slot
 *   ARGV[1]  key base, `{prefix}:` — every key a script builds starts with it
 *   ARGV[2]  milliseconds added to the server clock (0 outside tests)
 *   ARGV[3]  grace after a calendar window ends before its counter is dropped
 *   ARGV[4]  how long a final status is remembered for idempotent repeats
 *   ARGV[5]  lease expiry policy: `charge-reserved` or `release`
 *
 * Numbers travel as decimal strings both ways: Lua numbers are doubles, exact for the
 * integers the ledger uses (below 2^53), and `%.0f` prints them without exponent.
 */
const PRELUDE = `
local base = ARGV[1]
local shift = tonumber(ARGV[2])
local GRACE = tonumber(ARGV[3])
local OUTCOME_TTL = tonumber(ARGV[4])
local POLICY = ARGV[5]
local A = 5
local LEASES = KEYS[1]
local PENDING = base .. 'expired'
local SLICES = 60
local EXPIRE_BATCH = 1000
local PENDING_MAX = 10000

-- The only clock: the server's. Every process agrees on it whatever its own clock says.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000) + shift

local function fmt(x) return string.format('%.0f', x) end

local function slice_len(len) return math.max(1, math.ceil(len / SLICES)) end

-- Extends a key's time to live to at least ms; never shortens it.
local function ensure_ttl(key, ms)
  ms = math.max(1000, math.ceil(ms))
  local ttl = redis.call('PTTL', key)
  if ttl == -1 or (ttl >= 0 and ttl < ms) then redis.call('PEXPIRE', key, fmt(ms)) end
end

local counters = {}
local touched = {}

local function load(key)
  local c = counters[key]
  if c then return c end
  local ck = base .. 'c:' .. key
  local v = redis.call('HMGET', ck, 'kind', 'len', 'end', 'limit', 'spent', 'reserved', 'o', 'n', 'fired')
  c = {
    key = key, ck = ck, exists = v[1] ~= false, kind = v[1] or 'c',
    len = tonumber(v[2]) or 0, endms = tonumber(v[3]) or 0, limit = tonumber(v[4]) or 0,
    spent = tonumber(v[5]) or 0, reserved = tonumber(v[6]) or 0,
    o = tonumber(v[7]), n = tonumber(v[8]), fired = {}, drop = {}, add = {},
    dirty = false, created = false, had_slices = v[7] ~= false,
  }
  if v[9] then for t in string.gmatch(v[9], '[^,]+') do c.fired[#c.fired + 1] = t end end
  counters[key] = c
  touched[#touched + 1] = c
  return c
end

-- A new counter takes its window from the line; the limit always follows the configuration.
local function adopt(c, line)
  if not c.exists then
    c.exists = true
    c.created = true
    c.kind = line.kind
    if line.kind == 'r' then c.len = line.p else c.endms = line.p end
  end
  if c.limit ~= line.limit then c.limit = line.limit; c.dirty = true end
end

-- Rolling windows: slices whose end has left the window stop counting, and thresholds
-- the spend fell back below re-arm. Only reads here; save() writes.
local function advance(c)
  if c.kind ~= 'r' or c.o == nil then return end
  local sl = slice_len(c.len)
  local wstart = now - c.len
  local i = c.o
  local dropped = false
  while i <= c.n and (i + 1) * sl <= wstart do
    local f = 's' .. fmt(i)
    local a = redis.call('HGET', c.ck, f)
    if a then
      c.spent = c.spent - tonumber(a)
      c.drop[#c.drop + 1] = f
      dropped = true
    end
    i = i + 1
  end
  if i > c.n then
    c.o = nil
    c.n = nil
  else
    while i < c.n and redis.call('HEXISTS', c.ck, 's' .. fmt(i)) == 0 do i = i + 1 end
    c.o = i
  end
  if dropped then
    c.dirty = true
    local keep = {}
    for _, t in ipairs(c.fired) do
      if c.spent >= tonumber(t) * c.limit then keep[#keep + 1] = t end
    end
    c.fired = keep
  end
end

-- Spend lands in the slice of the moment it is known.
local function charge(c, amount)
  if amount == 0 then return end
  c.spent = c.spent + amount
  c.dirty = true
  if c.kind ~= 'r' then return end
  local s = math.floor(now / slice_len(c.len))
  local f = 's' .. fmt(s)
  c.add[f] = (c.add[f] or 0) + amount
  if c.o == nil or s < c.o then c.o = s end
  if c.n == nil or s > c.n then c.n = s end
end

-- Thresholds reached by settled spend fire once per counter per window: the fired list
-- lives in the counter hash, so it expires with it.
local function crossings(c, line, thr, out)
  if thr == nil or thr == '' then return end
  for t in string.gmatch(thr, '[^,]+') do
    local fired = false
    for _, f in ipairs(c.fired) do if f == t then fired = true; break end end
    if not fired and c.spent >= tonumber(t) * c.limit then
      c.fired[#c.fired + 1] = t
      c.dirty = true
      out[#out + 1] = { fmt(line), c.key, t, fmt(c.spent), fmt(c.limit) }
    end
  end
end

local function reset_at(c)
  if c.kind == 'c' then return c.endms end
  if c.o == nil then return now end
  return (c.o + 1) * slice_len(c.len) + c.len
end

local function state(c)
  return { fmt(c.spent), fmt(c.reserved), fmt(c.limit), fmt(reset_at(c)) }
end

local function save(c)
  if not (c.dirty or c.created) then return end
  if #c.drop > 0 then redis.call('HDEL', c.ck, unpack(c.drop)) end
  c.drop = {}
  for f, a in pairs(c.add) do redis.call('HINCRBY', c.ck, f, fmt(a)) end
  c.add = {}
  if c.reserved < 0 then c.reserved = 0 end
  local fields = {
    'kind', c.kind, 'limit', fmt(c.limit), 'spent', fmt(c.spent),
    'reserved', fmt(c.reserved), 'fired', table.concat(c.fired, ','),
  }
  if c.kind == 'r' then
    fields[#fields + 1] = 'len'; fields[#fields + 1] = fmt(c.len)
  else
    fields[#fields + 1] = 'end'; fields[#fields + 1] = fmt(c.endms)
  end
  if c.o ~= nil then
    fields[#fields + 1] = 'o'; fields[#fields + 1] = fmt(c.o)
    fields[#fields + 1] = 'n'; fields[#fields + 1] = fmt(c.n)
    c.had_slices = true
  elseif c.had_slices then
    redis.call('HDEL', c.ck, 'o', 'n')
    c.had_slices = false
  end
  redis.call('HSET', c.ck, unpack(fields))
  -- A counter held by a reservation (hold_ms) outlives its lease, so the reservation can
  -- always be ended against it.
  local ttl = c.hold_ms or 0
  if c.kind == 'r' then
    ensure_ttl(c.ck, math.max(ttl, c.len + slice_len(c.len) + GRACE))
  else
    ensure_ttl(c.ck, math.max(ttl, c.endms + GRACE - now))
  end
  c.dirty = false
  c.created = false
end

local function save_all()
  for _, c in ipairs(touched) do save(c) end
end

-- Ends an open reservation: its amounts leave 'reserved', the actual amounts join
-- 'spent', and its id keeps only its final status, for a while.
local function finish(rid, status, actual)
  local rk = base .. 'r:' .. rid
  local n = tonumber(redis.call('HGET', rk, 'n')) or 0
  local keys, charged, crossed, lines = {}, {}, {}, {}
  for i = 1, n do
    local f = redis.call('HMGET', rk, 'k' .. i, 'a' .. i, 't' .. i)
    local key, amount = f[1], tonumber(f[2])
    local c = load(key)
    local a = 0
    if status == 'settled' then
      a = actual[i]
    elseif status == 'expired' and POLICY == 'charge-reserved' then
      a = amount
    end
    -- A counter can only be missing if every process stayed away past its time to live.
    if c.exists then
      advance(c)
      c.reserved = c.reserved - amount
      c.dirty = true
      charge(c, a)
      crossings(c, i - 1, f[3], crossed)
    end
    redis.call('ZREM', base .. 'h:' .. key, rid)
    keys[i] = key
    charged[i] = fmt(a)
    lines[i] = c
  end
  save_all()
  redis.call('ZREM', LEASES, rid)
  redis.call('DEL', rk)
  redis.call('HSET', rk, 'st', status)
  redis.call('PEXPIRE', rk, fmt(OUTCOME_TTL))
  return keys, charged, crossed, lines
end

-- Ends a reservation whose lease has passed; returns its report, or nil if it had already ended.
local function expire(rid)
  local st = redis.call('HGET', base .. 'r:' .. rid, 'st')
  if st ~= 'open' then
    redis.call('ZREM', LEASES, rid)
    return nil
  end
  local keys, charged, crossed = finish(rid, 'expired', nil)
  return cjson.encode({ id = rid, policy = POLICY, keys = keys, charged = charged, crossed = crossed })
end

local function remember_expired(reports)
  if #reports == 0 then return end
  redis.call('RPUSH', PENDING, unpack(reports))
  redis.call('LTRIM', PENDING, -PENDING_MAX, -1)
  redis.call('PEXPIRE', PENDING, fmt(OUTCOME_TTL))
end
`;

/**
 * Reads counters; changes nothing. Leases past their deadline but not yet collected are
 * shown as already ended under the policy, which is what the next reserve will find.
 * ARGV: count, then per line: key, limit, kind (c|r), end or length.
 */
const PEEK = `
local function without_due(c)
  local due = redis.call('ZRANGEBYSCORE', base .. 'h:' .. c.key, '-inf', fmt(now), 'LIMIT', 0, EXPIRE_BATCH)
  for _, rid in ipairs(due) do
    local rk = base .. 'r:' .. rid
    local n = tonumber(redis.call('HGET', rk, 'n')) or 0
    for i = 1, n do
      local f = redis.call('HMGET', rk, 'k' .. i, 'a' .. i)
      if f[1] == c.key then
        local amount = tonumber(f[2])
        c.reserved = math.max(0, c.reserved - amount)
        if POLICY == 'charge-reserved' then c.spent = c.spent + amount end
      end
    end
  end
end

local nl = tonumber(ARGV[A + 1])
local out = { fmt(now) }
for i = 1, nl do
  local o = A + 1 + (i - 1) * 4
  local c = load(ARGV[o + 1])
  if c.exists then
    advance(c)
    without_due(c)
    out[#out + 1] = state(c)
  else
    local reset = now
    if ARGV[o + 3] == 'c' then reset = tonumber(ARGV[o + 4]) end
    out[#out + 1] = { '0', '0', ARGV[o + 2], fmt(reset) }
  end
end
return out
`;

/**
 * Reserves every line or none. ARGV: id, lease ms, count, then per line: key, limit,
 * amount, kind, end or length, thresholds (comma-separated), and the use ratio past which
 * nothing is reserved and every line's state is returned instead (empty: none).
 * Replies `ok` with the states after reserving, `full` with the first line without room,
 * `above` with every line's state, or `used` for an id seen before.
 */
const RESERVE = `
local id = ARGV[A + 1]
local lease = tonumber(ARGV[A + 2])
local nl = tonumber(ARGV[A + 3])
local rk = base .. 'r:' .. id
if redis.call('EXISTS', rk) == 1 then return { 'used' } end
local lines = {}
for i = 1, nl do
  local o = A + 3 + (i - 1) * 7
  lines[i] = {
    key = ARGV[o + 1], limit = tonumber(ARGV[o + 2]), amount = tonumber(ARGV[o + 3]),
    kind = ARGV[o + 4], p = tonumber(ARGV[o + 5]), thr = ARGV[o + 6], above = tonumber(ARGV[o + 7]),
  }
end

-- Leases of these counters that have run out end first, so a crashed process's
-- reservations never weigh on the decision.
local reports = {}
for i = 1, nl do
  local due = redis.call('ZRANGEBYSCORE', base .. 'h:' .. lines[i].key, '-inf', fmt(now), 'LIMIT', 0, EXPIRE_BATCH)
  for _, rid in ipairs(due) do
    local report = expire(rid)
    if report then reports[#reports + 1] = report end
  end
end
remember_expired(reports)

for i = 1, nl do
  local c = load(lines[i].key)
  local existed = c.exists
  adopt(c, lines[i])
  advance(c)
  c.existed = existed
end
-- Refused: what expiry and the window's slide changed is kept; no counter is created.
local function save_existing()
  for _, t in ipairs(touched) do
    if t.existed then save(t) end
  end
end
-- A line used past its ratio (where a degradation rule acts) stops the reservation before
-- room is checked: the caller decides on these states, as it would on a peek.
for i = 1, nl do
  local c = counters[lines[i].key]
  local above = lines[i].above
  if above ~= nil and c.limit > 0 and (c.spent + c.reserved) / c.limit > above then
    save_existing()
    local out = { 'above', fmt(now) }
    for j = 1, nl do out[#out + 1] = state(counters[lines[j].key]) end
    return out
  end
end
for i = 1, nl do
  local c = counters[lines[i].key]
  if c.spent + c.reserved + lines[i].amount > c.limit then
    save_existing()
    return { 'full', fmt(now), tostring(i - 1), state(c) }
  end
end

local deadline = now + lease
local record = { 'st', 'open', 'dl', fmt(deadline), 'n', tostring(nl) }
for i = 1, nl do
  local line = lines[i]
  local c = counters[line.key]
  c.reserved = c.reserved + line.amount
  c.dirty = true
  c.hold_ms = lease + GRACE
  local i_ = tostring(i)
  record[#record + 1] = 'k' .. i_; record[#record + 1] = line.key
  record[#record + 1] = 'a' .. i_; record[#record + 1] = fmt(line.amount)
  record[#record + 1] = 't' .. i_; record[#record + 1] = line.thr
  redis.call('ZADD', base .. 'h:' .. line.key, fmt(deadline), id)
end
save_all()
redis.call('HSET', rk, unpack(record))
redis.call('ZADD', LEASES, fmt(deadline), id)
local out = { 'ok', fmt(now) }
for i = 1, nl do out[#out + 1] = state(counters[lines[i].key]) end
return out
`;

/** Settles or releases. ARGV: id, 'settled' | 'released', count, amounts (settle only). */
const FINISH = `
local id = ARGV[A + 1]
local mode = ARGV[A + 2]
local st = redis.call('HGET', base .. 'r:' .. id, 'st')
if not st then return { 'gone', fmt(now), 'unknown' } end
if st ~= 'open' then return { 'gone', fmt(now), st } end
local n = tonumber(redis.call('HGET', base .. 'r:' .. id, 'n'))
local actual = {}
if mode == 'settled' then
  if tonumber(ARGV[A + 3]) ~= n then
    return redis.error_reply('TOLLGATE_AMOUNTS settle(' .. id .. ') got ' .. ARGV[A + 3] .. ' amounts for ' .. n .. ' lines')
  end
  for i = 1, n do actual[i] = tonumber(ARGV[A + 3 + i]) end
end
local keys, charged, crossed, lines = finish(id, mode, actual)
local states = {}
for i = 1, #lines do
  local s = state(lines[i])
  s[5] = keys[i]
  states[i] = s
end
return { 'done', fmt(now), mode, crossed, states }
`;

/** Ends up to ARGV batch leases that have run out, and hands over those other scripts ended. */
const COLLECT = `
local batch = tonumber(ARGV[A + 1])
local out = {}
local due = redis.call('ZRANGEBYSCORE', LEASES, '-inf', fmt(now), 'LIMIT', 0, batch)
for _, rid in ipairs(due) do
  local report = expire(rid)
  if report then out[#out + 1] = report end
end
local pending = redis.call('LRANGE', PENDING, 0, batch - 1)
if #pending > 0 then redis.call('LTRIM', PENDING, #pending, -1) end
for _, p in ipairs(pending) do out[#out + 1] = p end
return out
`;

/**
 * Counters that refused a call for lack of room: a line whose thresholds include 1 fires it
 * now unless it fired in this window. ARGV: count, then per line: key, limit, kind, end or
 * length, thresholds (comma-separated).
 */
const EXHAUSTED = `
local nl = tonumber(ARGV[A + 1])
local crossed = {}
for i = 1, nl do
  local o = A + 1 + (i - 1) * 5
  local line = {
    key = ARGV[o + 1], limit = tonumber(ARGV[o + 2]), kind = ARGV[o + 3], p = tonumber(ARGV[o + 4]),
    thr = ARGV[o + 5],
  }
  for t in string.gmatch(line.thr, '[^,]+') do
    if tonumber(t) == 1 then
      local c = load(line.key)
      adopt(c, line)
      advance(c)
      local fired = false
      for _, f in ipairs(c.fired) do if f == t then fired = true; break end end
      if not fired then
        c.fired[#c.fired + 1] = t
        c.dirty = true
        crossed[#crossed + 1] = { fmt(i - 1), c.key, t, fmt(c.spent), fmt(c.limit) }
      end
    end
  end
end
save_all()
return { fmt(now), crossed }
`;

/** A script with its SHA1, for EVALSHA. */
export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

function script(name: string, body: string): LuaScript {
  const source = PRELUDE + body;
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}

export const LEDGER_SCRIPTS = {
  peek: script('peek', PEEK),
  reserve: script('reserve', RESERVE),
  finish: script('finish', FINISH),
  collect: script('collect', COLLECT),
  exhausted: script('exhausted', EXHAUSTED),
} as const;
