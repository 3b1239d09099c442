package otree

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gotree/gotree/channels"
	redislayer "github.com/gotree/gotree/channels/redis"
	"github.com/gotree/gotree/timeouts"
	"github.com/gotree/gotree/timeouts/asynq"
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

	// RedisURL, when set and Layer or Scheduler is nil, gives the server a
	// channel layer on that Redis and a scheduler on asynq there, so that
	// several processes share them (REDIS_URL). NewServer fails at once,
	// naming the address, if Redis does not answer.
	RedisURL string

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
	e       *engine
	handler http.Handler
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	closers []func() error // backends the server made
	once    sync.Once
}

// connect supplies the channel layer and scheduler the options leave out:
// on Redis when RedisURL is set, else in memory.
func (s *Server) connect(o ServerOptions) error {
	e := s.e
	if o.RedisURL != "" && (e.layer == nil || e.sched == nil) {
		ctx, cancel := context.WithTimeout(context.Background(), redisStartTimeout)
		defer cancel()
		if e.layer == nil {
			l, err := redislayer.New(ctx, o.RedisURL, &redislayer.Options{
				Logger: o.Logger, Capacity: layerCapacity})
			if err != nil {
				return fmt.Errorf("channel layer: %w", err)
			}
			e.layer = l
			s.closers = append(s.closers, l.Close)
		}
		if e.sched == nil {
			a, err := asynq.New(ctx, o.RedisURL, &asynq.Options{
				Logger: o.Logger, Concurrency: e.deadlineConcurrency()})
			if err != nil {
				return fmt.Errorf("timeout scheduler: %w", err)
			}
			e.sched = a
			s.closers = append(s.closers, a.Close)
		}
	}
	if e.layer == nil {
		l := channels.NewMemory(&channels.MemoryOptions{Capacity: layerCapacity})
		e.layer = l
		s.closers = append(s.closers, l.Close)
	}
	if e.sched == nil {
		e.sched = timeouts.NewLocal(&timeouts.LocalOptions{
			Logger: o.Logger, Concurrency: e.deadlineConcurrency()})
	}
	return nil
}

// NewServer checks the project, opens and migrates the database and starts
// the workers. Close stops them.
func NewServer(p *Project, opts *ServerOptions) (*Server, error) {
	o := ServerOptions{}
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if err := checkAuth(o); err != nil {
		return nil, err
	}
	if o.RedisURL != "" && (o.Layer == nil || o.Scheduler == nil) {
		// Before the database: a wrong REDIS_URL should fail at once.
		ctx, cancel := context.WithTimeout(context.Background(), redisStartTimeout)
		err := pingRedis(ctx, o.RedisURL)
		cancel()
		if err != nil {
			return nil, err
		}
	}
	e, err := newEngine(p, o)
	if err != nil {
		return nil, err
	}
	s := &Server{e: e, handler: e.routes()}
	if err := s.connect(o); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.start(o); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// checkAuth refuses an auth level gotree does not know, which would
// otherwise leave the REST API and demo pages open without a word, and
// warns when auth is on with no REST key, which closes the REST API.
func checkAuth(o ServerOptions) error {
	switch strings.ToUpper(o.AuthLevel) {
	case "":
		return nil
	case "DEMO", "STUDY":
	default:
		return fmt.Errorf("OTREE_AUTH_LEVEL is %q: want DEMO, STUDY or nothing", o.AuthLevel)
	}
	if o.RestKey == "" {
		o.Logger.Warn("OTREE_AUTH_LEVEL is set and OTREE_REST_KEY is not: the REST API refuses every call")
	}
	return nil
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
	e.apps = projectApps(p, kinds)
	if e.store, err = openStore(o.DatabaseURL, o.SQLitePath); err != nil {
		return nil, err
	}
	if err := e.store.migrate(e.apps); err != nil {
		e.store.close()
		return nil, err
	}
	return e, nil
}

// projectApps lists every app of the project's configs once, in order of
// first appearance.
func projectApps(p *Project, kinds map[string]*sessionKind) []*appSpec {
	var apps []*appSpec
	for _, c := range p.SessionConfigs {
		for _, a := range kinds[c.Name].apps {
			if !slices.Contains(apps, a) {
				apps = append(apps, a)
			}
		}
	}
	return apps
}

// layerCapacity is the capacity of each channel of the layers a server
// makes. The events channel from the web servers to the channels workers
// must absorb a burst of sockets opening at once: a lab of hundreds
// loading their pages together.
const layerCapacity = 10000

// deadlineConcurrency is how many page deadlines a timeout worker handles
// at once. Deadlines often fall together (a timed page a whole lab reached
// at once). On SQLite, many at once are committed in large batches; on
// Postgres, more than a few per core only add contention.
func (e *engine) deadlineConcurrency() int {
	if e.store.postgres {
		return 16
	}
	return 64
}

// redisStartTimeout bounds how long a server waits for Redis at start.
const redisStartTimeout = 4 * time.Second

// pingRedis checks that the Redis at url answers PING, so that a command
// given a wrong REDIS_URL fails at once with the address.
func pingRedis(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		return fmt.Errorf("REDIS_URL %s is not a redis:// URL", redactURL(rawURL))
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "6379")
	}
	fail := func(err error) error {
		return fmt.Errorf("redis at %s does not answer: %w", addr, err)
	}
	if u.Scheme == "rediss" {
		return nil // TLS: the client's own PING checks it
	}
	d := net.Dialer{Timeout: redisStartTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fail(err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	} else {
		conn.SetDeadline(time.Now().Add(redisStartTimeout))
	}
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return fail(err)
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fail(err)
	}
	// +PONG, or -NOAUTH when a password is needed: either way Redis answers.
	if !strings.HasPrefix(line, "+") && !strings.HasPrefix(line, "-") {
		return fail(fmt.Errorf("unexpected reply %q", strings.TrimSpace(line)))
	}
	return nil
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
	s.wg.Go(func() { s.e.sweepDeadlines(ctx) })
	return s.e.rescheduleDeadlines(ctx, &s.wg)
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
		s.e.pushes.Wait()
		var errs []error
		for _, c := range s.closers {
			errs = append(errs, c())
		}
		errs = append(errs, s.e.store.close())
		err = errors.Join(errs...)
	})
	return err
}

// Participants returns the participants of the session with the given
// code, by IDInSession; their Code gives each one's start link,
// /InitializeParticipant/<code>.
func (s *Server) Participants(ctx context.Context, session string) ([]Participant, error) {
	_, parts, err := s.e.sessionWithParticipants(ctx, session)
	if err != nil {
		return nil, fmt.Errorf("read session %s: %w", session, err)
	}
	return parts, nil
}

// CreateSession creates a session and returns its code.
func (s *Server) CreateSession(ctx context.Context, o SessionOptions) (string, error) {
	sess, err := s.e.createSession(ctx, o)
	if err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	return sess.Code, nil
}
