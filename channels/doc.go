// Package channels is gotree's channel layer: the message bus that joins the
// web server, which holds participants' WebSockets, to the channels worker,
// which runs the logic behind them.
//
// A [Layer] carries opaque byte messages between named channels. gotree uses
// it for wait-page releases, auto-advance pushes and the events of every
// WebSocket; experimenters rarely use it directly.
//
// # Semantics
//
// Every implementation holds the same rules, checked by the conformance suite
// in package [github.com/gotree/gotree/channels/channelstest]:
//
//   - A channel is a queue. [Layer.Send] appends a message; each message
//     is delivered to exactly one [Layer.Receive] call, in the order sent.
//     Several receivers may wait on one channel; they share its messages.
//   - [Layer.NewChannel] returns a name that no other call, in this process
//     or any other sharing the layer, returns. A WebSocket connection uses one
//     as its reply channel. Any process may send to it, but only the process
//     that made it may receive from it: layers that span processes deliver
//     such channels to a per-process inbox, which costs no connection per
//     channel.
//   - A group is a set of channels. [Layer.GroupSend] sends a copy of the
//     message to every member. Membership expires after the layer's group
//     expiry (24 h by default) unless renewed by another [Layer.GroupAdd].
//   - A message not received within the layer's expiry (60 s by default) is
//     dropped: pushes are hints, and a client that reconnects asks for the
//     state anew.
//   - A channel holds at most the layer's capacity of messages (100 by
//     default). Send to a full channel returns [ErrFull]; nothing is dropped
//     silently. GroupSend skips full members and reports them in a [FullError].
//   - Every blocking call honours its context. A Receive that returns its
//     context's error has taken no message: one that reached it as the
//     context ended stays at the head of the channel.
//   - After [Layer.Close], calls, Close included, return [ErrClosed].
//
// # Implementations
//
// [Memory], made by [NewMemory], is the in-process layer, the default. Package
// [github.com/gotree/gotree/channels/redis] holds a layer on Redis that any
// number of processes can share.
//
// Neither stores messages durably nor acknowledges them: a message is gone
// once received, whether or not its receiver acts on it, and a Redis layer
// can lose messages when its connection breaks. Groups only fan out; there
// is no way to list a group's members.
package channels
