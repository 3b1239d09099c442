package timeouts_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/gotree/gotree/timeouts"
	"github.com/gotree/gotree/timeouts/timeoutstest"
)

func TestLocalConformance(t *testing.T) {
	newLocal := func(t *testing.T) timeouts.Scheduler {
		return timeouts.NewLocal(&timeouts.LocalOptions{
			MinBackoff: 10 * time.Millisecond,
			MaxBackoff: 50 * time.Millisecond,
			Logger:     slog.New(slog.DiscardHandler),
		})
	}
	timeoutstest.Run(t, newLocal, &timeoutstest.Options{
		MaxLateness:   100 * time.Millisecond,
		BatchLateness: 250 * time.Millisecond,
		RetryWithin:   500 * time.Millisecond,
	})
}

// BenchmarkLocalSameSecond reports how late Local runs 1,000 tasks due within
// one second with a trivial handler. Each iteration takes about two seconds,
// most of it waiting for the second to come.
func BenchmarkLocalSameSecond(b *testing.B) {
	var worst, p99, p50 time.Duration
	for b.Loop() {
		l := timeouts.NewLocal(nil)
		lateness := timeoutstest.MeasureSameSecond(b, l, 1000)
		worst = max(worst, lateness[len(lateness)-1])
		p99 = max(p99, lateness[len(lateness)*99/100])
		p50 = max(p50, lateness[len(lateness)/2])
	}
	// The largest of each iteration's figures.
	b.ReportMetric(ms(worst), "worst-late-ms")
	b.ReportMetric(ms(p99), "p99-late-ms")
	b.ReportMetric(ms(p50), "p50-late-ms")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
