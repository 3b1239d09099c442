package ratelog

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestLog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf bytes.Buffer
		l := New(slog.New(slog.NewTextHandler(&buf, nil)), time.Second)
		ctx := context.Background()

		// A burst writes one record and drops the rest.
		for range 5 {
			l.Log(ctx, slog.LevelError, "boom")
		}
		if got := strings.Count(buf.String(), "boom"); got != 1 {
			t.Fatalf("after a burst of 5: %d records written, want 1:\n%s", got, &buf)
		}

		// After the interval, the next record reports what was dropped.
		time.Sleep(time.Second)
		buf.Reset()
		l.Log(ctx, slog.LevelError, "boom")
		if got := buf.String(); !strings.Contains(got, "dropped=4") {
			t.Fatalf("record after the interval = %q, want it to contain dropped=4", got)
		}

		// Disabled levels are neither written nor counted.
		time.Sleep(time.Second)
		buf.Reset()
		l.Log(ctx, slog.LevelDebug, "quiet")
		l.Log(ctx, slog.LevelError, "boom")
		if got := buf.String(); strings.Contains(got, "quiet") || strings.Contains(got, "dropped") {
			t.Fatalf("record after a disabled one = %q, want neither quiet nor dropped", got)
		}
	})
}
