package asynq

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/gotree/gotree/timeouts/internal/ratelog"
)

// A logger passes asynq's log lines to a [slog.Logger]. Warnings and errors,
// which asynq repeats every poll while Redis is unreachable, are rate-limited.
// It implements asynq's Logger interface.
type logger struct {
	base     *slog.Logger
	warnings *ratelog.Logger
}

func newLogger(l *slog.Logger) *logger {
	return &logger{base: l, warnings: ratelog.New(l, time.Second)}
}

func (l *logger) Debug(args ...any) { l.base.Debug("asynq", "detail", fmt.Sprint(args...)) }
func (l *logger) Info(args ...any)  { l.base.Info("asynq", "detail", fmt.Sprint(args...)) }
func (l *logger) Warn(args ...any)  { l.limited(slog.LevelWarn, args) }
func (l *logger) Error(args ...any) { l.limited(slog.LevelError, args) }

// Fatal logs at error level. asynq's server does not log fatal errors, and a
// library must not end the process.
func (l *logger) Fatal(args ...any) { l.limited(slog.LevelError, args) }

func (l *logger) limited(level slog.Level, args []any) {
	l.warnings.Log(context.Background(), level, "asynq", "detail", fmt.Sprint(args...))
}
