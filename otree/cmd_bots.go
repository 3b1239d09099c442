package otree

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/gotree/gotree/internal/load"
)

// remoteBots plays participants against a running server, for load.
func remoteBots(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("bots", flag.ContinueOnError)
	base := fs.String("url", "", "the server's base URL")
	size := fs.Int("session-size", 0, "participants per session (0: one session)")
	ramp := fs.Duration("ramp", 0, "spread the starts over this long")
	key := fs.String("rest-key", os.Getenv("OTREE_REST_KEY"), "the otree-rest-key header")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *base == "" || len(pos) != 2 {
		return &usageError{"bots --url URL CONFIG N"}
	}
	n, err := strconv.Atoi(pos[1])
	if err != nil || n <= 0 {
		return &usageError{fmt.Sprintf("number of participants %q is not a positive number", pos[1])}
	}
	start := time.Now()
	rep, err := load.Run(ctx, load.Options{
		BaseURL: *base, SessionConfig: pos[0], Participants: n, SessionSize: *size,
		Ramp: *ramp, RestKey: *key,
	})
	if err != nil {
		return err
	}
	rep.Print(out)
	fmt.Fprintf(out, "done in %v\n", time.Since(start).Round(time.Millisecond))
	if rep.ErrorCount > 0 {
		return fmt.Errorf("%d participant error(s)", rep.ErrorCount)
	}
	return nil
}
