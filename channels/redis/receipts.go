package redis

import (
	"context"
	"sync"
	"time"
)

// flushDelay is how long receipts wait for a send of their layer to carry
// them, or for others to join them, before the inbox sends them alone.
const flushDelay = time.Millisecond

// A receipt says that a message of a channel made by NewChannel has been
// received, and so is to leave the channel's set of unreceived messages.
type receipt struct {
	key string // the set
	id  string // the message's member
}

// Receipts hold what Receive has taken from an inbox until Redis has
// counted it. Waiting for Redis in Receive would add a round trip to every
// message; instead a Receive leaves its receipt here and returns. The next
// send of the layer carries the pending receipts in its script, ahead of
// its own capacity checks, so that every send a Receive precedes, in this
// layer or in a process it tells, finds the room that the Receive made. The
// inbox sends receipts that no send took after flushDelay, for senders that
// learn of the room by other ways.
type receipts struct {
	kick chan struct{} // signalled when a receipt is added

	// mu guards the fields below.
	mu       sync.Mutex
	pending  []receipt
	flushing chan struct{} // closed when the flush under way ends; nil if none
}

func newReceipts() *receipts {
	return &receipts{kick: make(chan struct{}, 1)}
}

// add leaves a receipt and wakes the inbox to flush it.
func (r *receipts) add(key, id string) {
	r.mu.Lock()
	r.pending = append(r.pending, receipt{key, id})
	r.mu.Unlock()
	r.wake()
}

func (r *receipts) wake() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// take returns the pending receipts for a send to carry, after waiting for
// a flush under way, whose receipts the send must follow.
func (r *receipts) take(ctx context.Context) ([]receipt, error) {
	r.mu.Lock()
	pending, flushing := r.pending, r.flushing
	r.pending = nil
	r.mu.Unlock()
	if flushing == nil {
		return pending, nil
	}
	select {
	case <-flushing:
		return pending, nil
	case <-ctx.Done():
		r.putBack(pending)
		return nil, ctx.Err()
	}
}

// putBack returns receipts that a failed send took. Counting one twice does
// no harm.
func (r *receipts) putBack(rs []receipt) {
	if len(rs) == 0 {
		return
	}
	r.mu.Lock()
	r.pending = append(rs, r.pending...)
	r.mu.Unlock()
	r.wake()
}

// flush sends the pending receipts to Redis. Only the inbox's tend calls
// it. If Redis does not take them, they are dropped: their entries expire
// with their messages, and until then the channels have less room.
func (l *Layer) flush() {
	r := l.inbox.receipts
	r.mu.Lock()
	if len(r.pending) == 0 {
		r.mu.Unlock()
		return
	}
	pending, done := r.pending, make(chan struct{})
	r.pending, r.flushing = nil, done
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.flushing = nil
		r.mu.Unlock()
		close(done)
	}()

	keys, ids := make([]string, len(pending)), make([]string, len(pending))
	for i, rc := range pending {
		keys[i], ids[i] = rc.key, rc.id
	}
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	err := receiptScript.Exec(ctx, l.client, keys, ids).Error()
	if l.closed() {
		return
	}
	l.report("count received messages", l.health.check(err))
}
