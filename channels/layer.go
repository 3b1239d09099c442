package channels

import (
	"context"
	"errors"
	"strings"
)

// A Layer carries messages between named channels and groups of channels.
// Channels and groups need no creating: naming one is enough. The package
// documentation lists the rules every implementation follows.
// Implementations are safe for concurrent use.
type Layer interface {
	// Send appends msg to the named channel. It returns ErrFull if the
	// channel holds its capacity of unreceived messages. Send does not keep
	// msg: the caller may reuse it.
	Send(ctx context.Context, channel string, msg []byte) error

	// Receive removes and returns the oldest unexpired message of the
	// channel, waiting until one arrives or ctx is done. The caller owns
	// the returned slice. If ctx ends first, Receive returns ctx.Err() and
	// takes no message.
	Receive(ctx context.Context, channel string) ([]byte, error)

	// NewChannel returns a fresh channel name, unique across every process
	// sharing the layer, that starts with prefix.
	NewChannel(ctx context.Context, prefix string) (string, error)

	// GroupAdd adds channel to group, or renews its membership.
	GroupAdd(ctx context.Context, group, channel string) error

	// GroupDiscard removes channel from group. Removing a channel that is not
	// a member is not an error.
	GroupDiscard(ctx context.Context, group, channel string) error

	// GroupSend sends msg to every current member of group. Members whose
	// channel is full are skipped and reported in a *FullError; the others
	// still get the message. Sending to a group without members does
	// nothing.
	GroupSend(ctx context.Context, group string, msg []byte) error

	// Close releases the layer's resources. Blocked calls return ErrClosed,
	// and so do calls after Close, another Close included.
	Close() error
}

var (
	// ErrFull is returned by Send when the channel is at capacity.
	ErrFull = errors.New("channels: channel is full")

	// ErrClosed is returned by calls on a closed layer.
	ErrClosed = errors.New("channels: layer is closed")
)

// A FullError reports the members of a group that GroupSend skipped because
// their channels were full. It matches ErrFull under errors.Is.
type FullError struct {
	Group    string   // the group sent to
	Channels []string // the members skipped, sorted
}

func (e *FullError) Error() string {
	return "channels: group " + e.Group + ": full channels: " + strings.Join(e.Channels, ", ")
}

// Is reports whether target is ErrFull, so that errors.Is(err, ErrFull)
// holds for a FullError as for a single full channel.
func (e *FullError) Is(target error) bool { return target == ErrFull }
