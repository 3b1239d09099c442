package asynq_test

import (
	"context"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/gotree/gotree/timeouts"
	"github.com/gotree/gotree/timeouts/asynq"
)

// A web process schedules a page's deadline; a worker process, possibly on
// another machine, runs it.
func Example() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	s, err := asynq.New(ctx, "redis://127.0.0.1:6379/0", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	// In the web process, when a participant opens a timed page:
	err = s.Schedule(ctx, timeouts.Task{
		Key: "participant-7/page-3",
		At:  time.Now().Add(60 * time.Second),
	})
	if err != nil {
		log.Fatal(err)
	}

	// In the worker process, until it is interrupted:
	err = s.Run(ctx, func(ctx context.Context, t timeouts.Task) error {
		log.Printf("%s timed out", t.Key)
		return nil // or an error, to try again later
	})
	if err != nil {
		log.Fatal(err)
	}
}
