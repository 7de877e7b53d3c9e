package deliver_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mosaic-go/mosaic/collect"
	"github.com/mosaic-go/mosaic/deliver"
	"github.com/mosaic-go/mosaic/result"
	"github.com/mosaic-go/mosaic/store"
)

const token = "dGVzdC10b2tlbi1vZi1kZWxpdmVyLXRlc3Rz"

// resultDoc returns the JSON document of a done run with epochs entries.
func resultDoc(t *testing.T, runID string, epochs int) []byte {
	t.Helper()
	curves := result.Curves{}
	for e := range epochs {
		curves.TrainLoss = append(curves.TrainLoss, 1/float64(e+1))
		curves.TestLoss = append(curves.TestLoss, 1.2/float64(e+1))
	}
	r := &result.Result{
		SchemaVersion: result.SchemaVersion, RunID: runID, PipelineID: "p1", Label: "mlp",
		Status: result.StatusDone, Epochs: epochs, Curves: curves, Host: "node1", Device: "cpu",
	}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// realReceiver returns the handler of a real collect.Server over a new
// SQLite file, and that file's path.
func realReceiver(t *testing.T, opts collect.ServerOptions) (*collect.Server, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "study.db")
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	opts.Token = token
	srv, err := collect.NewServer(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Close()
		db.Close()
	})
	return srv, path
}

// storedRuns returns the number of runs in the database at path.
func storedRuns(t *testing.T, path string) int {
	t.Helper()
	db, err := store.OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.DB().QueryRow("SELECT count(*) FROM runs").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// failFirst responds to the first n requests with status and header, and
// passes the others to next. It counts every request.
type failFirst struct {
	n        int64
	status   int
	header   map[string]string
	next     http.Handler
	requests atomic.Int64
}

func (f *failFirst) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.requests.Add(1) <= f.n {
		for k, v := range f.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(f.status)
		fmt.Fprintf(w, `{"error":"induced %d"}`, f.status)
		return
	}
	f.next.ServeHTTP(w, r)
}

// fastOptions returns client options with millisecond waits. When waits
// is not nil, it records the wait Backoff computed for each retry, and
// the client waits 1 ms instead.
func fastOptions(url string, attempts int, waits *[]time.Duration) deliver.Options {
	opts := deliver.Options{
		URL: url, Token: token, MaxAttempts: attempts, MaxTime: time.Minute,
		WaitMin: time.Millisecond, WaitMax: 20 * time.Millisecond,
	}
	if waits != nil {
		var mu sync.Mutex
		opts.Backoff = func(waitMin, waitMax time.Duration, attempt int, resp *http.Response) time.Duration {
			mu.Lock()
			defer mu.Unlock()
			*waits = append(*waits, deliver.Backoff(waitMin, waitMax, attempt, resp))
			return time.Millisecond
		}
	}
	return opts
}

func newClient(t *testing.T, opts deliver.Options) *deliver.Client {
	t.Helper()
	c, err := deliver.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPostReceiverStartsLate(t *testing.T) {
	// Reserve a port, then free it, so the first attempts are refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	retried := make(chan struct{}, 100)
	opts := fastOptions("http://"+addr, 100, nil)
	opts.Backoff = func(waitMin, waitMax time.Duration, attempt int, resp *http.Response) time.Duration {
		retried <- struct{}{}
		return 10 * time.Millisecond
	}
	client := newClient(t, opts)

	type outcome struct {
		receipt *deliver.Receipt
		err     error
	}
	done := make(chan outcome, 1)
	go func() {
		r, err := client.Post(context.Background(), resultDoc(t, "late", 3))
		done <- outcome{r, err}
	}()
	for range 2 {
		select {
		case <-retried:
		case <-time.After(time.Minute):
			t.Fatal("the client did not retry within a minute")
		}
	}

	srv, dbPath := realReceiver(t, collect.ServerOptions{})
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen again on the reserved port: %v", err)
	}
	httpSrv := &http.Server{Handler: srv}
	go httpSrv.Serve(ln)
	defer httpSrv.Close()

	got := <-done
	if got.err != nil {
		t.Fatal(got.err)
	}
	if got.receipt.StatusCode != http.StatusCreated || got.receipt.Outcome != "inserted" || got.receipt.RunID != "late" {
		t.Errorf("receipt %+v, want 201 inserted of run late", got.receipt)
	}
	if got.receipt.Attempts < 3 {
		t.Errorf("%d attempts, want at least 3 (2 refused, then stored)", got.receipt.Attempts)
	}
	httpSrv.Close()
	srv.Close()
	if n := storedRuns(t, dbPath); n != 1 {
		t.Errorf("%d runs stored, want 1", n)
	}
}

