package otree

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/libtnb/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// A store is the database. On SQLite one writer goroutine owns a dedicated
// connection and runs every writing transaction: the requests waiting when
// it is free go into one transaction, each in its own savepoint, so that
// BEGIN and COMMIT are paid once per batch and one request's failure rolls
// back only its own work (group commit). Statements are prepared once on
// that connection. Readers run in parallel on a pool, on WAL snapshots. On
// Postgres, transactions run concurrently on a pool.
type store struct {
	w, r     *gorm.DB // gorm handles, for migrations and what is not hot
	rsql     *sql.DB  // the readers' pool (the same as the writers' on Postgres)
	wsql     *sql.DB  // the writers' pool
	postgres bool

	// SQLite only.
	wconn   *sql.Conn      // the writer goroutine's connection
	wstmts  *stmtCache     // statements prepared on wconn
	rstmts  *stmtCache     // statements prepared on the readers' pool
	jobs    chan *writeJob // to the writer goroutine
	quit    chan struct{}  // closed to stop the writer goroutine
	stopped chan struct{}  // closed when the writer goroutine has returned
}

// newStore wraps the writer and reader handles and, on SQLite, starts the
// writer goroutine.
func newStore(w, r *gorm.DB, postgres bool) (*store, error) {
	wsql, err := w.DB()
	if err != nil {
		return nil, err
	}
	rsql, err := r.DB()
	if err != nil {
		return nil, err
	}
	s := &store{w: w, r: r, wsql: wsql, rsql: rsql, postgres: postgres}
	if postgres {
		return s, nil
	}
	if s.wconn, err = wsql.Conn(context.Background()); err != nil {
		return nil, fmt.Errorf("open the writers' connection: %w", err)
	}
	s.wstmts, s.rstmts = newStmtCache(s.wconn), newStmtCache(rsql)
	s.jobs, s.quit, s.stopped = make(chan *writeJob), make(chan struct{}), make(chan struct{})
	go s.writer()
	return s, nil
}

// openStore opens DATABASE_URL, or the SQLite file path when the URL is
// empty (db.sqlite3 when both are).
func openStore(databaseURL, sqlitePath string) (*store, error) {
	if sqlitePath == "" {
		sqlitePath = "db.sqlite3"
	}
	cfg := &gorm.Config{
		Logger:                                   logger.Discard,
		SkipDefaultTransaction:                   true,
		DisableForeignKeyConstraintWhenMigrating: true,
	}
	if databaseURL != "" {
		if !strings.HasPrefix(databaseURL, "postgres://") &&
			!strings.HasPrefix(databaseURL, "postgresql://") {
			return nil, fmt.Errorf("DATABASE_URL %s: only postgres:// URLs are supported",
				redactURL(databaseURL))
		}
		return openPostgres(databaseURL, cfg)
	}
	return openSQLite(sqlitePath, cfg)
}

func openPostgres(dsn string, cfg *gorm.Config) (*store, error) {
	db, err := gorm.Open(postgres.Open(dsn), cfg)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", redactURL(dsn), err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	sqlDB.SetMaxOpenConns(40)
	sqlDB.SetMaxIdleConns(40)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("connect to database %s: %w", redactURL(dsn), err)
	}
	return newStore(db, db, true)
}

func openSQLite(path string, cfg *gorm.Config) (*store, error) {
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(0)"
	w, err := gorm.Open(sqlite.Open("file:"+path+"?"+pragmas), cfg)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	r, err := gorm.Open(sqlite.Open("file:"+path+"?"+pragmas), cfg)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	wdb, _ := w.DB()
	// One connection for transactions, held; one for migrations.
	wdb.SetMaxOpenConns(2)
	wdb.SetMaxIdleConns(2)
	wdb.SetConnMaxIdleTime(0)
	rdb, _ := r.DB()
	rdb.SetMaxOpenConns(8)
	rdb.SetMaxIdleConns(8)
	if err := wdb.Ping(); err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return newStore(w, r, false)
}

