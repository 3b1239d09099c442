package load_test

import (
	"context"
	"log"
	"os"
	"time"

	"github.com/gotree/gotree/internal/load"
)

// Run drives a server that is already running: here 300 participants of
// public_goods arriving over two seconds.
func ExampleRun() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rep, err := load.Run(ctx, load.Options{
		BaseURL:       "http://127.0.0.1:8000",
		SessionConfig: "public_goods",
		Participants:  300,
		Ramp:          2 * time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	rep.Print(os.Stdout)
}
