package loadbench_test

import (
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gotree/gotree/examples/payment_info"
	"github.com/gotree/gotree/examples/public_goods"
	"github.com/gotree/gotree/internal/load"
	"github.com/gotree/gotree/otree"
	"github.com/gotree/gotree/otree/otreetest"
)

var project = &otree.Project{SessionConfigs: []otree.SessionConfig{{
	Name:                "public_goods",
	Apps:                []otree.Application{publicgoods.App, paymentinfo.App},
	NumDemoParticipants: 3,
}}}

// TestPublicGoods plays a small session the way the benchmark plays a
// large one, so that go test ./... shows when the benchmark cannot run.
func TestPublicGoods(t *testing.T) {
	srv := otreetest.NewServer(t, project, &otree.ServerOptions{Logger: slog.New(slog.DiscardHandler)})
	const n = 30
	rep, err := load.Run(context.Background(), load.Options{
		BaseURL: srv.URL, SessionConfig: "public_goods", Participants: n, WaitTimeout: time.Minute,
	})
	if err != nil {
		t.Fatalf("load.Run: %v", err)
	}
	if rep.ErrorCount > 0 || rep.Finished != n {
		var out strings.Builder
		rep.Print(&out)
		t.Fatalf("%d of %d participants finished, %d errors:\n%s", rep.Finished, n, rep.ErrorCount, out.String())
	}
	// Eight requests per participant (the start link, a GET and a POST
	// for the introduction, contribution and results, a GET of the payment
	// page), plus GETs of the wait page: at least one per group, at most
	// one per participant, and one more per socket wait.
	lo, hi := 8*n+n/3+rep.WaitPages, 9*n+rep.WaitPages
	if rep.Requests < lo || rep.Requests > hi {
		t.Errorf("Requests = %d with %d socket waits, want %d to %d", rep.Requests, rep.WaitPages, lo, hi)
	}
}

// BenchmarkPublicGoods300 plays the public goods game (introduction,
// contribution, wait page, results, payment) with 300 participants at once
// in one session: 100 groups of three.
func BenchmarkPublicGoods300(b *testing.B) {
	benchmarkSession(b, load.Options{SessionConfig: "public_goods", Participants: 300})
}

// BenchmarkPublicGoods300Ramp1s is BenchmarkPublicGoods300 with the
// participants arriving over a second instead of all at once, which tells
// the latency of the server's work from that of the queue a burst builds.
func BenchmarkPublicGoods300Ramp1s(b *testing.B) {
	benchmarkSession(b, load.Options{SessionConfig: "public_goods", Participants: 300, Ramp: time.Second})
}

// benchmarkSession creates a session per iteration and plays it with
// opts, whose BaseURL it sets. Metrics are averaged over iterations; p99 is
// the median of the iterations' p99s, and worst-p99 and max the worst.
func benchmarkSession(b *testing.B, opts load.Options) {
	// Run a server as otree.Run does, with its garbage collector target.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(otree.GCPercent))
	}
	srv := otreetest.NewServer(b, project, &otree.ServerOptions{
		Logger: slog.New(slog.NewTextHandler(&errorLog{tb: b}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	var sum struct {
		rps, mean, p50, p95 float64
		p99s                []time.Duration
		max                 time.Duration
		iterations          int
	}
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		o := opts
		o.BaseURL, o.Seed = srv.URL, uint64(sum.iterations)
		rep, err := load.Run(ctx, o)
		cancel()
		if err != nil {
			b.Fatalf("load.Run: %v", err)
		}
		if rep.ErrorCount > 0 || rep.Finished != o.Participants {
			var out strings.Builder
			rep.Print(&out)
			b.Fatalf("%d of %d participants finished, %d errors:\n%s",
				rep.Finished, o.Participants, rep.ErrorCount, out.String())
		}
		sum.iterations++
		sum.rps += rep.RequestsPerSecond
		sum.mean += ms(rep.Latency.Mean)
		sum.p50 += ms(rep.Latency.P50)
		sum.p95 += ms(rep.Latency.P95)
		sum.p99s = append(sum.p99s, rep.Latency.P99)
		sum.max = max(sum.max, rep.Latency.Max)
		if sum.iterations == 1 {
			var out strings.Builder
			rep.Print(&out)
			b.Logf("first iteration:\n%s", out.String())
		} else {
			b.Logf("iteration %d: %.0f req/s, %v", sum.iterations, rep.RequestsPerSecond, rep.Latency)
		}
	}
	k := float64(sum.iterations)
	b.ReportMetric(sum.rps/k, "req/s")
	b.ReportMetric(sum.mean/k, "mean-ms")
	b.ReportMetric(sum.p50/k, "p50-ms")
	b.ReportMetric(sum.p95/k, "p95-ms")
	slices.Sort(sum.p99s)
	b.ReportMetric(ms(sum.p99s[len(sum.p99s)/2]), "p99-ms")
	b.ReportMetric(ms(sum.p99s[len(sum.p99s)-1]), "worst-p99-ms")
	b.ReportMetric(ms(sum.max), "max-ms")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// errorLog fails the benchmark on anything the server logs at warning
// level or above: under load, a warning is a dropped message or a failed
// request that the figures alone would hide.
type errorLog struct{ tb testing.TB }

func (l *errorLog) Write(p []byte) (int, error) {
	l.tb.Errorf("server log: %s", strings.TrimSpace(string(p)))
	return len(p), nil
}