func (s *store) close() error {
	if s.quit != nil {
		close(s.quit)
		<-s.stopped
	}
	s.wstmts.close()
	s.rstmts.close()
	var errs []error
	if s.wconn != nil {
		errs = append(errs, s.wconn.Close())
	}
	for _, db := range []*gorm.DB{s.w, s.r} {
		if sqlDB, err := db.DB(); err == nil {
			errs = append(errs, sqlDB.Close())
		}
		if s.w == s.r {
			break
		}
	}
	return errors.Join(errs...)
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// waitDone records that a wait page released a group (GroupID 0 when it
// waited for all groups). Its unique key is the last guard that
// AfterAllPlayersArrive runs once.
type waitDone struct {
	ID        int64 `gorm:"primaryKey"`
	SessionID int64 `gorm:"not null;uniqueIndex:otree_wait_done_key"`
	PageIndex int   `gorm:"not null;uniqueIndex:otree_wait_done_key"`
	GroupID   int64 `gorm:"not null;uniqueIndex:otree_wait_done_key"`
	CreatedAt time.Time
}

func (*waitDone) TableName() string { return "otree_wait_done" }

// pageTime is one completed page, oTree's page-time log.
type pageTime struct {
	ID              int64 `gorm:"primaryKey"`
	SessionID       int64 `gorm:"not null;index"`
	ParticipantID   int64 `gorm:"not null"`
	PageIndex       int
	AppName         string `gorm:"size:64"`
	PageName        string `gorm:"size:64"`
	RoundNumber     int
	CompletedAt     time.Time
	TimeoutHappened bool
	IsWaitPage      bool
}

func (*pageTime) TableName() string { return "otree_page_time" }

// migrate creates or extends every table: gotree's own and each app's.
// Processes starting together may migrate at once: on Postgres an advisory
// lock orders them; on SQLite, where no lock spans processes, a migration
// that lost a race (a table or column another process just created) runs
// again, since migrating is idempotent.
func (s *store) migrate(apps []*appSpec) error {
	if s.postgres {
		return s.w.Connection(func(db *gorm.DB) error {
			if err := db.Exec("SELECT pg_advisory_lock(?)", migrationLock).Error; err != nil {
				return fmt.Errorf("lock for migration: %w", err)
			}
			defer db.Exec("SELECT pg_advisory_unlock(?)", migrationLock)
			return migrateTables(db, apps)
		})
	}
	var err error
	for attempt := range 10 {
		if err = migrateTables(s.w, apps); err == nil {
			return nil
		}
		time.Sleep(time.Duration(50+mrand.IntN(100)*(attempt+1)) * time.Millisecond)
	}
	return err
}

// migrationLock is the advisory lock key that orders migrations.
const migrationLock = 0x6f74726565 // "otree"

func migrateTables(db *gorm.DB, apps []*appSpec) error {
	if err := db.AutoMigrate(&Session{}, &Participant{}, &waitDone{}, &pageTime{}); err != nil {
		return fmt.Errorf("create tables: %w", err)
	}
	for _, a := range apps {
		for _, t := range []*table{a.subsession, a.group, a.player} {
			if err := t.migrate(db); err != nil {
				return fmt.Errorf("create table %s: %w", t.name, err)
			}
		}
	}
	return nil
}

// dropAll drops every table of gotree and of the apps.
func (s *store) dropAll(apps []*appSpec) error {
	names := []string{"otree_session", "otree_participant", "otree_wait_done", "otree_page_time"}
	for _, a := range apps {
		names = append(names, a.subsession.name, a.group.name, a.player.name)
	}
	for _, n := range names {
		if err := s.w.Migrator().DropTable(n); err != nil {
			return fmt.Errorf("drop table %s: %w", n, err)
		}
	}
	return nil
}

// tableKind tells the three model tables of an app apart.
type tableKind int

const (
	subsessionTable tableKind = iota
	groupTable
	playerTable
)

// A table is one model table of an app.
type table struct {
	app    *appSpec
	kind   tableKind
	name   string
	schema *modelSchema
	sys    []string // gotree's columns, first in every select
	cols   string   // the quoted select list
}

// System columns by table kind, in the order rows are scanned.
var sysColumns = map[tableKind][]string{
	subsessionTable: {"id", "session_id", "round_number"},
	groupTable:      {"id", "session_id", "round_number", "subsession_id", "id_in_subsession"},
	playerTable: {"id", "session_id", "round_number", "participant_id", "subsession_id",
		"group_id", "id_in_group", "id_in_subsession", "role", "payoff"},
}

func newTable(spec *appSpec, kind tableKind, t, base reflect.Type, model string) (*table, error) {
	ms, err := parseModel(model, t, base)
	if err != nil {
		return nil, err
	}
	tbl := &table{
		app: spec, kind: kind, schema: ms, sys: sysColumns[kind],
		name: spec.name + "_" + strings.ToLower(model),
	}
	var cols []string
	for _, c := range tbl.sys {
		cols = append(cols, quote(c))
	}
	for _, f := range ms.fields {
		cols = append(cols, quote(f.column))
	}
	tbl.cols = strings.Join(cols, ", ")
	return tbl, nil
}

func quote(ident string) string { return `"` + ident + `"` }

// System column structs, migrated before the experimenter's struct adds
// its own columns to the same table.
type (
	subsessionColumns struct {
		ID          int64 `gorm:"primaryKey"`
		SessionID   int64 `gorm:"not null;index"`
		RoundNumber int   `gorm:"not null"`
	}
	groupColumns struct {
		ID             int64 `gorm:"primaryKey"`
		SessionID      int64 `gorm:"not null;index"`
		RoundNumber    int   `gorm:"not null"`
		SubsessionID   int64 `gorm:"not null;index"`
		IDInSubsession int   `gorm:"not null"`
	}
	playerColumns struct {
		ID             int64    `gorm:"primaryKey"`
		SessionID      int64    `gorm:"not null;index"`
		RoundNumber    int      `gorm:"not null"`
		ParticipantID  int64    `gorm:"not null"`
		SubsessionID   int64    `gorm:"not null"`
		GroupID        int64    `gorm:"not null;index"`
		IDInGroup      int      `gorm:"not null"`
		IDInSubsession int      `gorm:"not null"`
		Role           string   `gorm:"size:100"`
		Payoff         Currency `gorm:"not null;default:0"`
	}
)

func (t *table) migrate(db *gorm.DB) error {
	var sys any
	switch t.kind {
	case subsessionTable:
		sys = &subsessionColumns{}
	case groupTable:
		sys = &groupColumns{}
	default:
		sys = &playerColumns{}
	}
	if err := db.Table(t.name).AutoMigrate(sys); err != nil {
		return err
	}
	if len(t.schema.fields) > 0 {
		model := reflect.New(t.schema.typ).Interface()
		if err := db.Table(t.name).AutoMigrate(model); err != nil {
			return err
		}
	}
	if t.kind == playerTable {
		return db.Exec(fmt.Sprintf(
			"CREATE UNIQUE INDEX IF NOT EXISTS %s ON %s (participant_id, round_number)",
			quote(t.name+"_participant_round"), quote(t.name))).Error
	}
	return nil
}

// A writeJob is one request's writing work, run by the SQLite writer
// goroutine inside a savepoint of a shared transaction.
type writeJob struct {
	ctx  context.Context
	fn   func(db func() *gorm.DB, r runner) error
	done chan error
}

// maxBatch bounds the requests committed together.
const maxBatch = 256

// write runs fn in a writing transaction: on Postgres its own; on SQLite a
// savepoint of the writer goroutine's next transaction. It returns once the
// work is committed, or rolled back.
func (s *store) write(ctx context.Context, fn func(db func() *gorm.DB, r runner) error) error {
	if s.postgres {
		return s.writePostgres(ctx, fn)
	}
	j := &writeJob{ctx: ctx, fn: fn, done: make(chan error, 1)}
	// The jobs channel is unbuffered: a send that completes has reached
	// the writer, which answers it even if it is stopping.
	select {
	case s.jobs <- j:
	case <-s.quit:
		return errStoreClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-j.done
}

func (s *store) writePostgres(ctx context.Context, fn func(db func() *gorm.DB, r runner) error) (err error) {
	tx, err := s.wsql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if err := fn(s.gormOn(ctx, tx), runner{ctx, tx, nil}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// errTxLost reports that SQLite ended a batch's transaction on its own.
var errTxLost = errors.New("otree: the transaction was lost")

// errStoreClosed answers writes that arrive after the server closed.
var errStoreClosed = errors.New("otree: the server is closed")

// writer runs batches of jobs until quit is closed.
func (s *store) writer() {
	defer close(s.stopped)
	for {
		var batch []*writeJob
		select {
		case j := <-s.jobs:
			batch = append(batch, j)
		case <-s.quit:
			return
		}
	more:
		for len(batch) < maxBatch {
			select {
			case j := <-s.jobs:
				batch = append(batch, j)
			default:
				break more
			}
		}
		s.runBatch(batch)
	}
}

// runBatch runs jobs in one transaction, each in a savepoint, and tells
// each its outcome once the transaction has committed.
func (s *store) runBatch(jobs []*writeJob) {
	bg := context.Background()
	errs := make([]error, len(jobs))
	if err := s.execPrepared(bg, "BEGIN IMMEDIATE"); err != nil {
		for _, j := range jobs {
			j.done <- fmt.Errorf("begin transaction: %w", err)
		}
		return
	}
	for i, j := range jobs {
		errs[i] = s.runJob(j)
		if errors.Is(errs[i], errTxLost) {
			// SQLite rolled back the whole transaction (a disk error, say):
			// the rest would run outside it.
			for k := i + 1; k < len(jobs); k++ {
				errs[k] = errs[i]
			}
			break
		}
	}
	if err := s.execPrepared(bg, "COMMIT"); err != nil {
		s.execPrepared(bg, "ROLLBACK")
		for i := range errs {
			if errs[i] == nil {
				errs[i] = fmt.Errorf("commit: %w", err)
			}
		}
	}
	for i, j := range jobs {
		j.done <- errs[i]
	}
}

// runJob runs one job in a savepoint, rolling back to it on failure. Its
// statements run without the request's cancellation: interrupting SQLite
// mid-statement could roll back the whole shared transaction.
func (s *store) runJob(j *writeJob) (err error) {
	if err := j.ctx.Err(); err != nil {
		return err
	}
	ctx := context.WithoutCancel(j.ctx)
	if err := s.execPrepared(ctx, "SAVEPOINT otree_request"); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("otree: panic in a write: %v", r)
		}
		if err != nil && s.execPrepared(ctx, "ROLLBACK TO otree_request") != nil {
			err = fmt.Errorf("%w: %v", errTxLost, err)
			return
		}
		if rerr := s.execPrepared(ctx, "RELEASE otree_request"); rerr != nil && err == nil {
			err = fmt.Errorf("%w: %v", errTxLost, rerr)
		}
	}()
	return j.fn(s.gormOn(ctx, s.wconn), runner{ctx, s.wconn, s.wstmts})
}

// execPrepared runs a statement through the writer connection's cache, so
// that even BEGIN and SAVEPOINT are parsed once.
func (s *store) execPrepared(ctx context.Context, q string) error {
	st, err := s.wstmts.get(ctx, q)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(ctx)
	return err
}

// gormOn returns a function that makes a gorm handle running on conn (a
// transaction or the writer's connection).
func (s *store) gormOn(ctx context.Context, conn gorm.ConnPool) func() *gorm.DB {
	return func() *gorm.DB {
		db := s.w.Session(&gorm.Session{Context: ctx, NewDB: true})
		db.Statement.ConnPool = conn
		return db
	}
}
