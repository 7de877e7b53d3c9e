package deliver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBackoffBounds(t *testing.T) {
	const waitMin, waitMax = 100 * time.Millisecond, 3 * time.Second
	for attempt := range 12 {
		full := min(waitMin<<attempt, waitMax)
		seen := map[time.Duration]bool{}
		for range 50 {
			wait := Backoff(waitMin, waitMax, attempt, nil)
			if wait < full/2 || wait > full {
				t.Fatalf("attempt %d: wait %v outside [%v, %v]", attempt, wait, full/2, full)
			}
			seen[wait] = true
		}
		if len(seen) < 2 {
			t.Errorf("attempt %d: 50 waits took %d value, want jitter", attempt, len(seen))
		}
	}
	if wait := Backoff(time.Second, time.Minute, 1000, nil); wait < 30*time.Second || wait > time.Minute {
		t.Errorf("attempt 1000: wait %v, want the capped [30s, 1m]", wait)
	}
}

func TestBackoffRetryAfter(t *testing.T) {
	cases := []struct {
		status int
		header string
		want   time.Duration
	}{
		{http.StatusTooManyRequests, "12", 12 * time.Second},
		{http.StatusServiceUnavailable, "0", 0},
		{http.StatusServiceUnavailable, "600", 10 * time.Minute},
		{http.StatusServiceUnavailable, time.Now().Add(time.Hour).UTC().Format(http.TimeFormat), -1},
	}
	for _, tc := range cases {
		resp := &http.Response{StatusCode: tc.status, Header: http.Header{"Retry-After": {tc.header}}}
		got := Backoff(time.Millisecond, 10*time.Millisecond, 0, resp)
		if tc.want >= 0 && got != tc.want {
			t.Errorf("%d Retry-After %q: wait %v, want %v", tc.status, tc.header, got, tc.want)
		}
		if tc.want < 0 && (got < 59*time.Minute || got > time.Hour) {
			t.Errorf("%d Retry-After %q: wait %v, want about an hour", tc.status, tc.header, got)
		}
	}
	// Other statuses and unreadable values fall back to the exponential wait.
	for _, resp := range []*http.Response{
		{StatusCode: http.StatusInternalServerError, Header: http.Header{"Retry-After": {"30"}}},
		{StatusCode: http.StatusServiceUnavailable, Header: http.Header{"Retry-After": {"soon"}}},
		{StatusCode: http.StatusServiceUnavailable, Header: http.Header{"Retry-After": {"-5"}}},
	} {
		if got := Backoff(time.Millisecond, 10*time.Millisecond, 0, resp); got > time.Millisecond {
			t.Errorf("%d Retry-After %q: wait %v, want the exponential 1ms at most", resp.StatusCode, resp.Header.Get("Retry-After"), got)
		}
	}
}

func TestCheckRetry(t *testing.T) {
	ctx := context.Background()
	for status, want := range map[int]bool{
		200: false, 201: false, 400: false, 401: false, 403: false, 404: false, 409: false, 413: false,
		408: true, 429: true, 500: true, 501: false, 502: true, 503: true, 504: true,
	} {
		got, err := CheckRetry(ctx, &http.Response{StatusCode: status}, nil)
		if got != want || err != nil {
			t.Errorf("status %d: retry %v (error %v), want %v", status, got, err, want)
		}
	}

	refused := &url.Error{Op: "Post", URL: "http://127.0.0.1:1", Err: errors.New("connect: connection refused")}
	if retry, _ := CheckRetry(ctx, nil, refused); !retry {
		t.Error("a refused connection is not retried")
	}
	scheme := &url.Error{Op: "Post", URL: "ftp://x", Err: errors.New("unsupported protocol scheme \"ftp\"")}
	if retry, _ := CheckRetry(ctx, nil, scheme); retry {
		t.Error("an unsupported scheme is retried")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if retry, err := CheckRetry(cancelled, &http.Response{StatusCode: 503}, nil); retry || !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled context: retry %v, error %v; want no retry and context.Canceled", retry, err)
	}
}

