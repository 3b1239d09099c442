package redis

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gotree/gotree/channels"
	"github.com/redis/rueidis"
)

const (
	// startTimeout bounds New when Redis does not answer.
	startTimeout = 5 * time.Second

	// dialTimeout bounds connecting, including the handshake, both in New
	// and when reconnecting.
	dialTimeout = 4 * time.Second

	// closeTimeout bounds how long Close waits for blocked receives to put
	// back messages they popped, before it closes the connections.
	closeTimeout = 5 * time.Second

	// cleanupTimeout bounds each command a layer runs on its own behalf,
	// not for a caller, such as putting back a message.
	cleanupTimeout = 5 * time.Second
)

// Options configure a [Layer]. A nil *Options, like the zero value, gives
// the defaults.
type Options struct {
	// Prefix starts every key the layer uses, so that several layers can
	// share one Redis database without seeing each other. Default "gotree:".
	Prefix string

	// Expiry is how long a message waits to be received before it is
	// dropped. Zero means channels.DefaultExpiry (60 s). Processes sharing
	// a prefix must use the same expiry.
	Expiry time.Duration

	// Capacity is the number of unreceived messages a channel holds. Zero
	// means channels.DefaultCapacity (100).
	Capacity int

	// GroupExpiry is how long a group membership lasts unless renewed by
	// GroupAdd. Zero means channels.DefaultGroupExpiry (24 h).
	GroupExpiry time.Duration

	// ReceiveConns is the number of connections kept for Receive calls
	// on plain channels that wait for a message; each holds one while it
	// waits. Channels made by NewChannel do not use them: their messages
	// come through one more connection, opened by the first NewChannel.
	// Zero means 1024.
	ReceiveConns int

	// Logger receives reports on the connection to Redis and on messages
	// lost in the background. Default slog.Default().
	Logger *slog.Logger
}

// A Layer is a [channels.Layer] on Redis. It is safe for concurrent use, and
// any number of layers, in any number of processes, may share one Redis and
// prefix. Create one with [New] and release it with [Layer.Close].
type Layer struct {
	client      rueidis.Client
	prefix      string
	space       string // the Redis address, database and prefix
	process     string // the id in the names NewChannel makes
	inbox       *inbox
	conns       chan struct{} // a semaphore of ReceiveConns for plain receives
	expiry      time.Duration
	groupExpiry time.Duration
	capacity    int
	log         *slog.Logger
	health      health

	// ctx ends when Close begins, which ends every waiting Receive.
	ctx    context.Context
	cancel context.CancelFunc

	// abort ends, by closing their connections, the BLPOPs of plain
	// receives that Close could not wake within closeTimeout.
	abort     context.Context
	abortPops context.CancelFunc

	// mu orders starting blocked pops and the inbox against Close; wg
	// counts them.
	mu sync.Mutex
	wg sync.WaitGroup
}

// New connects to the Redis at url (redis://[user:password@]host:port/db,
// or rediss:// for TLS) and checks that it answers PING. If it does not
// within 5 s, New returns an error naming the address; ctx can end the PING
// sooner.
func New(ctx context.Context, url string, opts *Options) (*Layer, error) {
	deadline := time.Now().Add(startTimeout)
	var o Options
	if opts != nil {
		o = *opts
	}
	setDefaults(&o)
	co, err := rueidis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("parse redis url: %w", err)
	}
	addr := co.InitAddress[0]
	co.DisableCache = true
	co.BlockingPoolSize = o.ReceiveConns + 1 // one more for the inbox
	co.Dialer.Timeout = dialTimeout

	// Connect and ping.
	client, err := rueidis.NewClient(co)
	if err != nil {
		return nil, fmt.Errorf("connect to redis at %s: %w", addr, err)
	}
	pctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	if err := client.Do(pctx, client.B().Ping().Build()).Error(); err != nil {
		client.Close()
		return nil, fmt.Errorf("ping redis at %s: %w", addr, err)
	}

	log := o.Logger.With("addr", addr)
	l := &Layer{
		client:      client,
		prefix:      o.Prefix,
		space:       addr + "/" + strconv.Itoa(co.SelectDB) + "/" + o.Prefix,
		process:     newPart(),
		conns:       make(chan struct{}, o.ReceiveConns),
		expiry:      o.Expiry,
		groupExpiry: o.GroupExpiry,
		capacity:    o.Capacity,
		log:         log,
		health:      health{log: log},
	}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	l.abort, l.abortPops = context.WithCancel(context.Background())
	l.inbox = newInbox(l)
	return l, nil
}

