package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gotree/gotree/channels"
	"github.com/redis/rueidis"
)

// Receive implements [channels.Layer.Receive]. On a plain channel, while
// Redis is unreachable it retries with back-off until ctx ends. See the
// package documentation for what it does to keep a message that arrives as
// ctx ends. On a channel made by NewChannel of a layer in another process,
// or of a closed one, it returns an error matching [ErrNotLocal].
func (l *Layer) Receive(ctx context.Context, channel string) ([]byte, error) {
	if l.closed() {
		return nil, channels.ErrClosed
	}
	if process, local, ok := splitName(channel); ok {
		return l.receiveLocal(ctx, channel, process, local)
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(l.ctx, cancel)()

	key := l.channelKey(channel)
	var retry backoff
	for {
		msg, err := l.receive(ctx, key)
		switch {
		case err == nil:
			return msg, nil
		case parent.Err() != nil:
			return nil, parent.Err()
		case ctx.Err() != nil || errors.Is(err, channels.ErrClosed):
			return nil, channels.ErrClosed
		case !isConnErr(err):
			return nil, l.wrap(err, "receive from channel %s", channel)
		}
		retry.wait(ctx)
	}
}

// receive returns the oldest unexpired message of the channel stored at
// key, waiting for one until ctx ends.
func (l *Layer) receive(ctx context.Context, key string) ([]byte, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		elem, err := l.pop(key)
		if err != nil {
			return nil, err
		}
		if elem == "" {
			if elem, err = l.wait(ctx, key); err != nil {
				return nil, err
			}
		}
		sent, msg, err := decode(elem)
		if err != nil {
			return nil, err
		}
		if time.Since(sent) < l.expiry {
			return msg, nil
		}
	}
}

// pop pops the oldest unexpired element of the list at key, or returns ""
// if there is none. It runs without the caller's context, which could
// otherwise end after Redis popped an element but before its answer came.
func (l *Layer) pop(key string) (string, error) {
	args := []string{
		strconv.FormatInt(millis(time.Now()), 10),
		strconv.FormatInt(l.expiry.Milliseconds(), 10),
	}
	elem, err := popScript.Exec(context.Background(), l.client, []string{key}, args).ToString()
	if rueidis.IsRedisNil(err) {
		return "", l.health.check(nil)
	}
	return elem, l.health.check(err)
}

// A waiter is one BLPOP on a channel's list and on a wake list of its own,
// which the layer pushes to when the caller's context ends.
type waiter struct {
	key, wake string
	res       chan popResult // unbuffered: a result is taken or abandoned
	abandoned chan struct{}  // closed when the caller has returned
	stop      func() bool    // stops the pushing of the wake token
	woken     chan struct{}  // closed once the wake token was pushed
}

type popResult struct {
	elem string // "" when woken
	err  error
}

// wait pops the head of the list at key, waiting in BLPOP until there is
// one or ctx ends. If ctx ends first, wait returns at once, and the BLPOP,
// woken by a token on its wake list, ends in the background, putting back
// any element it popped.
func (l *Layer) wait(ctx context.Context, key string) (string, error) {
	w := &waiter{
		key:       key,
		wake:      l.wakeKey(),
		res:       make(chan popResult),
		abandoned: make(chan struct{}),
		woken:     make(chan struct{}),
	}
	if !l.startWaiter() {
		return "", channels.ErrClosed
	}
	w.stop = context.AfterFunc(ctx, func() {
		defer close(w.woken)
		l.pushWake(w.wake)
	})
	go l.blockingPop(w)

	select {
	case r := <-w.res:
		if r.elem == "" && r.err == nil {
			return "", ctx.Err()
		}
		return r.elem, r.err
	case <-ctx.Done():
		close(w.abandoned)
		return "", ctx.Err()
	}
}

// startWaiter counts a blocking pop that Close must wait for, unless the
// layer is closed.
func (l *Layer) startWaiter() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed() {
		return false
	}
	l.wg.Add(1)
	return true
}

