package redis

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gotree/gotree/channels"
)

// ErrNotLocal is returned by Receive for a channel made by NewChannel of a
// layer in another process, or of a layer that has been closed: only the
// layer that made such a channel receives its messages.
var ErrNotLocal = errors.New("redis: channel made by a layer of another process or a closed one")

// partLen is the length of a process id and of the local part of a channel
// name made by NewChannel: 128 random bits in base32.
const partLen = 26

// inboxBatch is the most messages the inbox loop takes from Redis at once.
const inboxBatch = 256

var base32Text = base32.StdEncoding.WithPadding(base32.NoPadding)

// newPart returns a random process id or local part of a channel name.
func newPart() string {
	var b [16]byte
	rand.Read(b[:])
	return base32Text.EncodeToString(b[:])
}

// splitName returns the process id and the local part of a channel name
// made by NewChannel, which ends in the two separated by "!", and reports
// whether name is one.
func splitName(name string) (process, local string, ok bool) {
	n := len(name)
	if n < 2*partLen+1 || name[n-partLen-1] != '!' {
		return "", "", false
	}
	process, local = name[n-2*partLen-1:n-partLen-1], name[n-partLen:]
	return process, local, isPart(process) && isPart(local)
}

// isPart reports whether s is partLen characters of the base32 alphabet.
func isPart(s string) bool {
	for i := range len(s) {
		if c := s[i]; (c < 'A' || c > 'Z') && (c < '2' || c > '7') {
			return false
		}
	}
	return len(s) == partLen
}

// processes maps the process ids of this process's layers that made
// channels to the layers, so that a channel made by one can be received
// through another layer on the same Redis.
var processes sync.Map

// An inbox receives the messages of the channels made by its layer's
// NewChannel. They arrive on one list in Redis, which one loop empties,
// handing each message to a Receive waiting on its channel or keeping it
// until one comes. A message leaves its channel's set of unreceived
// messages in Redis, which bounds the channel's capacity, only once a
// Receive returns it, by way of the inbox's receipts.
type inbox struct {
	l        *Layer
	key      string      // the list in Redis
	started  atomic.Bool // written under l.mu
	receipts *receipts

	// mu guards chans.
	mu    sync.Mutex
	chans map[string]*queue // by the local part of their names
}

// A queue holds the messages of a channel that no Receive has asked for
// yet or, when it has none, its waiting receivers; never both.
type queue struct {
	msgs    []envelope
	waiters []chan envelope // each buffered for the one message it is handed
}

// An envelope is a message taken from the inbox.
type envelope struct {
	sent time.Time
	id   string // its member in the channel's set of unreceived messages
	data []byte
}

func newInbox(l *Layer) *inbox {
	return &inbox{
		l:        l,
		key:      l.inboxKey(l.process),
		receipts: newReceipts(),
		chans:    make(map[string]*queue),
	}
}

// start starts the loop and tend once, unless the layer is closed.
func (in *inbox) start() error {
	if in.started.Load() {
		return nil
	}
	l := in.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed() {
		return channels.ErrClosed
	}
	if in.started.Load() {
		return nil
	}
	in.started.Store(true)
	processes.Store(l.process, l)
	l.wg.Add(2)
	go in.run()
	go in.tend(max(l.expiry/4, 10*time.Millisecond))
	return nil
}

// run moves messages from Redis to their channels until the layer closes.
// While Redis is unreachable it retries with back-off; health reports the
// outage.
func (in *inbox) run() {
	defer in.l.wg.Done()
	var retry backoff
	for !in.l.closed() {
		elems, err := in.next()
		if err != nil {
			if in.l.closed() {
				return
			}
			in.l.report("receive from the inbox", err)
			retry.wait(in.l.ctx)
			continue
		}
		retry = backoff{}
		in.deliver(elems, time.Now())
	}
}

// next takes the oldest messages from the inbox list, waiting for one in
// BLPOP. Pipelined behind the BLPOP, a script takes those that arrived
// with it, so that a burst costs one round trip per batch rather than one
// per message.
func (in *inbox) next() ([]string, error) {
	l := in.l
	b := l.client.B()

	// Unlike the BLPOP of a plain Receive, this one ends with the layer's
	// context, which closes its connection: the messages it may lose could
	// be received by no other layer anyway.
	res := l.client.DoMulti(l.ctx,
		b.Blpop().Key(in.key).Timeout(0).Build(),
		b.Eval().Script(popBatchScript).Numkeys(1).Key(in.key).
			Arg(strconv.Itoa(inboxBatch-1)).Build(),
	)
	kv, err := res[0].AsStrSlice()
	if l.closed() {
		return nil, channels.ErrClosed
	}
	if err = l.health.check(err); err != nil {
		return nil, err
	}
	if len(kv) != 2 {
		return nil, fmt.Errorf("blpop answered %d values, want 2", len(kv))
	}
	more, err := res[1].AsStrSlice()
	l.report("receive from the inbox", l.health.check(err))
	return append(kv[1:], more...), nil
}

// deliver hands the messages in elems to their channels, dropping those
// that expired on the way.
func (in *inbox) deliver(elems []string, now time.Time) {
	var bad error
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, elem := range elems {
		local, env, err := decodeInbox(elem)
		if err != nil {
			bad = err
			continue
		}
		if now.Sub(env.sent) < in.l.expiry {
			in.push(local, env)
		}
	}
	if bad != nil {
		in.l.report("read the inbox", bad)
	}
}

