package redis_test

import (
	"context"
	"log"
	"os"

	"github.com/gotree/gotree/channels/redis"
)

func Example() {
	ctx := context.Background()
	layer, err := redis.New(ctx, os.Getenv("REDIS_URL"), &redis.Options{Prefix: "myexperiment:"})
	if err != nil {
		log.Fatal(err) // names the address that did not answer
	}
	defer layer.Close()

	// Any process sharing the Redis and prefix receives this.
	if err := layer.Send(ctx, "worker", []byte(`{"type": "connect"}`)); err != nil {
		log.Print(err)
	}
}
