package e2e

import (
	"sort"
	"sync"
	"testing"
	"time"
)

// BenchmarkDeadlinesAcrossProcesses starts 1,000 participants on a page
// whose deadlines all fall on the same instant, with no browser open, the
// web server (runserver --noworker) and the timeout worker (asynq) running
// as separate processes on Postgres and Redis. It reports how late, after
// that instant, the last participant, the 99th percentile and the median
// were advanced, from the page-time log's completion times.
//
//	go test ./internal/e2e -run '^$' -bench DeadlinesAcrossProcesses -benchtime 1x
func BenchmarkDeadlinesAcrossProcesses(b *testing.B) {
	const n = 1000
	bin := testappBin.get(b)
	dbURL := postgresSchema(b)
	env := []string{"DATABASE_URL=" + dbURL, "REDIS_URL=" + redisDB(b)}
	_, base := startServer(b, "web", bin, "", env, "runserver", "127.0.0.1:0", "--noworker")
	startWorker(b, "timeouts", bin, env, "runtimeoutworker")
	db := openDB(b, dbURL, "")

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
