// Package otreetest runs gotree experiments inside go test: it starts a
// server on a fresh database, plays session configs with their apps' bots
// and fails the test, naming case, participant, round and page, when a bot
// does.
//
// The simplest test of an experiment plays every config:
//
//	func TestBots(t *testing.T) {
//		for _, c := range project.SessionConfigs {
//			otreetest.Play(t, project, c.Name, 0)
//		}
//	}
//
// Servers use an SQLite database in t.TempDir(). [Databases] adds a fresh
// Postgres schema when Postgres is reachable, so a suite can run on both.
package otreetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gotree/gotree/otree"
)

// A Server is an otree.Server on a test database, with an HTTP test server
// in front of it. Both are closed when the test ends.
type Server struct {
	*otree.Server
	URL         string // the HTTP test server's base URL
	DatabaseURL string // "" for SQLite
	SQLitePath  string // the SQLite file, when DatabaseURL is ""
}

// NewServer starts a server for p on a fresh SQLite database. opts may
// set anything but the database; nil is fine.
func NewServer(tb testing.TB, p *otree.Project, opts *otree.ServerOptions) *Server {
	tb.Helper()
	return NewServerOn(tb, SQLite, p, opts)
}

// A Database is where a test server keeps its data.
type Database struct {
	Name string
	open func(testing.TB) (databaseURL, sqlitePath string)
}

// SQLite is a fresh embedded database in the test's temporary directory.
var SQLite = Database{Name: "sqlite", open: func(tb testing.TB) (string, string) {
	return "", filepath.Join(tb.TempDir(), "test.sqlite3")
}}

// NewServerOn starts a server for p on a fresh database of the given kind.
func NewServerOn(tb testing.TB, db Database, p *otree.Project, opts *otree.ServerOptions) *Server {
	tb.Helper()
	o := otree.ServerOptions{}
	if opts != nil {
		o = *opts
	}
	o.DatabaseURL, o.SQLitePath = db.open(tb)
	srv, err := otree.NewServer(p, &o)
	if err != nil {
		tb.Fatalf("otree.NewServer: %v", err)
	}
	hs := httptest.NewServer(srv.Handler())
	tb.Cleanup(func() {
		hs.Close()
		if err := srv.Close(); err != nil {
			tb.Errorf("close server: %v", err)
		}
	})
	return &Server{Server: srv, URL: hs.URL, DatabaseURL: o.DatabaseURL, SQLitePath: o.SQLitePath}
}

// Play plays a session config with its bots (n participants; 0 for the
// config's demo size) and fails the test for each bot failure. It returns
// the report for further checks.
func Play(tb testing.TB, p *otree.Project, config string, n int) *otree.BotReport {
	tb.Helper()
	return NewServer(tb, p, nil).Play(tb, config, n)
}

// Play plays a session config with its bots on this server.
func (s *Server) Play(tb testing.TB, config string, n int) *otree.BotReport {
	tb.Helper()
	return s.PlayWith(tb, otree.SessionOptions{Config: config, Participants: n})
}

// PlayWith plays sessions created with o (a config with, say, other
// parameters or a fixed seed) with their bots on this server.
func (s *Server) PlayWith(tb testing.TB, o otree.SessionOptions) *otree.BotReport {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rep, err := s.PlayBots(ctx, o)
	if err != nil {
		tb.Fatalf("play %s: %v", o.Config, err)
	}
	for _, f := range rep.Failures {
		tb.Error(f)
	}
	return rep
}

// PostgresURL returns the Postgres server tests use: TEST_DATABASE_URL if
// set, else the local server on 127.0.0.1:5432.
func PostgresURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// Postgres is a fresh schema on the Postgres server of [PostgresURL],
// dropped when the test ends. Tests using it skip when Postgres is not
// reachable, except under CI=true, where they fail.
var Postgres = Database{Name: "postgres", open: openPostgres}

func openPostgres(tb testing.TB) (string, string) {
	tb.Helper()
	base := PostgresURL()
	db, err := gorm.Open(postgres.Open(base), &gorm.Config{Logger: logger.Discard})
	if err == nil {
		err = ping(db)
	}
	if err != nil {
		Unavailable(tb, "Postgres", base, err,
			"pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start")
	}
	schema := "t_" + randomHex(6)
	if err := db.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		db.Exec("DROP SCHEMA " + schema + " CASCADE")
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
	})
	return withSearchPath(base, schema), ""
}

func ping(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return sqlDB.PingContext(ctx)
}

func withSearchPath(base, schema string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Reuse returns a Database that is the database of an earlier test server,
// to start another server on the same data (as after a restart).
func Reuse(db Database, s *Server) Database {
	db.open = func(testing.TB) (string, string) { return s.DatabaseURL, s.SQLitePath }
	return db
}

// Databases returns the databases a suite should run on: SQLite always,
// and Postgres (see [Postgres]).
func Databases() []Database { return []Database{SQLite, Postgres} }

// Unavailable skips the test because a service is not reachable, saying
// how to start it; under CI=true it fails the test instead.
func Unavailable(tb testing.TB, service, addr string, err error, start string) {
	tb.Helper()
	msg := fmt.Sprintf("%s is not reachable at %s (%v); start it with: %s", service, addr, err, start)
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
}