func setDefaults(o *Options) {
	if o.Prefix == "" {
		o.Prefix = "gotree:"
	}
	if o.Expiry <= 0 {
		o.Expiry = channels.DefaultExpiry
	}
	if o.Capacity <= 0 {
		o.Capacity = channels.DefaultCapacity
	}
	if o.GroupExpiry <= 0 {
		o.GroupExpiry = channels.DefaultGroupExpiry
	}
	if o.ReceiveConns <= 0 {
		o.ReceiveConns = rueidis.DefaultPoolSize
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Send implements [channels.Layer.Send].
func (l *Layer) Send(ctx context.Context, channel string, msg []byte) error {
	if l.closed() {
		return channels.ErrClosed
	}
	full, err := l.push(ctx, []string{channel}, msg)
	if err != nil {
		return l.wrap(err, "send to channel %s", channel)
	}
	if len(full) > 0 {
		return channels.ErrFull
	}
	return nil
}

// NewChannel implements [channels.Layer.NewChannel]. The name is prefix,
// the layer's process id, "!" and a local part, each 128 random bits in
// base32, which makes it unique without asking Redis. Only this layer, or
// another of this process on the same Redis and prefix, can receive from
// it; see the package documentation. The first call opens the connection
// on which the layer receives the messages of all such channels.
func (l *Layer) NewChannel(ctx context.Context, prefix string) (string, error) {
	if l.closed() {
		return "", channels.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := l.inbox.start(); err != nil {
		return "", err
	}
	return prefix + l.process + "!" + newPart(), nil
}

// GroupAdd implements [channels.Layer.GroupAdd].
func (l *Layer) GroupAdd(ctx context.Context, group, channel string) error {
	if l.closed() {
		return channels.ErrClosed
	}
	key := l.groupKey(group)
	b := l.client.B()
	err := l.doMulti(ctx,
		b.Zadd().Key(key).ScoreMember().ScoreMember(float64(millis(time.Now())), channel).Build(),
		b.Pexpire().Key(key).Milliseconds(l.groupExpiry.Milliseconds()).Build(),
	)
	if err != nil {
		return l.wrap(err, "add channel %s to group %s", channel, group)
	}
	return nil
}

// GroupDiscard implements [channels.Layer.GroupDiscard].
func (l *Layer) GroupDiscard(ctx context.Context, group, channel string) error {
	if l.closed() {
		return channels.ErrClosed
	}
	b := l.client.B()
	if err := l.doMulti(ctx, b.Zrem().Key(l.groupKey(group)).Member(channel).Build()); err != nil {
		return l.wrap(err, "discard channel %s from group %s", channel, group)
	}
	return nil
}

// GroupSend implements [channels.Layer.GroupSend]. It reads the members and
// sends to them in two steps, so a channel added or discarded in between
// may or may not get the message. The channels of a *FullError are sorted.
func (l *Layer) GroupSend(ctx context.Context, group string, msg []byte) error {
	if l.closed() {
		return channels.ErrClosed
	}
	members, err := l.members(ctx, group)
	if err != nil {
		return l.wrap(err, "read members of group %s", group)
	}
	if len(members) == 0 {
		return nil
	}
	full, err := l.push(ctx, members, msg)
	if err != nil {
		return l.wrap(err, "send to group %s", group)
	}
	if len(full) == 0 {
		return nil
	}
	fe := &channels.FullError{Group: group}
	for _, i := range full {
		fe.Channels = append(fe.Channels, members[i-1])
	}
	slices.Sort(fe.Channels)
	return fe
}

// members drops the group's expired memberships and returns the others.
func (l *Layer) members(ctx context.Context, group string) ([]string, error) {
	key := l.groupKey(group)
	stale := strconv.FormatInt(millis(time.Now().Add(-l.groupExpiry)), 10)
	b := l.client.B()
	res := l.client.DoMulti(ctx,
		b.Zremrangebyscore().Key(key).Min("-inf").Max(stale).Build(),
		b.Zrange().Key(key).Min("0").Max("-1").Build(),
	)
	members, err := res[1].AsStrSlice()
	if err == nil {
		err = res[0].Error()
	}
	return members, l.health.check(err)
}

// Close implements [channels.Layer.Close]. Receives that are waiting return
// ErrClosed at once; Close waits up to 5 s for them to put back any message
// they popped meanwhile, then closes the connections. The messages of the
// channels made by NewChannel are dropped: no other layer can receive them.
func (l *Layer) Close() error {
	l.mu.Lock()
	if l.closed() {
		l.mu.Unlock()
		return channels.ErrClosed
	}
	l.cancel()
	inbox := l.inbox.started.Load()
	l.mu.Unlock()
	if inbox {
		processes.Delete(l.process)
	}

	done := make(chan struct{})
	go func() {
		l.wg.Wait()
		close(done)
	}()
	timer := time.NewTimer(closeTimeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		l.log.Warn("redis: closing with receives still waiting for redis")
	}
	l.abortPops()
	if inbox {
		l.cleanup("delete the inbox", l.client.B().Del().Key(l.inbox.key).Build())
	}
	l.client.Close()
	<-done
	return nil
}

func (l *Layer) closed() bool { return l.ctx.Err() != nil }

// push runs the send script on the named channels and returns the 1-based
// positions of those that were full.
func (l *Layer) push(ctx context.Context, names []string, msg []byte) ([]int64, error) {
	receipts, err := l.inbox.receipts.take(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	keys := make([]string, 0, len(receipts)+2*len(names))
	args := make([]string, 0, 7+len(receipts)+len(names))
	args = append(args,
		strconv.FormatInt(millis(now), 10),
		strconv.FormatInt(l.expiry.Milliseconds(), 10),
		strconv.Itoa(l.capacity),
		header(now),
		newID(),
		string(msg), // a copy: a cancelled call may leave msg to be written later
		strconv.Itoa(len(receipts)),
	)
	for _, r := range receipts {
		keys = append(keys, r.key)
		args = append(args, r.id)
	}
	for _, name := range names {
		if process, local, ok := splitName(name); ok {
			keys = append(keys, l.inboxKey(process), l.unreceivedKey(process, local))
			args = append(args, local)
		} else {
			keys = append(keys, l.channelKey(name))
			args = append(args, "")
		}
	}
	full, err := sendScript.Exec(ctx, l.client, keys, args).AsIntSlice()
	if err != nil {
		l.inbox.receipts.putBack(receipts)
	}
	return full, l.health.check(err)
}

// doMulti runs cmds in one pipeline and returns the first error.
func (l *Layer) doMulti(ctx context.Context, cmds ...rueidis.Completed) error {
	var err error
	for _, r := range l.client.DoMulti(ctx, cmds...) {
		if e := r.Error(); e != nil && err == nil {
			err = e
		}
	}
	return l.health.check(err)
}

// wrap says what failed in err, or returns ErrClosed if the layer closed.
func (l *Layer) wrap(err error, format string, args ...any) error {
	if l.closed() {
		return channels.ErrClosed
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

func (l *Layer) channelKey(name string) string  { return l.prefix + "channel:" + name }
func (l *Layer) groupKey(name string) string    { return l.prefix + "group:" + name }
func (l *Layer) wakeKey() string                { return l.prefix + "wake:" + rand.Text() }
func (l *Layer) inboxKey(process string) string { return l.prefix + "inbox:" + process }

func (l *Layer) unreceivedKey(process, local string) string {
	return l.prefix + "unreceived:" + process + "!" + local
}

// millis returns t in Unix milliseconds.
func millis(t time.Time) int64 { return t.UnixMilli() }
