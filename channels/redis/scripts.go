package redis

import (
	"fmt"
	"strconv"
	"time"

	"github.com/redis/rueidis"
)

// A message is stored in its channel's list as its send time, in Unix
// milliseconds as headerLen decimal digits, followed by its bytes. Fixed
// width lets the scripts read the time with string.sub.
const headerLen = 15

// encode returns the list element for msg sent at t.
func encode(t time.Time, msg []byte) string {
	b := make([]byte, 0, headerLen+len(msg))
	b = fmt.Appendf(b, "%0*d", headerLen, millis(t))
	return rueidis.BinaryString(append(b, msg...))
}

// decode returns the send time and the bytes of a list element.
func decode(elem string) (time.Time, []byte, error) {
	if len(elem) < headerLen {
		return time.Time{}, nil, fmt.Errorf("malformed message of %d bytes", len(elem))
	}
	ms, err := strconv.ParseInt(elem[:headerLen], 10, 64)
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("malformed message: %w", err)
	}
	return time.UnixMilli(ms), []byte(elem[headerLen:]), nil
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

// sendScript appends an element to every list in KEYS that is not full,
// after dropping its expired messages, and renews the list's expiry.
// ARGV: now (Unix ms), expiry (ms), capacity, element. It returns the
// 1-based positions in KEYS of the lists that were full.
var sendScript = rueidis.NewLuaScript(dropExpired + `
local now, expiry, capacity = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local full = {}
for i, key in ipairs(KEYS) do
	dropExpired(key, now, expiry)
	if redis.call('LLEN', key) >= capacity then
		full[#full + 1] = i
	else
		redis.call('RPUSH', key, ARGV[4])
		redis.call('PEXPIRE', key, expiry)
	end
end
return full
`)

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
