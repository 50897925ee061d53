"""The Lua scripts of the spendable view (``spendable_view.py``), one atomic step each.

Amounts never pass through Lua numbers (doubles, exact only to 2^53): balances and
counters are read as decimal strings, compared by length then text, and subtracted
with Redis' own 64-bit ``DECRBY`` on a scratch key. An approval's counter lives in the
hash of its (payer, approved address) pair: ``a:<id>`` the remainder, ``m:<id>``
"created_ms expires_ms winc" once its creation is applied, ``t:<id>`` the end taken (what a
revoke or an expiry took, before its event is in the log).
"""

# Shared helpers: decimal comparison and subtraction without doubles.
_DECIMALS = """
local function cmp(a, b)
  if #a ~= #b then return #a < #b and -1 or 1 end
  if a == b then return 0 end
  return a < b and -1 or 1
end
local function minus(scratch, a, b)
  redis.call('SET', scratch, a)
  redis.call('DECRBY', scratch, b)
  return redis.call('GET', scratch)
end
local function positive(v) return v and v ~= '0' and string.sub(v, 1, 1) ~= '-' end
"""

# KEYS: ready, the marker, unsettled, scratch, the signer's balance, then one key per
# payer of ARGV (its pair hash, or the signer's balance where the signer is listed),
# and last, optionally, the item's fresh-receipt key: an item receipted already answers
# ``receipted`` and takes nothing (the upload's duplicate check, in the same step).
# ARGV: winc, the unsettled field, stamp, body, now_ms, list-only (1/0), payer count,
# then per payer: its address and 1 if it is the signer; last, the signer's address.
# Returns {status, split}: who pays what, as core.spendable.parse_split reads it.
RESERVE = (
    _DECIMALS
    + """
local left, now, n = ARGV[1], tonumber(ARGV[5]), tonumber(ARGV[7])
if #KEYS > 5 + n and redis.call('EXISTS', KEYS[#KEYS]) == 1 then return {'receipted', ''} end
if redis.call('EXISTS', KEYS[1]) == 0 then return {'unavailable', ''} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'seen', ''} end
local taken, listed = {}, false
local function take(key, field, have, payer, approval)
  local amount = cmp(have, left) >= 0 and left or have
  if field then redis.call('HINCRBY', key, field, '-' .. amount)
  else redis.call('DECRBY', key, amount) end
  taken[#taken + 1] = {key, field, amount, payer, approval}
  left = amount == left and '0' or minus(KEYS[4], left, amount)
end
local function own(key, payer)
  local have = redis.call('GET', key)
  if left ~= '0' and positive(have) then take(key, false, have, payer, '-') end
end
local function approvals(key, payer)
  local fields, ids = redis.call('HGETALL', key), {}
  for i = 1, #fields, 2 do
    local id = string.match(fields[i], '^m:(.+)$')
    if id then
      local created, expires = string.match(fields[i + 1], '^(%d+) (%d+)')
      if (tonumber(expires) == 0 or tonumber(expires) > now)
        and redis.call('HEXISTS', key, 't:' .. id) == 0 then
        ids[#ids + 1] = {tonumber(created), id}
      end
    end
  end
  table.sort(ids, function(x, y) return x[1] < y[1] or (x[1] == y[1] and x[2] < y[2]) end)
  for _, entry in ipairs(ids) do
    if left == '0' then return end
    local have = redis.call('HGET', key, 'a:' .. entry[2])
    if positive(have) then take(key, 'a:' .. entry[2], have, payer, entry[2]) end
  end
end
for i = 1, n do
  local payer, is_signer = ARGV[6 + 2 * i], ARGV[7 + 2 * i]
  if is_signer == '1' then listed = true; own(KEYS[5 + i], payer)
  else approvals(KEYS[5 + i], payer) end
end
if left ~= '0' and not listed and ARGV[6] == '0' then own(KEYS[5], ARGV[#ARGV]) end
redis.call('DEL', KEYS[4])
if left ~= '0' then
  for _, t in ipairs(taken) do
    if t[2] then redis.call('HINCRBY', t[1], t[2], t[3])
    else redis.call('INCRBY', t[1], t[3]) end
  end
  return {'insufficient', ''}
end
local lines = {}
for _, t in ipairs(taken) do lines[#lines + 1] = t[4] .. ' ' .. t[5] .. ' ' .. t[3] end
local split = table.concat(lines, '\\n')
redis.call('SET', KEYS[2], 'reserved')
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3] .. '|' .. split .. '|' .. ARGV[4])
return {'reserved', split}
"""
)

# KEYS: alive, applied, expiries, ending, then per event its marker, its balances and
# per approval op its pair hash and its end marker. ARGV: per event its offset, kind,
# number of balances, number of approval ops, the deltas, then per op: op, id, signed
# winc, "created_ms expires_ms winc", member. Events in offset order.
APPLY = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 'lost' end
local applied = tonumber(redis.call('GET', KEYS[2]) or '-1')
local k, a = 5, 1
local function approval(hk, ek, b)
  local op, id, winc, meta, member = ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4]
  if op == 'close' then
    redis.call('HDEL', hk, 'a:' .. id, 'm:' .. id, 't:' .. id)
    redis.call('ZREM', KEYS[3], member)
    redis.call('ZREM', KEYS[4], member)
  elseif redis.call('EXISTS', ek) == 0 then
    redis.call('HINCRBY', hk, 'a:' .. id, winc)
    if op == 'open' then
      redis.call('HSET', hk, 'm:' .. id, meta)
      local expires = tonumber(string.match(meta, '^%d+ (%d+)'))
      if expires > 0 then redis.call('ZADD', KEYS[3], expires, member) end
    end
  end