func TestCheckToken(t *testing.T) {
	for token, want := range map[string]string{
		"":                          "empty",
		"short":                     "at least 16",
		"abcdefghijklmnopqrstuvwx":  "",
		"ABCDEFGHIJKLMNOPQR+/=":     "",
		"a-b.c_d~e+f/g0123456789==": "",
		"abcdefghijklmnop qrstuvw":  "position 17",
		"abcdefghijklmnopq\nrstuvw": "position 18",
		"=================":         "only '='",
		"abcdefghij=klmnopqrstu":    "position 11",
	} {
		err := CheckToken(token)
		switch {
		case want == "" && err != nil:
			t.Errorf("CheckToken(%q): %v, want nil", token, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("CheckToken(%q): %v, want an error containing %q", token, err, want)
		}
	}
}

func TestLoadToken(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte("  file-token-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{TokenEnv: "env-token-0123456789"}
	getenv := func(k string) string { return env[k] }

	if got, err := LoadToken(file, getenv); err != nil || got != "file-token-0123456789" {
		t.Errorf("from a file: %q, %v; want the file's token, trimmed", got, err)
	}
	if got, err := LoadToken("", getenv); err != nil || got != "env-token-0123456789" {
		t.Errorf("from %s: %q, %v; want its value", TokenEnv, got, err)
	}
	if _, err := LoadToken("", func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "--token-file") {
		t.Errorf("without file or variable: %v, want an error naming --token-file", err)
	}
	if _, err := LoadToken(filepath.Join(dir, "none"), getenv); err == nil {
		t.Error("a missing token file gave no error")
	}
	secret := "abc def-0123456789"
	os.WriteFile(file, []byte(secret), 0o600)
	if _, err := LoadToken(file, getenv); err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("an invalid token file gave error %v, want one without the token", err)
	}
}

func TestParseURL(t *testing.T) {
	for raw, want := range map[string]string{
		"http://submit-host:8470":          "",
		"https://proxy.example.org/mosaic": "",
		"ftp://host":                       "expected http://HOST:PORT",
		"http://":                          "host is missing",
		"submit-host:8470":                 "expected http://HOST:PORT",
		"http://user:secret@host":          "user information",
		"http://host/?a=1":                 "no query",
	} {
		_, err := ParseURL(raw)
		switch {
		case want == "" && err != nil:
			t.Errorf("ParseURL(%q): %v, want nil", raw, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("ParseURL(%q): %v, want an error containing %q", raw, err, want)
		}
	}
	if _, err := ParseURL("http://user:secret@host"); err != nil && strings.Contains(err.Error(), "secret") {
		t.Errorf("the error shows the URL's password: %v", err)
	}
}

func TestEndpointKeepsBasePath(t *testing.T) {
	c, err := New(Options{URL: "https://proxy.example.org/mosaic/", Token: "0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Endpoint(); got != "https://proxy.example.org/mosaic/v1/results" {
		t.Errorf("endpoint %q, want the base path kept", got)
	}
}

type stringer string

func (s stringer) String() string { return string(s) }

func TestLoggerRedactsSecret(t *testing.T) {
	const secret = "s3cr3t-t0ken-value"
	var out strings.Builder
	log := NewLogger(slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug})), secret)
	log.Error("request failed with "+secret, "error", fmt.Errorf("bad header Bearer %s", secret))
	log.Warn("w", "value", stringer("x"+secret))
	log.Info("i", "header", "Authorization: Bearer "+secret, "count", 3)
	log.Debug("d", "list", []string{secret})

	text := out.String()
	if strings.Contains(text, secret) {
		t.Errorf("the log contains the secret:\n%s", text)
	}
	if n := strings.Count(text, redacted); n != 5 {
		t.Errorf("%d redactions, want 5:\n%s", n, text)
	}
	if !strings.Contains(text, "count=3") || !strings.Contains(text, "level=WARN msg=\"request failed") {
		t.Errorf("the log lost a value or level:\n%s", text)
	}
}