// receive removes and returns the oldest unexpired message of the channel
// with the given local part, waiting until one arrives, ctx ends or the
// layer closes. A message that reaches it as ctx ends stays in the channel.
func (in *inbox) receive(ctx context.Context, local string) (envelope, error) {
	if err := ctx.Err(); err != nil {
		return envelope{}, err
	}
	in.mu.Lock()
	if in.l.closed() {
		in.mu.Unlock()
		return envelope{}, channels.ErrClosed
	}
	if env, ok := in.pop(local, time.Now()); ok {
		in.mu.Unlock()
		return env, nil
	}
	w := make(chan envelope, 1)
	q := in.queue(local)
	q.waiters = append(q.waiters, w)
	in.mu.Unlock()

	select {
	case env := <-w:
		return env, nil
	case <-ctx.Done():
		in.abandon(local, w)
		return envelope{}, ctx.Err()
	case <-in.l.ctx.Done():
		return envelope{}, channels.ErrClosed
	}
}

// queue returns the channel's queue, creating it if need be. in.mu is held.
func (in *inbox) queue(local string) *queue {
	q := in.chans[local]
	if q == nil {
		q = &queue{}
		in.chans[local] = q
	}
	return q
}

// release forgets the channel's queue if it is empty, so that channels
// nobody uses cost nothing. in.mu is held.
func (in *inbox) release(local string, q *queue) {
	if len(q.msgs) == 0 && len(q.waiters) == 0 {
		delete(in.chans, local)
	}
}

// push hands env to the channel's longest-waiting receiver or keeps it.
// Redis has checked the capacity. in.mu is held.
func (in *inbox) push(local string, env envelope) {
	q := in.queue(local)
	if len(q.waiters) > 0 {
		w := q.waiters[0]
		q.waiters[0] = nil
		q.waiters = q.waiters[1:]
		w <- env
		in.release(local, q)
		return
	}
	q.msgs = append(q.msgs, env)
}

// pop removes and returns the channel's oldest unexpired message. in.mu is
// held.
func (in *inbox) pop(local string, now time.Time) (envelope, bool) {
	q := in.chans[local]
	if q == nil {
		return envelope{}, false
	}
	q.dropExpired(now, in.l.expiry)
	defer in.release(local, q)
	if len(q.msgs) == 0 {
		return envelope{}, false
	}
	env := q.msgs[0]
	q.msgs[0] = envelope{}
	q.msgs = q.msgs[1:]
	return env, true
}

// abandon withdraws the waiting receiver w from the channel. If w was
// handed a message meanwhile, the message goes to the next receiver or back
// to the head of the channel, so a cancelled Receive loses none.
func (in *inbox) abandon(local string, w chan envelope) {
	in.mu.Lock()
	defer in.mu.Unlock()
	q := in.queue(local)
	if i := slices.Index(q.waiters, w); i >= 0 {
		q.waiters = slices.Delete(q.waiters, i, i+1)
		in.release(local, q)
		return
	}
	env := <-w
	switch {
	case time.Since(env.sent) >= in.l.expiry:
		in.release(local, q)
	case len(q.waiters) > 0:
		in.push(local, env)
	default:
		q.msgs = slices.Insert(q.msgs, 0, env)
	}
}

// tend flushes receipts flushDelay after they are left, and sweeps the
// channels every sweepInterval, until the layer closes.
func (in *inbox) tend(sweepInterval time.Duration) {
	defer in.l.wg.Done()
	sweep := time.NewTicker(sweepInterval)
	defer sweep.Stop()
	var flush <-chan time.Time // when receipts are waiting
	for {
		select {
		case <-in.receipts.kick:
			if flush == nil {
				flush = time.After(flushDelay)
			}
		case <-flush:
			flush = nil
			in.l.flush()
		case now := <-sweep.C:
			in.sweep(now)
		case <-in.l.ctx.Done():
			return
		}
	}
}

// sweep drops expired messages from every channel and forgets the channels
// left empty. Their entries in Redis expire by themselves.
func (in *inbox) sweep(now time.Time) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for local, q := range in.chans {
		q.dropExpired(now, in.l.expiry)
		in.release(local, q)
	}
}

// dropExpired removes the messages at the head of q that were sent expiry or
// longer before now.
func (q *queue) dropExpired(now time.Time, expiry time.Duration) {
	n := 0
	for n < len(q.msgs) && now.Sub(q.msgs[n].sent) >= expiry {
		q.msgs[n] = envelope{}
		n++
	}
	q.msgs = q.msgs[n:]
	if len(q.msgs) == 0 {
		q.msgs = nil
	}
}

// receiveLocal implements Receive for a channel made by NewChannel, of this
// layer or of another layer of this process on the same Redis and prefix.
func (l *Layer) receiveLocal(ctx context.Context, channel, process, local string) ([]byte, error) {
	owner := l
	if process != l.process {
		v, ok := processes.Load(process)
		if !ok || v.(*Layer).space != l.space {
			return nil, fmt.Errorf("receive from channel %s: %w", channel, ErrNotLocal)
		}
		owner = v.(*Layer)
	}
	if owner == l {
		env, err := l.inbox.receive(ctx, local)
		if err != nil {
			return nil, err
		}
		l.inbox.receipts.add(l.unreceivedKey(l.process, local), env.id)
		return env.data, nil
	}

	// Through another layer: end when either closes.
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(l.ctx, cancel)()
	env, err := owner.inbox.receive(ctx, local)
	switch {
	case err == nil:
		owner.inbox.receipts.add(owner.unreceivedKey(process, local), env.id)
		return env.data, nil
	case parent.Err() != nil:
		return nil, parent.Err()
	case l.closed():
		return nil, channels.ErrClosed
	case errors.Is(err, channels.ErrClosed):
		return nil, fmt.Errorf("receive from channel %s: %w", channel, ErrNotLocal)
	}
	return nil, err
}
