// Package redis is a channel layer on Redis, for gotree deployments of more
// than one process: web servers and channels workers that share one Redis
// share its channels and groups. Start with [New]; the [Layer] it returns
// implements [channels.Layer] and follows every rule written there, with
// one restriction on the channels that [Layer.NewChannel] makes.
//
// # Two kinds of channels
//
// A plain channel, named by its user, such as gotree's "otree.events", is a
// list in Redis. Any process can send to it and receive from it, and
// several processes often do: the channels workers share the events.
//
// A channel made by NewChannel, such as a WebSocket's reply channel,
// belongs to the layer that made it. Its name is the prefix passed to
// NewChannel, the layer's process id, "!" and a local part, each 26
// characters of base32; names of that shape are reserved. Any process can
// send to it, and the message goes to the layer's inbox, a list in Redis
// that the layer alone empties. Only that layer receives from the channel,
// or another layer of the same process on the same Redis and prefix, which
// hands the Receive to it. A Receive anywhere else fails with an error
// matching [ErrNotLocal], and so does one through another layer after the
// layer that made the channel has closed: its messages are gone with it. Receivers of one such
// channel within the process share its messages as on any channel.
//
// # Connections
//
// A layer sends the commands that do not block over a few shared
// connections, on which rueidis pipelines them. Besides those:
//
//   - A Receive that finds a plain channel empty waits in BLPOP, which holds
//     a connection of its own while it waits. At most [Options.ReceiveConns]
//     Receives wait at once; further ones queue for a connection. Plain
//     channels are meant to be few, each with a few receivers.
//   - The layer's inbox holds one connection, in BLPOP on the inbox list,
//     from the first NewChannel until Close. Its loop hands each message it
//     takes to a Receive waiting on its channel, or keeps it in memory until
//     one asks. Receives on channels made by NewChannel, however many wait,
//     hold no connection.
//
// So a web server with a reply channel per WebSocket needs a handful of
// connections to Redis whatever its number of participants, and a channels
// worker, which makes no channels, one per worker goroutine waiting for an
// event.
//
// # Storage
//
// Every key starts with [Options.Prefix], "gotree:" by default:
//
//   - prefix + "channel:" + name is a list of a plain channel's messages,
//     oldest first, each stored after its send time: 15 decimal digits of
//     Unix milliseconds. The key expires with its newest message.
//   - prefix + "inbox:" + process id is a list of the messages to the
//     channels a layer made, in the order sent, each stored after its send
//     time, a message id and the local part of its channel's name. The key
//     expires with its newest message and is deleted by Close.
//   - prefix + "unreceived:" + process id + "!" + local part is a sorted set
//     of the ids of a channel's messages that were sent and not yet
//     received, scored by send time: the count that enforces the channel's
//     capacity, whether its messages wait in the inbox list or in the
//     layer's memory. The key expires with its newest message.
//   - prefix + "group:" + name is a sorted set of the group's member
//     channels, scored by the time they joined, in Unix milliseconds. The
//     key expires with its newest membership.
//   - prefix + "wake:" + random is a short-lived list that wakes a blocked
//     Receive on a plain channel when its context ends.
//
// Sends run as Lua scripts, so that dropping expired messages, checking the
// capacity and appending is one atomic step even with many senders; a
// group send does so for every member, plain or made by NewChannel, in one
// script. Expiry compares a send time written by one process with the
// clock of another, so the clocks of processes sharing a Redis must agree,
// as NTP keeps them: a skew shortens or lengthens the expiry by as much.
//
// # Capacity and expiry of channels made by NewChannel
//
// A message leaves its channel's set of unreceived messages when a Receive
// returns it, not when the inbox takes it from Redis, so the capacity holds
// for messages the layer keeps in memory too. Receive does not wait for
// Redis to count it: the layer's next send carries the count in its
// script, ahead of its own capacity check, so that any send that follows a
// Receive through the layer, or through a process the layer told, finds
// the room; other senders find it within a few milliseconds.
//
// An entry of the set expires with its message. So a process that dies, or
// a count lost with a connection, takes room from a channel only until its
// messages would have expired, and a channel of a dead process holds no
// more than its capacity of unexpired messages: each send also drops the
// expired head of the dead process's inbox. Until the expiry a send to such
// a channel succeeds, and its message is lost, as any message to a
// receiver that has gone.
//
// The layer drops expired messages as it hands them over, and every
// quarter of the expiry forgets those of channels nobody received from in
// time. A channel costs the layer memory only while it holds unexpired
// messages or has a Receive waiting: once nobody receives from it, at most
// its capacity of messages, each for at most the expiry and a quarter.
//
// # Receiving from plain channels
//
// A BLPOP is never abandoned while Redis may still answer it, since its
// answer may carry a message that is then lost: when a Receive's context
// ends, the layer pushes a token onto the Receive's own wake key, which the
// BLPOP also watches, and the Receive returns at once. Should the BLPOP
// still have popped a message, the message goes back to the head of its
// channel. Another receiver may take the next message meanwhile, so order
// holds for messages that are not pushed back. A Receive on a channel made
// by NewChannel needs none of this: a message handed to it as its context
// ends goes back to the head of the channel in memory.
//
// # Failures
//
// A Redis that stops answering is not fatal. rueidis reconnects on the next
// command; a Send meanwhile returns the error, a waiting Receive on a plain
// channel keeps retrying with back-off until its context ends, and so does
// the inbox until Close, while Receives on channels made by NewChannel
// wait. The layer logs the loss, at most once per 10 s while it lasts, and
// the recovery. A message can be lost when the connection breaks after
// Redis popped it and before the answer arrived, and Redis loses
// everything it holds when it restarts without persistence; gotree treats
// messages as hints, and clients ask for the state again when they
// reconnect.
//
// The layer needs one Redis, not a cluster: a group send touches the keys
// of all members in one script.
package redis