// blockingPop runs w's BLPOP and hands the result to the caller, or, if the
// caller has returned, puts back the element it popped.
func (l *Layer) blockingPop(w *waiter) {
	defer l.wg.Done()
	var r popResult // woken, if the caller returns before a connection is free
	if l.takeConn(w.abandoned) {
		r = l.blpop(w.key, w.wake)
		<-l.conns
	}
	select {
	case w.res <- r:
		if w.stop() {
			return // no wake token was pushed
		}
	case <-w.abandoned:
		if r.elem != "" {
			l.pushBack(w.key, r.elem)
		}
	}
	<-w.woken
	l.cleanup("delete wake key", l.client.B().Del().Key(w.wake).Build())
}

// takeConn waits for one of the ReceiveConns connections, and reports
// false if the caller returns first. Counting them here rather than leaving
// it to the pool keeps one connection free for the inbox.
func (l *Layer) takeConn(abandoned <-chan struct{}) bool {
	select {
	case l.conns <- struct{}{}:
		return true
	default:
	}
	select {
	case l.conns <- struct{}{}:
		return true
	case <-abandoned:
		return false
	}
}

// blpop waits without a timeout for an element of the list at key or a
// token on the list at wake. Like pop, it runs without the caller's context;
// Close ends it by closing the connection if the token cannot wake it.
func (l *Layer) blpop(key, wake string) popResult {
	cmd := l.client.B().Blpop().Key(key, wake).Timeout(0).Build()
	kv, err := l.client.Do(l.abort, cmd).AsStrSlice()
	if err = l.health.check(err); err != nil {
		return popResult{err: err}
	}
	if len(kv) != 2 {
		return popResult{err: fmt.Errorf("blpop answered %d values, want 2", len(kv))}
	}
	if kv[0] == wake {
		return popResult{}
	}
	return popResult{elem: kv[1]}
}

// pushWake pushes the token that ends a BLPOP on wake. The token expires in
// case it outlives the BLPOP.
func (l *Layer) pushWake(wake string) {
	b := l.client.B()
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	for _, r := range l.client.DoMulti(ctx,
		b.Lpush().Key(wake).Element("1").Build(),
		b.Pexpire().Key(wake).Milliseconds(time.Minute.Milliseconds()).Build(),
	) {
		if err := l.health.check(r.Error()); err != nil {
			l.report("wake a cancelled receive", err)
			return
		}
	}
}

// pushBack puts elem back at the head of the list at key, unless it has
// expired.
func (l *Layer) pushBack(key, elem string) {
	sent, _, err := decode(elem)
	if err != nil {
		return
	}
	ttl := l.expiry - time.Since(sent)
	if ttl <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	args := []string{elem, strconv.FormatInt(ttl.Milliseconds()+1, 10)}
	err = pushBackScript.Exec(ctx, l.client, []string{key}, args).Error()
	l.report("put back a message popped for a cancelled receive", l.health.check(err))
}

// cleanup runs cmd on the layer's own behalf and reports a failure.
// After Close has given up waiting, the connections are closing, and
// failures say nothing about Redis.
func (l *Layer) cleanup(what string, cmd rueidis.Completed) {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	err := l.client.Do(ctx, cmd).Error()
	if l.abort.Err() != nil {
		return
	}
	l.report(what, l.health.check(err))
}

// report logs the failure of work the layer did in the background, unless
// it is a lost connection, which health reports at a limited rate.
func (l *Layer) report(what string, err error) {
	if err != nil && !isConnErr(err) {
		l.log.Warn("redis: "+what+" failed", "err", err)
	}
}

// A backoff spaces out retries while Redis is unreachable.
type backoff struct{ delay time.Duration }

// wait waits for the next retry or until ctx ends.
func (b *backoff) wait(ctx context.Context) {
	b.delay = min(max(2*b.delay, 50*time.Millisecond), 2*time.Second)
	t := time.NewTimer(b.delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
