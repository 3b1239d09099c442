package otree

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gotree/gotree/channels"
	"github.com/gotree/gotree/timeouts"
)

// An engine is gotree's server state shared by the web server and the
// workers: the checked project, the database, the channel layer and the
// timeout scheduler.
type engine struct {
	project *Project
	kinds   map[string]*sessionKind
	apps    []*appSpec
	store   *store
	layer   channels.Layer
	sched   timeouts.Scheduler
	log     *slog.Logger
	opts    ServerOptions

	// pushes are the pushes in flight that a handler did not wait for.
	pushes sync.WaitGroup

	// configOf caches each session's config name; sessions never change
	// config. Bounded: it is emptied when it grows past maxCachedSessions.
	mu       sync.Mutex
	configOf map[int64]*sessionKind
}

const maxCachedSessions = 10000

// Names on the channel layer.
const (
	eventsChannel = "otree.events" // WebSocket events for the channels worker
)

var (
	readyMessage        = []byte(`{"status": "ready"}`)
	autoAdvancedMessage = []byte(`{"auto_advanced": true}`)
)

// participantGroup names the channel-layer group of a participant's
// auto-advance sockets.
func participantGroup(code string) string { return "participant-" + code }

// kindFor returns the session config of a session.
func (e *engine) kindFor(t *txn, sessionID int64) (*sessionKind, error) {
	e.mu.Lock()
	k := e.configOf[sessionID]
	e.mu.Unlock()
	if k != nil {
		return k, nil
	}
	s := t.sessionByID(sessionID)
	k = e.kinds[s.ConfigName]
	if k == nil {
		return nil, fmt.Errorf("session %s uses config %q, which the server no longer has",
			s.Code, s.ConfigName)
	}
	e.mu.Lock()
	if len(e.configOf) >= maxCachedSessions {
		e.configOf = map[int64]*sessionKind{}
	}
	e.configOf[sessionID] = k
	e.mu.Unlock()
	return k, nil
}

// push sends a message to a channel-layer group. Pushes are hints: a
// client that misses one learns the state when it reconnects.
func (e *engine) push(ctx context.Context, group string, msg []byte) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := e.layer.GroupSend(ctx, group, msg); err != nil {
		e.log.Warn("push failed", "group", group, "err", err)
	}
}

// A timeoutTask is the payload of a page deadline.
type timeoutTask struct {
	Participant int64 `json:"participant"`
	Page        int   `json:"page"`
}

func timeoutKey(participantID int64, index int) string {
	return fmt.Sprintf("timeout-%d-%d", participantID, index)
}

// scheduleTimeout schedules a page deadline. The deadline is also stored on
// the participant, so a failure here is repaired when a process starts.
func (e *engine) scheduleTimeout(ctx context.Context, participantID int64, index int, at time.Time) {
	task := timeoutTaskFor(participantID, index, at)
	if err := e.sched.Schedule(ctx, task); err != nil {
		e.log.Error("schedule page deadline", "participant", participantID, "page", index, "err", err)
	}
}

// handleTimeout submits a page whose deadline has passed, if the
// participant is still on it. It runs under the same guard as the
// participant's own submission, so the two never both count.
func (e *engine) handleTimeout(ctx context.Context, task timeouts.Task) error {
	var tt timeoutTask
	if err := json.Unmarshal(task.Payload, &tt); err != nil {
		e.log.Error("bad timeout task", "key", task.Key, "err", err)
		return nil
	}
	// A scheduler may deliver a little early; wait for the deadline itself
	// rather than schedule the same key again from its own handler.
	if wait := time.Until(task.At); wait > 0 {
		sleep(ctx, wait)
	}
	var code string
	err := e.write(ctx, func(t *txn) error {
		code = ""
		p := t.lockParticipant(tt.Participant)
		if p.PageIndex != tt.Page || p.ExpiryPage != tt.Page || p.ExpiryAt == nil {
			return nil
		}
		if time.Now().Before(*p.ExpiryAt) {
			return errEarly
		}
		k, err := e.kindFor(t, p.SessionID)
		if err != nil {
			return err
		}
		code = p.Code
		return t.submit(k, p, tt.Page, nil, true)
	})
	if err != nil {
		return fmt.Errorf("advance participant %d past page %d: %w", tt.Participant, tt.Page, err)
	}
	if code != "" {
		// Off the handler's path: the next deadline need not wait for it.
		e.pushes.Go(func() {
			e.push(context.WithoutCancel(ctx), participantGroup(code), autoAdvancedMessage)
		})
	}
	return nil
}

// errEarly makes the scheduler retry a task delivered before the deadline
// stored with the participant.
var errEarly = errors.New("otree: the page's deadline has not passed yet")
