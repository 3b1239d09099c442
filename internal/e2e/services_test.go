package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/libtnb/sqlite"
	"github.com/redis/go-redis/v9"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gotree/gotree/otree/otreetest"
)

// slow skips a test under -short.
func slow(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts processes and waits for deadlines; skipped under -short")
	}
}

// postgresSchema creates a fresh schema on the test Postgres server and
// returns a DATABASE_URL whose search_path is that schema. The schema is
// dropped when the test ends.
func postgresSchema(t testing.TB) string {
	t.Helper()
	base := otreetest.PostgresURL()
	db, err := gorm.Open(postgres.Open(base), &gorm.Config{Logger: logger.Discard})
	if err == nil {
		err = pingDB(db)
	}
	if err != nil {
		otreetest.Unavailable(t, "Postgres", base, err,
			"pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start")
	}
	schema := "e2e_" + randomHex(6)
	if err := db.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		if err := db.Exec("DROP SCHEMA " + schema + " CASCADE").Error; err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
		closeDB(db)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", base, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// openDB opens a database for the test's own queries: Postgres when
// databaseURL is set, else the SQLite file.
func openDB(t testing.TB, databaseURL, sqlitePath string) *gorm.DB {
	t.Helper()
	var d gorm.Dialector = sqlite.Open(sqlitePath + "?_pragma=busy_timeout(5000)")
	if databaseURL != "" {
		d = postgres.Open(databaseURL)
	}
	db, err := gorm.Open(d, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() { closeDB(db) })
	return db
}

func pingDB(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return sqlDB.PingContext(ctx)
}

func closeDB(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		sqlDB.Close()
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// redisAddr is the Redis server the tests use: the host and port of
// $REDIS_URL, else 127.0.0.1:6379. Tests choose the database themselves.
func redisAddr() string {
	if u, err := url.Parse(os.Getenv("REDIS_URL")); err == nil && u.Host != "" {
		return u.Host
	}
	return "127.0.0.1:6379"
}

// Redis databases 1 to 15 are handed out to tests; 0 is left to the other
// packages' tests. A test claims a database with a key in database 0, so
// that concurrent test binaries do not share one.
const (
	firstRedisDB = 1
	lastRedisDB  = 15
	claimTTL     = 30 * time.Minute
)

// redisDB claims a Redis database for the test, empties it, and returns
// its REDIS_URL. When the test ends the database is emptied and released.
func redisDB(t testing.TB) string {
	t.Helper()
	addr := redisAddr()
	admin := redis.NewClient(&redis.Options{Addr: addr, DB: 0})
	t.Cleanup(func() { admin.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.Ping(ctx).Err(); err != nil {
		otreetest.Unavailable(t, "Redis", addr, err,
			`redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save ""`)
	}
	owner := fmt.Sprintf("%d/%s", os.Getpid(), randomHex(4))
	for n := firstRedisDB; n <= lastRedisDB; n++ {
		claim := "gotree-e2e:claim:db" + strconv.Itoa(n)
		ok, err := admin.SetNX(ctx, claim, owner, claimTTL).Result()
		if err != nil {
			t.Fatalf("claim Redis database %d: %v", n, err)
		}
		if !ok {
			continue
		}
		db := redis.NewClient(&redis.Options{Addr: addr, DB: n})
		if err := db.FlushDB(ctx).Err(); err != nil {
			t.Fatalf("empty Redis database %d: %v", n, err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := db.FlushDB(ctx).Err(); err != nil {
				t.Logf("empty Redis database %d: %v", n, err)
			}
			db.Close()
			if v, _ := admin.Get(ctx, claim).Result(); v == owner {
				admin.Del(ctx, claim)
			}
		})
		return fmt.Sprintf("redis://%s/%d", addr, n)
	}
	t.Fatalf("no free Redis database among %d to %d: all are claimed by keys gotree-e2e:claim:db* "+
		"in database 0", firstRedisDB, lastRedisDB)
	return ""
}

// closedPort returns a local TCP address on which nothing listens.
func closedPort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
