package e2e

import (
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
)

// BenchmarkDeadlinesAcrossProcesses starts 1,000 participants on a page
// whose deadlines all fall on the same instant, with no browser open, the
// web server (runserver --noworker) and the timeout worker (asynq) running
// as separate processes on Redis, with Postgres or with an SQLite file both
// processes share. It reports how late, after that instant, the last
// participant, the 99th percentile and the median were advanced, from the
// page-time log's completion times.
//
//	go test ./internal/e2e -run '^$' -bench DeadlinesAcrossProcesses -benchtime 1x
func BenchmarkDeadlinesAcrossProcesses(b *testing.B) {
	b.Run("postgres", func(b *testing.B) {
		dbURL := postgresSchema(b)
		benchDeadlines(b, "", []string{"DATABASE_URL=" + dbURL}, openDB(b, dbURL, ""))
	})
	b.Run("sqlite", func(b *testing.B) {
		dir := b.TempDir()
		benchDeadlines(b, dir, nil, openDB(b, "", filepath.Join(dir, "db.sqlite3")))
	})
}

// benchDeadlines runs the benchmark with the processes in dir (a fresh
// directory if ""), the database given by env and read through db.
func benchDeadlines(b *testing.B, dir string, env []string, db *gorm.DB) {
	const n = 1000
	bin := testappBin.get(b)
	env = append(env, "REDIS_URL="+redisDB(b))
	_, base := startServer(b, "web", bin, dir, env, "runserver", "127.0.0.1:0", "--noworker")
	startProc(b, "timeouts", bin, dir, env, "runtimeoutworker").waitOutput(b, runningRE, 30*time.Second)

	var late []time.Duration
	for range b.N {
		// Starting a participant takes two requests; allow 5 ms each.
		at := time.Now().Add(2*time.Second + n*5*time.Millisecond).Truncate(time.Second)
		info := createSession(b, base, "solo", n, map[string]any{"deadline_at_ms": at.UnixMilli()})
		var all errs
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for _, p := range participants(info, base) {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				all.add(p.start())
			})
		}
		wg.Wait()
		all.report(b)
		if time.Now().After(at) {
			b.Fatalf("starting %d participants took past their deadline", n)
		}

		var rows map[string][]pageTime
		if !waitUntil(time.Until(at)+time.Minute, func() bool {
			rows = pageTimes(b, db, info.Code, 1)
			return len(rows) == n
		}) {
			b.Fatalf("only %d of %d participants advanced a minute after the deadline", len(rows), n)
		}
		for _, list := range rows {
			for _, r := range list {
				if !r.TimeoutHappened {
					b.Fatalf("a page was submitted without a timeout: %+v", r)
				}
				late = append(late, r.CompletedAt.Sub(at))
			}
		}
	}
	sort.Slice(late, func(i, j int) bool { return late[i] < late[j] })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(late[len(late)-1]), "max-late-ms")
	b.ReportMetric(ms(late[len(late)*99/100]), "p99-late-ms")
	b.ReportMetric(ms(late[len(late)/2]), "p50-late-ms")
	b.ReportMetric(ms(late[0]), "min-late-ms")
}
