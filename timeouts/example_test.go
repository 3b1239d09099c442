package timeouts_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gotree/gotree/timeouts"
)

func ExampleLocal() {
	s := timeouts.NewLocal(nil)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()

	// A participant opens page 3, which times out after 200 ms.
	err := s.Schedule(ctx, timeouts.Task{
		Key:     "participant-7/page-3",
		At:      time.Now().Add(200 * time.Millisecond),
		Payload: []byte(`{"participant":7,"page":3}`),
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// The worker submits the page when it times out.
	s.Run(ctx, func(ctx context.Context, t timeouts.Task) error {
		fmt.Printf("%s timed out: %s\n", t.Key, t.Payload)
		stop()
		return nil
	})
	// Output: participant-7/page-3 timed out: {"participant":7,"page":3}
}
