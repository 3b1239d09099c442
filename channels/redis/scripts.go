package redis

import (
	"crypto/rand"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/rueidis"
)

// A message is stored in its channel's list as its send time, in Unix
// milliseconds as headerLen decimal digits, followed by its bytes. Fixed
// width lets the scripts read the time with string.sub.
const headerLen = 15

// A message to a channel made by NewChannel is stored in its process's
// inbox list as its send time, as above; its id, idLen characters, which is
// its member in the channel's set of unreceived messages; the local part of
// the channel's name, partLen characters; and its bytes.
const idLen = 16

// header returns the send time t as it starts a stored message.
func header(t time.Time) string {
	return fmt.Sprintf("%0*d", headerLen, millis(t))
}

// newID returns a message id, random enough that two messages in one
// channel do not share one.
func newID() string {
	var b [10]byte
	rand.Read(b[:])
	return base32Text.EncodeToString(b[:])
}

// decode returns the send time and the bytes of a channel list element.
func decode(elem string) (time.Time, []byte, error) {
	sent, err := decodeTime(elem)
	if err != nil {
		return time.Time{}, nil, err
	}
	return sent, []byte(elem[headerLen:]), nil
}

// decodeInbox returns the local part of the channel name and the message
// of an inbox list element.
func decodeInbox(elem string) (local string, env envelope, err error) {
	if len(elem) < headerLen+idLen+partLen {
		return "", env, fmt.Errorf("malformed message of %d bytes", len(elem))
	}
	if env.sent, err = decodeTime(elem); err != nil {
		return "", env, err
	}
	rest := elem[headerLen:]
	env.id, local, env.data = rest[:idLen], rest[idLen:idLen+partLen], []byte(rest[idLen+partLen:])
	return local, env, nil
}

func decodeTime(elem string) (time.Time, error) {
	if len(elem) < headerLen {
		return time.Time{}, fmt.Errorf("malformed message of %d bytes", len(elem))
	}
	ms, err := strconv.ParseInt(elem[:headerLen], 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("malformed message: %w", err)
	}
	return time.UnixMilli(ms), nil
}

// dropExpired is shared by the scripts that read or append to a channel.
// It pops the expired messages at the head of the list at key.
const dropExpired = `
local function dropExpired(key, now, expiry)
	while true do
		local head = redis.call('LINDEX', key, 0)
		if not head or tonumber(string.sub(head, 1, 15)) + expiry > now then
			return
		end
		redis.call('LPOP', key)
	end
end
`

// sendScript sends a message to every channel it is given that is not
// full. A plain channel is given as one key, its list: the script drops its
// expired messages, checks its length, appends the message and renews the
// list's expiry. A channel made by NewChannel is given as two keys, its
// process's inbox list and its sorted set of unreceived messages, scored
// by send time: the script drops the expired entries of the set, checks
// its size, adds the message's id, and appends the message to the inbox,
// after dropping the inbox's expired head, which bounds the inbox of a
// process that has gone. Both keys expire with their newest message.
//
// Before it sends, the script counts the receipts it carries: each is a
// key of KEYS, a set of unreceived messages, and an id of ARGV to remove.
//
// KEYS: the receipts' sets, then the channels' keys. ARGV: now (Unix ms),
// expiry (ms), capacity, the header, the message id, the message, the
// number of receipts, their ids, then for each channel the local part of
// its name, or "" for a plain channel. It returns the 1-based positions of
// the channels that were full.
var sendScript = rueidis.NewLuaScript(dropExpired + `
local now, expiry, capacity = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local head, id, msg, receipts = ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7])
for i = 1, receipts do
	redis.call('ZREM', KEYS[i], ARGV[7 + i])
end
local full, trimmed = {}, {}
local k, first = receipts + 1, 8 + receipts
for i = first, #ARGV do
	local name = ARGV[i]
	if name == '' then
		local key = KEYS[k]
		k = k + 1
		dropExpired(key, now, expiry)
		if redis.call('LLEN', key) >= capacity then
			full[#full + 1] = i - first + 1
		else
			redis.call('RPUSH', key, head .. msg)
			redis.call('PEXPIRE', key, expiry)
		end
	else
		local inbox, unreceived = KEYS[k], KEYS[k + 1]
		k = k + 2
		redis.call('ZREMRANGEBYSCORE', unreceived, '-inf', now - expiry)
		if redis.call('ZCARD', unreceived) >= capacity then
			full[#full + 1] = i - first + 1
		else
			redis.call('ZADD', unreceived, ARGV[1], id)
			redis.call('PEXPIRE', unreceived, expiry)
			if not trimmed[inbox] then
				dropExpired(inbox, now, expiry)
				trimmed[inbox] = true
			end
			redis.call('RPUSH', inbox, head .. id .. name .. msg)
			redis.call('PEXPIRE', inbox, expiry)
		end
	end
end
return full
`)

// receiptScript removes the id ARGV[i] from the sorted set KEYS[i], for
// every i.
var receiptScript = rueidis.NewLuaScript(`
for i, key in ipairs(KEYS) do
	redis.call('ZREM', key, ARGV[i])
end
return 0
`)

// popBatchScript pops up to ARGV[1] elements from the head of the list
// KEYS[1], oldest first, without waiting. It runs with EVAL, pipelined
// behind a BLPOP, where EVALSHA could not fall back on NOSCRIPT. LPOP with
// a count would need Redis 6.2.
const popBatchScript = `
local elems = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #elems > 0 then
	redis.call('LTRIM', KEYS[1], #elems, -1)
end
return elems
`

// popScript drops the expired messages of the list KEYS[1] and pops the
// oldest other one, or returns nil. ARGV: now (Unix ms), expiry (ms).
var popScript = rueidis.NewLuaScript(dropExpired + `
dropExpired(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
return redis.call('LPOP', KEYS[1])
`)

// pushBackScript puts an element back at the head of the list KEYS[1] and
// makes sure the list lives long enough for it. ARGV: element, time the
// element has left to live (ms).
var pushBackScript = rueidis.NewLuaScript(`
redis.call('LPUSH', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then
	redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
`)
