package deliver

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/hashicorp/go-retryablehttp"
)

// redacted replaces the token wherever a log line would contain it.
const redacted = "[REDACTED]"

// Logger adapts a *slog.Logger to go-retryablehttp's LeveledLogger and
// removes a secret from every message and value it logs.
type Logger struct {
	log    *slog.Logger
	secret string
}

var _ retryablehttp.LeveledLogger = (*Logger)(nil)

// NewLogger returns a Logger writing to log that replaces secret, when not
// empty, with "[REDACTED]" in messages and values.
func NewLogger(log *slog.Logger, secret string) *Logger {
	return &Logger{log: log, secret: secret}
}

// Error logs go-retryablehttp's "request failed" lines. They describe one
// failed attempt, which may still be retried, so they are logged as
// warnings. Post returns the final error.
func (l *Logger) Error(msg string, keysAndValues ...any) {
	l.emit(slog.LevelWarn, msg, keysAndValues)
}

// Warn logs at warning level.
func (l *Logger) Warn(msg string, keysAndValues ...any) {
	l.emit(slog.LevelWarn, msg, keysAndValues)
}

// Info logs at info level.
func (l *Logger) Info(msg string, keysAndValues ...any) {
	l.emit(slog.LevelInfo, msg, keysAndValues)
}

// Debug logs go-retryablehttp's "retrying request" lines at info level,
// because a retry is worth seeing in a job's output, and its "performing
// request" lines, one per attempt, at debug level.
func (l *Logger) Debug(msg string, keysAndValues ...any) {
	if msg == retryMessage {
		l.emit(slog.LevelInfo, msg, renameRetryKeys(keysAndValues))
		return
	}
	l.emit(slog.LevelDebug, msg, keysAndValues)
}

// retryMessage is the message go-retryablehttp (v0.7.8) logs before each
// retry, with the keys request, timeout (the wait before the retry) and
// remaining (the attempts still allowed, the retry included).
const retryMessage = "retrying request"

// renameRetryKeys returns the key-value pairs of a retry line with the
// keys that say what the values are: wait and attempts_left.
func renameRetryKeys(keysAndValues []any) []any {
	renamed := make([]any, len(keysAndValues))
	copy(renamed, keysAndValues)
	for i := 0; i+1 < len(renamed); i += 2 {
		switch renamed[i] {
		case "timeout":
			renamed[i] = "wait"
		case "remaining":
			renamed[i] = "attempts_left"
		}
	}
	return renamed
}

func (l *Logger) emit(level slog.Level, msg string, keysAndValues []any) {
	args := make([]any, len(keysAndValues))
	for i, v := range keysAndValues {
		args[i] = l.redact(v)
	}
	l.log.Log(context.Background(), level, l.redactString(msg), args...)
}

// redact returns v, or v formatted as text without the secret when its
// text contains the secret.
func (l *Logger) redact(v any) any {
	if l.secret == "" {
		return v
	}
	var text string
	switch x := v.(type) {
	case string:
		text = x
	case error:
		text = x.Error()
	case fmt.Stringer:
		text = x.String()
	default:
		text = fmt.Sprint(x)
	}
	if !strings.Contains(text, l.secret) {
		return v
	}
	return l.redactString(text)
}

func (l *Logger) redactString(s string) string {
	if l.secret == "" {
		return s
	}
	return strings.ReplaceAll(s, l.secret, redacted)
}
