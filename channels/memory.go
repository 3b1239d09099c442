package channels

import (
	"bytes"
	"context"
	"crypto/rand"
	"slices"
	"sync"
	"time"
)

// Defaults shared by every layer, used where an option is left zero.
const (
	// DefaultExpiry is how long a message waits to be received before it
	// is dropped.
	DefaultExpiry = 60 * time.Second

	// DefaultCapacity is the number of unreceived messages a channel holds.
	DefaultCapacity = 100

	// DefaultGroupExpiry is how long a group membership lasts unless
	// renewed.
	DefaultGroupExpiry = 24 * time.Hour
)

// MemoryOptions configure a [Memory] layer. A nil *MemoryOptions, like the
// zero value, gives the defaults.
type MemoryOptions struct {
	// Expiry is how long a message waits to be received before it is
	// dropped. Zero means DefaultExpiry (60 s).
	Expiry time.Duration

	// Capacity is the number of unreceived messages a channel holds. Zero
	// means DefaultCapacity (100).
	Capacity int

	// GroupExpiry is how long a group membership lasts unless renewed by
	// GroupAdd. Zero means DefaultGroupExpiry (24 h).
	GroupExpiry time.Duration
}

// Memory is the in-process [Layer]: its channels and groups live in the
// memory of one process, so only goroutines of that process can use them.
// Create one with [NewMemory]; the zero value is not usable. A Memory is safe
// for concurrent use.
//
// A channel costs memory only while it holds messages or has a waiting
// receiver, and expired messages and memberships are swept even from
// channels and groups that nobody uses again, so a long-running process may
// create a channel per connection without leaking.
type Memory struct {
	expiry      time.Duration
	groupExpiry time.Duration
	capacity    int
	done        chan struct{} // closed by Close to wake blocked receivers

	// mu guards the fields below.
	mu     sync.Mutex
	closed bool
	queues map[string]*queue
	groups map[string]map[string]time.Time // group → member channel → time joined
	swept  time.Time                       // when sweep last ran
}

// A queue holds a channel's messages or, when it has none, its waiting
// receivers; never both.
type queue struct {
	msgs    []message
	waiters []chan message // each buffered for the one message it is handed
}

type message struct {
	data []byte
	sent time.Time
}

// NewMemory returns an empty in-process layer configured by opts, which may
// be nil.
func NewMemory(opts *MemoryOptions) *Memory {
	var o MemoryOptions
	if opts != nil {
		o = *opts
	}
	m := &Memory{
		expiry:      o.Expiry,
		groupExpiry: o.GroupExpiry,
		capacity:    o.Capacity,
		done:        make(chan struct{}),
		queues:      make(map[string]*queue),
		groups:      make(map[string]map[string]time.Time),
	}
	if m.expiry <= 0 {
		m.expiry = DefaultExpiry
	}
	if m.groupExpiry <= 0 {
		m.groupExpiry = DefaultGroupExpiry
	}
	if m.capacity <= 0 {
		m.capacity = DefaultCapacity
	}
	return m
}

// Send implements [Layer.Send]. The layer keeps a copy of msg.
func (m *Memory) Send(ctx context.Context, channel string, msg []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	now := time.Now()
	m.sweep(now)
	if !m.push(channel, message{bytes.Clone(msg), now}) {
		return ErrFull
	}
	return nil
}

// Receive implements [Layer.Receive]. Waiting receivers are served in the
// order they started waiting.
func (m *Memory) Receive(ctx context.Context, channel string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, ErrClosed
	}
	if msg, ok := m.pop(channel, time.Now()); ok {
		m.mu.Unlock()
		return msg.data, nil
	}
	w := make(chan message, 1)
	q := m.queue(channel)
	q.waiters = append(q.waiters, w)
	m.mu.Unlock()

	select {
	case msg := <-w:
		return msg.data, nil
	case <-ctx.Done():
		m.abandon(channel, w)
		return nil, ctx.Err()
	case <-m.done:
		return nil, ErrClosed
	}
}

// NewChannel implements [Layer.NewChannel]. The name is prefix followed by
// 128 random bits in base32.
func (m *Memory) NewChannel(ctx context.Context, prefix string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return "", ErrClosed
	}
	return prefix + rand.Text(), nil
}

// GroupAdd implements [Layer.GroupAdd].
func (m *Memory) GroupAdd(ctx context.Context, group, channel string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	now := time.Now()
	m.sweep(now)
	members := m.groups[group]
	if members == nil {
		members = make(map[string]time.Time)
		m.groups[group] = members
	}
	members[channel] = now
	return nil
}

