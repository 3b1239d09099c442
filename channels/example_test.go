package channels_test

import (
	"context"
	"fmt"

	"github.com/gotree/gotree/channels"
)

func Example() {
	ctx := context.Background()
	layer := channels.NewMemory(nil)
	defer layer.Close()

	// A connection makes itself a reply channel and joins its page's group.
	reply, _ := layer.NewChannel(ctx, "reply.")
	layer.GroupAdd(ctx, "wait-page-1", reply)

	// A worker pushes to the whole group; the connection receives.
	layer.GroupSend(ctx, "wait-page-1", []byte(`{"status": "ready"}`))
	msg, _ := layer.Receive(ctx, reply)
	fmt.Println(string(msg))
	// Output: {"status": "ready"}
}
