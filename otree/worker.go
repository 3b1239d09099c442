package otree

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/coder/websocket"

	"github.com/gotree/gotree/channels"
)

// A socketEvent is what the web server puts on the channel layer for each
// WebSocket that opens or closes; the channels worker acts on it.
type socketEvent struct {
	Type        string `json:"type"`  // "connect", "check" or "disconnect"
	Route       string `json:"route"` // "wait_page" or "auto_advance"
	Reply       string `json:"reply"` // the socket's reply channel
	Participant string `json:"participant_code"`
	Page        int    `json:"page_index"`
}

// serveSocket accepts a WebSocket on route and relays what the channels
// worker sends to its reply channel until either side closes.
func (e *engine) serveSocket(route string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		page, err := strconv.Atoi(r.URL.Query().Get("page_index"))
		code := r.URL.Query().Get("participant_code")
		if err != nil || code == "" {
			http.Error(w, "participant_code and page_index are required", http.StatusBadRequest)
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		reply, err := e.layer.NewChannel(ctx, "ws.")
		if err != nil {
			c.Close(websocket.StatusInternalError, "channel layer unavailable")
			return
		}
		ev := socketEvent{Route: route, Reply: reply, Participant: code, Page: page}
		e.sendEvent(ctx, ev, "connect")
		defer func() {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			e.sendEvent(ctx, ev, "disconnect")
		}()
		go e.readChecks(ctx, cancel, c, ev)
		e.relay(ctx, c, reply)
	}
}

// readChecks reads what the client sends: any message asks for the state
// again (pages send one now and then, so that a push lost on the way
// cannot strand them). It cancels ctx when the socket closes.
func (e *engine) readChecks(ctx context.Context, cancel context.CancelFunc, c *websocket.Conn, ev socketEvent) {
	defer cancel()
	for {
		if _, _, err := c.Read(ctx); err != nil {
			return
		}
		e.sendEvent(ctx, ev, "check")
	}
}

// closeMessage asks the web server to close a socket: its participant
// does not exist.
var closeMessage = []byte(`{"close": "unknown participant"}`)

// relay writes messages from the reply channel to the socket.
func (e *engine) relay(ctx context.Context, c *websocket.Conn, reply string) {
	for {
		msg, err := e.layer.Receive(ctx, reply)
		if err != nil {
			return
		}
		if bytes.Equal(msg, closeMessage) {
			c.Close(websocket.StatusPolicyViolation, "unknown participant")
			return
		}
		if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
			return
		}
	}
}

// sendEvent puts a socket event on the layer for the channels workers. If
// the events channel is full it tries again for a few seconds: a socket
// whose connect is lost would miss its state until its next check.
func (e *engine) sendEvent(ctx context.Context, ev socketEvent, typ string) {
	ev.Type = typ
	b, _ := json.Marshal(ev)
	delay := 50 * time.Millisecond
	for {
		err := e.layer.Send(ctx, eventsChannel, b)
		if err == nil || ctx.Err() != nil {
			return
		}
		if !errors.Is(err, channels.ErrFull) || delay > 2*time.Second {
			e.log.Warn("send socket event", "type", typ, "route", ev.Route, "err", err)
			return
		}
		sleep(ctx, delay)
		delay *= 2
	}
}

// runWorker consumes socket events until ctx is done. Several may run at
// once, in this process or others sharing the channel layer.
func (e *engine) runWorker(ctx context.Context) {
	for {
		msg, err := e.layer.Receive(ctx, eventsChannel)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, channels.ErrClosed) {
				return
			}
			e.log.Warn("receive socket event", "err", err)
			sleep(ctx, time.Second)
			continue
		}
		e.handleEvent(ctx, msg)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// handleEvent joins or leaves the socket's group, and on connect (or a
// client's check) sends the state at once if the socket's page is already
// out of date. It joins the group before it reads the state, so that a
// release between the two is either seen in the state or pushed to the
// group: a duplicate "ready" does no harm, a lost one would.
func (e *engine) handleEvent(ctx context.Context, msg []byte) {
	var ev socketEvent
	if err := json.Unmarshal(msg, &ev); err != nil || ev.Reply == "" {
		e.log.Warn("bad socket event", "err", err)
		return
	}
	group, _, err := e.socketState(ctx, ev)
	if errors.Is(err, errNotFound) {
		if ev.Type == "connect" {
			_ = e.layer.Send(ctx, ev.Reply, closeMessage)
		}
		return
	}
	if err != nil {
		e.log.Warn("socket event", "route", ev.Route, "participant", ev.Participant, "err", err)
		return
	}
	switch ev.Type {
	case "disconnect":
		if group != "" {
			_ = e.layer.GroupDiscard(ctx, group, ev.Reply)
		}
		return
	case "connect":
		if group != "" {
			if err := e.layer.GroupAdd(ctx, group, ev.Reply); err != nil {
				e.log.Warn("join socket group", "group", group, "err", err)
			}
		}
	}
	_, now, err := e.socketState(ctx, ev)
	if err == nil && now == nil && ev.Type == "check" && ev.Route == "wait_page" {
		now = e.recheckWait(ctx, ev)
	}
	if err != nil || now == nil {
		return
	}
	if err := e.layer.Send(ctx, ev.Reply, now); err != nil {
		e.log.Warn("send socket state", "err", err)
	}
}

// recheckWait tries, in a writing transaction, to release the wait page
// the socket waits on; it returns the ready message if the participant
// moved on. Arrivals release wait pages at once; this is the safety net a
// page's periodic check gives.
func (e *engine) recheckWait(ctx context.Context, ev socketEvent) []byte {
	moved := false
	err := e.write(ctx, func(t *txn) error {
		p, k, err := e.participant(t, ev.Participant, true)
		if err != nil {
			return err
		}
		moved = t.recheckWait(k, p, ev.Page)
		return nil
	})
	if err != nil {
		e.log.Warn("recheck wait page", "participant", ev.Participant, "err", err)
		return nil
	}
	if moved {
		return readyMessage
	}
	return nil
}

// socketState returns the group a socket belongs to, and the message to
// send it at once if its page is already out of date.
func (e *engine) socketState(ctx context.Context, ev socketEvent) (group string, now []byte, err error) {
	err = e.read(ctx, func(t *txn) error {
		group, now = "", nil
		p, err := t.participantByCode(ev.Participant, false)
		if err != nil {
			return err
		}
		if p == nil {
			return errNotFound
		}
		switch ev.Route {
		case "auto_advance":
			group = participantGroup(p.Code)
			if p.PageIndex != ev.Page {
				now = autoAdvancedMessage
			}
		case "wait_page":
			group, now, err = e.waitSocketState(t, p, ev.Page)
		}
		return err
	})
	return group, now, err
}

func (e *engine) waitSocketState(t *txn, p *Participant, page int) (string, []byte, error) {
	k, err := e.kindFor(t, p.SessionID)
	if err != nil {
		return "", nil, err
	}
	s, ok := k.stepAt(page)
	if !ok || !s.page.isWait() {
		return "", readyMessage, nil
	}
	key := waitKey(s, t.player(s.app, p.ID, s.round))
	group := waitGroupName(p.SessionID, page, key)
	if p.PageIndex != page || t.waitDone(p.SessionID, page, key) {
		return group, readyMessage, nil
	}
	return group, nil, nil
}