end
while a <= #ARGV do
  local offset, kind = tonumber(ARGV[a]), ARGV[a + 1]
  local n, m = tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  if offset > applied then
    applied = offset
    local marker = redis.call('GET', KEYS[k])
    local own, shares = false, false
    if kind == 'once' then
      own = not marker
      shares = own
      if own then redis.call('SET', KEYS[k], 'done') end
    elseif kind == 'create' then
      own, shares = not marker, marker ~= 'done' and marker ~= 'opened'
      redis.call('SET', KEYS[k], 'done')
    elseif kind == 'charge' then
      own = not marker
      shares = own
      if own or marker == 'reserved' then redis.call('SET', KEYS[k], 'charged') end
    elseif kind == 'refund' then
      own = marker == 'charged' or marker == 'refunding'
      shares = marker == 'charged'
      if own then redis.call('SET', KEYS[k], 'refunded') end
    end
    if own then
      for i = 1, n do redis.call('INCRBY', KEYS[k + i], ARGV[a + 3 + i]) end
    end
    if shares then
      for j = 0, m - 1 do
        approval(KEYS[k + n + 1 + 2 * j], KEYS[k + n + 2 + 2 * j], a + 4 + n + 5 * j)
      end
    end
  end
  k, a = k + 1 + n + 2 * m, a + 4 + n + 5 * m
end
redis.call('SET', KEYS[2], applied)
return 'applied'
"""

# KEYS: the marker, then per share its balance (own) or pair hash (approval).
# ARGV: per share its approval ('-': own) and winc. Gives a reservation whose event was
# never sent back; returns the approval shares it could not (their approval ended since:
# the caller credits their payers by an event).
RELEASE = """
if redis.call('GET', KEYS[1]) ~= 'reserved' then return {0} end
redis.call('DEL', KEYS[1])
local orphans = {1}
for i = 1, #ARGV / 2 do
  local approval, winc = ARGV[2 * i - 1], ARGV[2 * i]
  if approval == '-' then redis.call('INCRBY', KEYS[1 + i], winc)
  elseif redis.call('HEXISTS', KEYS[1 + i], 'm:' .. approval) == 1
    and redis.call('HEXISTS', KEYS[1 + i], 't:' .. approval) == 0 then
    redis.call('HINCRBY', KEYS[1 + i], 'a:' .. approval, winc)
  else orphans[#orphans + 1] = i end
end
return orphans
"""

# KEYS: the marker, the refund's decision, then per approval share its pair hash.
# ARGV: per approval share its id and winc. Decides where each approval share of a
# refund goes, once per item: back to a live approval (put back now, so an end taken
# later returns it), or to the payer's balance when the approval has ended or is
# ending. Returns one flag per share: 1 approval, 0 payer.
REFUND = """
local decided = redis.call('GET', KEYS[2])
if decided then return decided end
local marker = redis.call('GET', KEYS[1])
local now = marker == 'reserved' or marker == 'charged'
local flags = {}
for i = 1, #ARGV / 2 do
  local id, winc, hk = ARGV[2 * i - 1], ARGV[2 * i], KEYS[2 + i]
  local live = redis.call('HEXISTS', hk, 'm:' .. id) == 1
    and redis.call('HEXISTS', hk, 't:' .. id) == 0
  if live and now then redis.call('HINCRBY', hk, 'a:' .. id, winc) end
  flags[i] = live and '1' or '0'
end
if now then redis.call('SET', KEYS[1], 'refunding') end
decided = table.concat(flags, '')
redis.call('SET', KEYS[2], decided)
return decided
"""

# KEYS: the pair hash, ending. ARGV: the approval id ('' = every live one of the pair),
# the end's record, now_ms, payer, approved. Takes what each approval has left (one
# caller gets it) and remembers the end until its event is applied. Returns id, winc,
# meta triples.
TAKE = """
local fields, out = redis.call('HGETALL', KEYS[1]), {}
for i = 1, #fields, 2 do
  local id = string.match(fields[i], '^m:(.+)$')
  local wanted = id and (ARGV[1] == '' or ARGV[1] == id)
  if wanted and redis.call('HEXISTS', KEYS[1], 't:' .. id) == 0 then
    local left = redis.call('HGET', KEYS[1], 'a:' .. id) or '0'
    if string.sub(left, 1, 1) == '-' then left = '0' end
    redis.call('HSET', KEYS[1], 't:' .. id, ARGV[2] .. ' ' .. left)
    redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4] .. ' ' .. ARGV[5] .. ' ' .. id)
    out[#out + 1] = id
    out[#out + 1] = left
    out[#out + 1] = fields[i + 1]
  end
end
return out
"""

# KEYS: the creation's marker, the pair hash, the end marker, expiries. ARGV: id, winc,
# meta, member. Opens a reserved approval's counter once its ApprovalCreated is
# acknowledged (so the approved address may spend it at once, not only once the feed
# has read it); the feed's application then only marks it done.
OPEN = """
if redis.call('GET', KEYS[1]) ~= 'reserved' then return 0 end
redis.call('SET', KEYS[1], 'opened')
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('HINCRBY', KEYS[2], 'a:' .. ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], 'm:' .. ARGV[1], ARGV[3])
local expires = tonumber(string.match(ARGV[3], '^%d+ (%d+)'))
if expires > 0 then redis.call('ZADD', KEYS[4], expires, ARGV[4]) end
return 1
"""

# KEYS: unsettled, a key to write. ARGV: the owed field, the value, its TTL in seconds.
# Claims an owed charge and, only for the claimer, writes the key (a paid upload's
# fresh receipt: one round trip, and no receipt remembered for a charge the settler took).
CLAIM = """
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
return 1
"""