func TestPostRetriesServerErrors(t *testing.T) {
	cases := []struct {
		name   string
		status int
		header map[string]string
		// wait is what Backoff must compute for the failed attempts; 0
		// means an exponential wait of at most WaitMax.
		wait time.Duration
	}{
		{"503 without Retry-After", http.StatusServiceUnavailable, nil, 0},
		{"503 with Retry-After", http.StatusServiceUnavailable, map[string]string{"Retry-After": "4"}, 4 * time.Second},
		{"429 with Retry-After", http.StatusTooManyRequests, map[string]string{"Retry-After": "7"}, 7 * time.Second},
		{"502", http.StatusBadGateway, nil, 0},
		{"500", http.StatusInternalServerError, map[string]string{"Retry-After": "9"}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, dbPath := realReceiver(t, collect.ServerOptions{})
			fail := &failFirst{n: 2, status: tc.status, header: tc.header, next: srv}
			ts := httptest.NewServer(fail)
			defer ts.Close()

			var waits []time.Duration
			receipt, err := newClient(t, fastOptions(ts.URL, 5, &waits)).Post(context.Background(), resultDoc(t, "r1", 3))
			if err != nil {
				t.Fatal(err)
			}
			if receipt.StatusCode != http.StatusCreated || receipt.Attempts != 3 {
				t.Errorf("receipt %+v, want 201 after 3 attempts", receipt)
			}
			if n := fail.requests.Load(); n != 3 {
				t.Errorf("the receiver got %d requests, want 3", n)
			}
			if len(waits) != 2 {
				t.Fatalf("%d waits, want 2", len(waits))
			}
			for i, w := range waits {
				if tc.wait != 0 && w != tc.wait {
					t.Errorf("wait %d: %v, want %v from Retry-After", i, w, tc.wait)
				}
				if tc.wait == 0 && (w <= 0 || w > 20*time.Millisecond) {
					t.Errorf("wait %d: %v, want an exponential wait in (0, 20ms]", i, w)
				}
			}
			ts.Close()
			srv.Close()
			if n := storedRuns(t, dbPath); n != 1 {
				t.Errorf("%d runs stored, want 1", n)
			}
		})
	}
}

func TestPostDoesNotRetryClientErrors(t *testing.T) {
	valid := resultDoc(t, "r1", 3)
	// Another outcome for the same run: a different host alone would be the
	// same training done elsewhere, a duplicate.
	conflicting := []byte(strings.Replace(string(valid), `"train_loss":[1,`, `"train_loss":[2,`, 1))
	cases := []struct {
		name    string
		token   string
		doc     []byte
		maxBody int64
		want    error
		message string
	}{
		{"wrong token", "d3JvbmctdG9rZW4tb2YtZGVsaXZlcg==", valid, 0, deliver.ErrRejected, "401"},
		{"malformed", token, valid[:20], 0, deliver.ErrRejected, "invalid JSON"},
		{"too large", token, resultDoc(t, "big", 500), 2048, deliver.ErrRejected, "413"},
		{"conflict", token, conflicting, 0, deliver.ErrConflict, "different result"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := realReceiver(t, collect.ServerOptions{MaxBody: tc.maxBody})
			// The conflict case needs r1 stored first.
			direct := httptest.NewServer(srv)
			defer direct.Close()
			if _, err := newClient(t, fastOptions(direct.URL, 1, nil)).Post(context.Background(), valid); err != nil {
				t.Fatal(err)
			}
			counter := &failFirst{next: srv}
			ts := httptest.NewServer(counter)
			defer ts.Close()

			opts := fastOptions(ts.URL, 5, nil)
			opts.Token = tc.token
			_, err := newClient(t, opts).Post(context.Background(), tc.doc)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want one wrapping %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.message) {
				t.Errorf("error %q, want it to contain %q", err, tc.message)
			}
			if n := counter.requests.Load(); n != 1 {
				t.Errorf("the receiver got %d requests, want 1: this status must not be retried", n)
			}
		})
	}
}

