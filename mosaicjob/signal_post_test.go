package mosaicjob

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mosaic-go/mosaic/collect"
	"github.com/mosaic-go/mosaic/deliver"
	"github.com/mosaic-go/mosaic/store"
	"github.com/mosaic-go/mosaic/submit/submittest"
)

// signalOnPost returns a handler that sends SIGTERM to the job process read
// from jobs, as Slurm does at the time limit, when the result arrives. It
// then waits 500 ms before it calls next, so the signal lands while the job
// waits for the response.
func signalOnPost(t *testing.T, jobs <-chan *os.Process, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := (<-jobs).Signal(syscall.SIGTERM); err != nil {
			t.Errorf("send SIGTERM to mosaic-job: %v", err)
		}
		select {
		case <-time.After(500 * time.Millisecond):
		case <-r.Context().Done():
		}
		next.ServeHTTP(w, r)
	})
}

// TestSignalDuringPostStillDelivers sends SIGTERM to a job whose run is
// finished and whose result is being posted: the job completes the delivery
// and exits 0 instead of 86.
func TestSignalDuringPostStillDelivers(t *testing.T) {
	bin := submittest.BuildJob(t)
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "study.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	srv, err := collect.NewServer(db, collect.ServerOptions{Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	jobs := make(chan *os.Process, 1)
	ts := httptest.NewServer(signalOnPost(t, jobs, srv))
	defer ts.Close()

	out := t.TempDir()
	args, runID := postJob(t, out)
	args = append(args, "--post-url", ts.URL, "--post-attempts", "1")
	cmd, lines := startJob(t, bin, t.TempDir(), []string{deliver.TokenEnv + "=" + testToken}, args...)
	jobs <- cmd.Process
	var stderr strings.Builder
	for lines.Scan() {
		stderr.WriteString(lines.Text() + "\n")
	}

	if code := exitCode(cmd.Wait()); code != exitDone {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitDone, stderr.String())
	}
	if !strings.Contains(stderr.String(), "delivered to "+ts.URL+"/v1/results: inserted (HTTP 201)") {
		t.Errorf("stderr lacks the delivery line:\n%s", stderr.String())
	}
	if _, err := os.Stat(filepath.Join(out, runID+".json")); err != nil {
		t.Errorf("no result file beside the delivery: %v", err)
	}
}

// TestSignalDuringPostBoundedByMaxTime sends SIGTERM to a job posting to a
// receiver that never responds: the delivery still ends at --post-max-time,
// with exit 86.
func TestSignalDuringPostBoundedByMaxTime(t *testing.T) {
	bin := submittest.BuildJob(t)
	jobs := make(chan *os.Process, 1)
	arrived := make(chan time.Time, 1)
	never := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- time.Now()
		signalOnPost(t, jobs, never).ServeHTTP(w, r)
	}))
	defer ts.Close()

	out := t.TempDir()
	args, runID := postJob(t, out)
	args = append(args, "--post-url", ts.URL, "--post-attempts", "1", "--post-max-time", "2s")
	cmd, lines := startJob(t, bin, t.TempDir(), []string{deliver.TokenEnv + "=" + testToken}, args...)
	jobs <- cmd.Process
	var stderr strings.Builder
	for lines.Scan() {
		stderr.WriteString(lines.Text() + "\n")
	}
	code := exitCode(cmd.Wait())
	elapsed := time.Since(<-arrived)

	if code != exitUndelivered {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitUndelivered, stderr.String())
	}
	if elapsed < 1500*time.Millisecond || elapsed > 10*time.Second {
		t.Errorf("the job exited %v after its post arrived, want about the --post-max-time of 2s", elapsed.Round(time.Millisecond))
	}
	if _, err := os.Stat(filepath.Join(out, runID+".json")); err != nil {
		t.Errorf("the result file is not in place: %v", err)
	}
}