// GroupDiscard implements [Layer.GroupDiscard].
func (m *Memory) GroupDiscard(ctx context.Context, group, channel string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	members := m.groups[group]
	delete(members, channel)
	if len(members) == 0 {
		delete(m.groups, group)
	}
	return nil
}

// GroupSend implements [Layer.GroupSend]. Every member gets its own copy of
// msg. The channels of a *FullError are sorted.
func (m *Memory) GroupSend(ctx context.Context, group string, msg []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	now := time.Now()
	m.sweep(now)
	m.expireMembers(group, now)
	var full []string
	for channel := range m.groups[group] {
		if !m.push(channel, message{bytes.Clone(msg), now}) {
			full = append(full, channel)
		}
	}
	if full != nil {
		slices.Sort(full)
		return &FullError{Group: group, Channels: full}
	}
	return nil
}

// Close implements [Layer.Close]. It drops every message and membership and
// wakes blocked receivers, which return ErrClosed.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.closed = true
	close(m.done)
	m.queues = nil
	m.groups = nil
	return nil
}

// queue returns the named channel's queue, creating it if need be. m.mu is
// held.
func (m *Memory) queue(channel string) *queue {
	q := m.queues[channel]
	if q == nil {
		q = &queue{}
		m.queues[channel] = q
	}
	return q
}

// release forgets the channel's queue if it is empty, so that unused
// channels cost nothing. m.mu is held.
func (m *Memory) release(channel string, q *queue) {
	if len(q.msgs) == 0 && len(q.waiters) == 0 {
		delete(m.queues, channel)
	}
}

// push hands msg to the channel's longest-waiting receiver or queues it. It
// reports false if the channel is full. m.mu is held.
func (m *Memory) push(channel string, msg message) bool {
	q := m.queue(channel)
	if len(q.waiters) > 0 {
		w := q.waiters[0]
		q.waiters[0] = nil
		q.waiters = q.waiters[1:]
		w <- msg
		m.release(channel, q)
		return true
	}
	q.dropExpired(msg.sent, m.expiry)
	if len(q.msgs) >= m.capacity {
		return false
	}
	q.msgs = append(q.msgs, msg)
	return true
}

// pop removes and returns the channel's oldest unexpired message. m.mu is
// held.
func (m *Memory) pop(channel string, now time.Time) (message, bool) {
	q := m.queues[channel]
	if q == nil {
		return message{}, false
	}
	q.dropExpired(now, m.expiry)
	defer m.release(channel, q)
	if len(q.msgs) == 0 {
		return message{}, false
	}
	msg := q.msgs[0]
	q.msgs[0] = message{}
	q.msgs = q.msgs[1:]
	return msg, true
}

// abandon withdraws the waiting receiver w from channel. If w was handed a
// message meanwhile, the message goes back to the head of the channel, so a
// cancelled Receive never loses one. It may leave the channel one over its
// capacity.
func (m *Memory) abandon(channel string, w chan message) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	q := m.queue(channel)
	if i := slices.Index(q.waiters, w); i >= 0 {
		q.waiters = slices.Delete(q.waiters, i, i+1)
		m.release(channel, q)
		return
	}
	msg := <-w
	if time.Since(msg.sent) >= m.expiry {
		m.release(channel, q)
		return
	}
	if len(q.waiters) > 0 {
		m.push(channel, msg)
		return
	}
	q.msgs = slices.Insert(q.msgs, 0, msg)
}

// expireMembers removes the group's expired members, and the group itself
// if none is left. m.mu is held.
func (m *Memory) expireMembers(group string, now time.Time) {
	members := m.groups[group]
	for channel, joined := range members {
		if now.Sub(joined) >= m.groupExpiry {
			delete(members, channel)
		}
	}
	if len(members) == 0 {
		delete(m.groups, group)
	}
}

// sweep drops expired messages and memberships everywhere, at most once per
// expiry, so that channels and groups nobody touches again are freed too.
// m.mu is held.
func (m *Memory) sweep(now time.Time) {
	if now.Sub(m.swept) < m.expiry {
		return
	}
	m.swept = now
	for channel, q := range m.queues {
		q.dropExpired(now, m.expiry)
		m.release(channel, q)
	}
	for group := range m.groups {
		m.expireMembers(group, now)
	}
}

// dropExpired removes the messages at the head of q that were sent expiry or
// longer before now.
func (q *queue) dropExpired(now time.Time, expiry time.Duration) {
	n := 0
	for n < len(q.msgs) && now.Sub(q.msgs[n].sent) >= expiry {
		q.msgs[n] = message{}
		n++
	}
	q.msgs = q.msgs[n:]
	if len(q.msgs) == 0 {
		q.msgs = nil
	}
}