func TestPostGivesUpAfterMaxAttempts(t *testing.T) {
	always := &failFirst{n: 1 << 30, status: http.StatusServiceUnavailable}
	ts := httptest.NewServer(always)
	defer ts.Close()

	_, err := newClient(t, fastOptions(ts.URL, 4, nil)).Post(context.Background(), resultDoc(t, "r1", 3))
	if !errors.Is(err, deliver.ErrGaveUp) {
		t.Fatalf("error %v, want one wrapping ErrGaveUp", err)
	}
	if !strings.Contains(err.Error(), "4 attempts") || !strings.Contains(err.Error(), "503") {
		t.Errorf("error %q, want it to name 4 attempts and the last status 503", err)
	}
	if n := always.requests.Load(); n != 4 {
		t.Errorf("the receiver got %d requests, want 4", n)
	}
}

func TestPostGivesUpAfterMaxTime(t *testing.T) {
	// The receiver requests an hour's pause; MaxTime ends the wait.
	always := &failFirst{n: 1 << 30, status: http.StatusTooManyRequests, header: map[string]string{"Retry-After": "3600"}}
	ts := httptest.NewServer(always)
	defer ts.Close()

	opts := fastOptions(ts.URL, 10, nil)
	opts.MaxTime = 100 * time.Millisecond
	_, err := newClient(t, opts).Post(context.Background(), resultDoc(t, "r1", 3))
	if !errors.Is(err, deliver.ErrGaveUp) {
		t.Fatalf("error %v, want one wrapping ErrGaveUp", err)
	}
	if !strings.Contains(err.Error(), "429") {
		t.Errorf("error %q, want it to name the last status 429", err)
	}
	if n := always.requests.Load(); n != 1 {
		t.Errorf("the receiver got %d requests, want 1 before the time ran out", n)
	}
}

func TestPostNeverLogsToken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	var logs strings.Builder
	opts := fastOptions("http://"+addr, 3, nil)
	opts.Logger = slogJSON(&logs)
	_, err = newClient(t, opts).Post(context.Background(), resultDoc(t, "r1", 3))
	if !errors.Is(err, deliver.ErrGaveUp) {
		t.Fatalf("error %v, want one wrapping ErrGaveUp", err)
	}
	if !strings.Contains(logs.String(), "retrying request") || !strings.Contains(logs.String(), "request failed") {
		t.Errorf("log lacks the attempts and retries:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), token) || strings.Contains(err.Error(), token) {
		t.Error("the token appears in the log or the error")
	}
}

func slogJSON(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func TestPostLogsRetriesAtInfo(t *testing.T) {
	srv, _ := realReceiver(t, collect.ServerOptions{})
	flaky := &failFirst{n: 1, status: http.StatusServiceUnavailable, next: srv}
	ts := httptest.NewServer(flaky)
	defer ts.Close()

	var logs strings.Builder
	opts := fastOptions(ts.URL, 3, nil)
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil)) // info level, as mosaic-job logs
	receipt, err := newClient(t, opts).Post(context.Background(), resultDoc(t, "r1", 3))
	if err != nil {
		t.Fatal(err)
	}
	if receipt.Attempts != 2 {
		t.Errorf("receipt after %d attempts, want 2", receipt.Attempts)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("log has %d lines, want 1, the retry:\n%s", len(lines), logs.String())
	}
	for _, want := range []string{"level=INFO", `msg="retrying request"`, "503", "wait=", "attempts_left=2"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("retry line lacks %q: %s", want, lines[0])
		}
	}
	if strings.Contains(logs.String(), "performing request") {
		t.Errorf("info-level log shows every request:\n%s", logs.String())
	}
}

func TestPostGivesUpAfterOneAttempt(t *testing.T) {
	always := &failFirst{n: 1 << 30, status: http.StatusServiceUnavailable}
	ts := httptest.NewServer(always)
	defer ts.Close()

	_, err := newClient(t, fastOptions(ts.URL, 1, nil)).Post(context.Background(), resultDoc(t, "r1", 3))
	if !errors.Is(err, deliver.ErrGaveUp) {
		t.Fatalf("error %v, want one wrapping ErrGaveUp", err)
	}
	if !strings.Contains(err.Error(), "after 1 attempt:") {
		t.Errorf("error %q, want it to say after 1 attempt", err)
	}
}
