package otree

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/gotree/gotree/channels"
	"github.com/gotree/gotree/timeouts"
)

// ServerOptions configure a [Server]. The zero value serves from the SQLite
// file db.sqlite3 with an in-memory channel layer, four channels-worker
// goroutines and in-process page deadlines.
type ServerOptions struct {
	// DatabaseURL is a postgres:// URL; empty means the embedded SQLite
	// database at SQLitePath.
	DatabaseURL string

	// SQLitePath is the embedded database's file; "db.sqlite3" if empty.
	SQLitePath string

	// Layer is the channel layer; an in-memory layer if nil. The server
	// closes a layer it made, not one it was given.
	Layer channels.Layer

	// Scheduler schedules page deadlines; an in-process scheduler if nil.
	Scheduler timeouts.Scheduler

	// Workers is the number of channels-worker goroutines; 0 means 4 and a
	// negative number none (another process runs them).
	Workers int

	// NoTimeoutWorker leaves running the Scheduler to another process: this
	// server only schedules deadlines.
	NoTimeoutWorker bool

	// Production hides error details from participants (OTREE_PRODUCTION).
	Production bool

	// AuthLevel is "", "DEMO" or "STUDY" (OTREE_AUTH_LEVEL). With DEMO or
	// STUDY the REST API needs RestKey; STUDY also closes the demo pages.
	AuthLevel string

	// RestKey is the value the otree-rest-key header must carry
	// (OTREE_REST_KEY).
	RestKey string

	// Logger receives the server's log; slog.Default() if nil.
	Logger *slog.Logger
}

// A Server is a running gotree: its database, channel layer, channels
// workers and timeout worker. Its Handler serves participants' pages, the
// demo page, the REST API and the WebSockets.
type Server struct {
	e        *engine
	handler  http.Handler
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	ownLayer bool
	once     sync.Once
}

// NewServer checks the project, opens and migrates the database and starts
// the workers. Close stops them.
func NewServer(p *Project, opts *ServerOptions) (*Server, error) {
	o := ServerOptions{}
	if opts != nil {
		o = *opts
	}
	if o.SQLitePath == "" {
		o.SQLitePath = "db.sqlite3"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	e, err := newEngine(p, o)
	if err != nil {
		return nil, err
	}
	s := &Server{e: e, handler: e.routes()}
	if e.layer == nil {
		e.layer, s.ownLayer = channels.NewMemory(nil), true
	}
	if e.sched == nil {
		e.sched = timeouts.NewLocal(nil)
	}
	if err := s.start(o); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func newEngine(p *Project, o ServerOptions) (*engine, error) {
	kinds, err := p.check()
	if err != nil {
		return nil, err
	}
	setCurrencyFormat(p.PointsDecimalPlaces, 2, p.RealWorldCurrencyCode, p.PointsName)
	e := &engine{
		project: p, kinds: kinds, layer: o.Layer, sched: o.Scheduler, log: o.Logger,
		opts: o, configOf: map[int64]*sessionKind{},
	}
	for _, c := range p.SessionConfigs {
		for _, a := range kinds[c.Name].apps {
			if !containsApp(e.apps, a) {
				e.apps = append(e.apps, a)
			}
		}
	}
	if e.store, err = openStore(o.DatabaseURL, o.SQLitePath); err != nil {
		return nil, err
	}
	if err := e.store.migrate(e.apps); err != nil {
		e.store.close()
		return nil, err
	}
	return e, nil
}

func containsApp(list []*appSpec, a *appSpec) bool {
	for _, b := range list {
		if b == a {
			return true
		}
	}
	return false
}

// start launches the channels workers and, unless another process runs
// it, the timeout worker with every stored deadline.
func (s *Server) start(o ServerOptions) error {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	workers := o.Workers
	if workers == 0 {
		workers = 4
	}
	for range max(workers, 0) {
		s.wg.Go(func() { s.e.runWorker(ctx) })
	}
	if o.NoTimeoutWorker {
		return nil
	}
	s.wg.Go(func() {
		if err := s.e.sched.Run(ctx, s.e.handleTimeout); err != nil && ctx.Err() == nil {
			s.e.log.Error("timeout worker stopped", "err", err)
		}
	})
	return s.e.rescheduleDeadlines(ctx)
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops the workers and closes the database, and the channel layer
// if the server made it.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		if s.cancel != nil {
			s.cancel()
		}
		s.wg.Wait()
		var errs []error
		if s.ownLayer {
			errs = append(errs, s.e.layer.Close())
		}
		errs = append(errs, s.e.store.close())
		err = errors.Join(errs...)
	})
	return err
}

// CreateSession creates a session and returns its code.
func (s *Server) CreateSession(ctx context.Context, o SessionOptions) (string, error) {
	sess, err := s.e.createSession(ctx, o)
	if err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	return sess.Code, nil
}
