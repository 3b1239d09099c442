// Package redis is a channel layer on Redis, for gotree deployments of more
// than one process: web servers and channels workers that share one Redis
// share its channels and groups. Start with [New]; the [Layer] it returns
// implements [channels.Layer] and follows every rule written there.
//
// # Storage
//
// Every key starts with [Options.Prefix], "gotree:" by default:
//
//   - prefix + "channel:" + name is a list of the channel's messages, oldest
//     first, each stored after its send time: 15 decimal digits of Unix
//     milliseconds. The key expires with its newest message.
//   - prefix + "group:" + name is a sorted set of the group's member
//     channels, scored by the time they joined, in Unix milliseconds. The
//     key expires with its newest membership.
//   - prefix + "wake:" + random is a short-lived list that wakes a blocked
//     Receive when its context ends.
//
// Sends run as Lua scripts, so that dropping expired messages, checking the
// capacity and appending is one atomic step even with many senders.
// Expiry compares a send time written by one process with the clock of
// another, so the clocks of processes sharing a Redis must agree, as NTP
// keeps them: a skew shortens or lengthens the expiry by as much.
//
// # Receiving
//
// A Receive that finds its channel empty waits in BLPOP, which rueidis runs
// on a connection of its own, apart from the connection that pipelines every
// other command. It therefore holds a connection while it waits, and at most
// [Options.ReceiveConns] Receives wait at once; further ones queue for a
// connection.
//
// A BLPOP is never abandoned while Redis may still answer it, since its
// answer may carry a message that is then lost: when a Receive's context
// ends, the layer pushes a token onto the Receive's own wake key, which the
// BLPOP also watches, and the Receive returns at once. Should the BLPOP
// still have popped a message, the message goes back to the head of its
// channel. Another receiver may take the next message meanwhile, so order
// holds for messages that are not pushed back.
//
// # Failures
//
// A Redis that stops answering is not fatal. rueidis reconnects on the next
// command; a Send meanwhile returns the error, and a waiting Receive keeps
// retrying with back-off until its context ends. The layer logs the loss,
// at most once per 10 s while it lasts, and the recovery. A message can be
// lost when the connection breaks after Redis popped it and before the
// answer arrived, and Redis loses everything it holds when it restarts
// without persistence; gotree treats messages as hints, and clients ask for
// the state again when they reconnect.
//
// The layer needs one Redis, not a cluster: a group send touches the lists
// of all members in one script.
package redis
