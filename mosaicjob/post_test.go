package mosaicjob

import (
	"context"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mosaic-go/mosaic/collect"
	"github.com/mosaic-go/mosaic/deliver"
	"github.com/mosaic-go/mosaic/store"
)

const testToken = "bW9zYWljLWpvYi10ZXN0LXRva2Vu"

// postJob writes a 3-epoch iris run spec and returns the arguments that
// run it with its result written to out.
func postJob(t *testing.T, out string) ([]string, string) {
	t.Helper()
	configDir, specDir := t.TempDir(), t.TempDir()
	spec := writeSpec(t, configDir, specDir, 3)
	args := []string{"--spec", filepath.Join(specDir, spec.RunID+".json"), "--out", out, "--run-dir", t.TempDir()}
	return args, spec.RunID
}

func noEnv(string) string { return "" }

func TestPostToReceiverDownForGood(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	tokenFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokenFile, []byte(testToken+"\n"), 0o600)

	out := t.TempDir()
	args, runID := postJob(t, out)
	args = append(args, "--post-url", url, "--token-file", tokenFile, "--post-attempts", "2")
	var stderr strings.Builder
	if code := run(args, noEnv, &stderr); code != exitUndelivered {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitUndelivered, stderr.String())
	}
	res, err := collect.ReadFile(filepath.Join(out, runID+".json"))
	if err != nil {
		t.Fatalf("the result file is not in place: %v", err)
	}
	if res.Status != "done" || res.Epochs != 3 {
		t.Errorf("result file: status %s, %d epochs; want done after 3", res.Status, res.Epochs)
	}
	for _, want := range []string{"not delivered", "2 attempts", "retrying request"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	if strings.Contains(stderr.String(), testToken) {
		t.Error("stderr contains the token")
	}
}

func TestPostToReceiver(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "study.db")
	db, err := store.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := collect.NewServer(db, collect.ServerOptions{Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)

	out := t.TempDir()
	args, runID := postJob(t, out)
	args = append(args, "--post-url", ts.URL)
	env := func(k string) string { return map[string]string{deliver.TokenEnv: testToken}[k] }
	var stderr strings.Builder
	code := run(args, env, &stderr)
	ts.Close()
	srv.Close()
	db.Close()
	if code != exitDone {
		t.Fatalf("exit %d, want 0; stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "delivered to "+ts.URL+"/v1/results: inserted (HTTP 201) after 1 attempt\n") {
		t.Errorf("stderr lacks the delivery line:\n%s", stderr.String())
	}
	if strings.Contains(stderr.String(), "level=DEBUG") {
		t.Errorf("stderr has debug lines of a delivery without retries:\n%s", stderr.String())
	}
	if _, err := os.Stat(filepath.Join(out, runID+".json")); err != nil {
		t.Errorf("no result file beside the delivery: %v", err)
	}

	ro, err := store.OpenReadOnly(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	var status string
	var epochs int
	if err := ro.DB().QueryRow("SELECT status, epochs FROM results WHERE run_id = ?", runID).Scan(&status, &epochs); err != nil {
		t.Fatalf("run %s not in the receiver's database: %v", runID, err)
	}
	if status != "done" || epochs != 3 {
		t.Errorf("stored run: status %s, %d epochs; want done after 3", status, epochs)
	}
}

func TestPostUsageErrors(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokenFile, []byte(testToken), 0o600)
	cases := map[string]struct {
		args []string
		want string
	}{
		"no token":         {[]string{"--post-url", "http://127.0.0.1:1"}, deliver.TokenEnv},
		"token no url":     {[]string{"--token-file", tokenFile}, "without --post-url"},
		"bad url":          {[]string{"--post-url", "127.0.0.1:1", "--token-file", tokenFile}, "http://"},
		"missing token":    {[]string{"--post-url", "http://127.0.0.1:1", "--token-file", tokenFile + ".none"}, "read token file"},
		"no post attempts": {[]string{"--post-url", "http://127.0.0.1:1", "--token-file", tokenFile, "--post-attempts", "0"}, "--post-attempts"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out := t.TempDir()
			args, runID := postJob(t, out)
			var stderr strings.Builder
			if code := run(append(args, tc.args...), noEnv, &stderr); code != exitUsage {
				t.Errorf("exit %d, want %d; stderr: %s", code, exitUsage, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr %q, want it to contain %q", stderr.String(), tc.want)
			}
			if _, err := os.Stat(filepath.Join(out, runID+".json")); err == nil {
				t.Error("a usage error still trained and wrote a result")
			}
		})
	}
}
