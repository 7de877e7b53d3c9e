package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildJob builds the static mosaic-job binary into dir.
func buildJob(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "mosaic-job")
	build := exec.Command("go", "build", "-o", bin, "github.com/mosaic-go/mosaic/cmd/mosaic-job")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build mosaic-job: %v\n%s", err, out)
	}
	return bin
}

// TestSubmitJobCollectStatus goes through the cluster path without a
// scheduler: submit writes the specs, one job trains one run, collect merges
// its result, and status --jobs reports the run as done and the rest as
// missing.
func TestSubmitJobCollectStatus(t *testing.T) {
	dir := copyExample(t, "iris.ini")
	job := buildJob(t, t.TempDir())

	out, err := mosaic(t, dir, "submit", "--condor", "iris.ini", "--out", "study", "--job-binary", job)
	if err != nil {
		t.Fatalf("mosaic submit: %v\n%s", err, out)
	}
	if !strings.Contains(out, "condor_submit") {
		t.Errorf("submit without --now does not print the command to run:\n%s", out)
	}
	specs, err := filepath.Glob(filepath.Join(dir, "study", "pipelines", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 20 {
		t.Fatalf("submit wrote %d run specs, want 20", len(specs))
	}

	results := filepath.Join(dir, "study", "results")
	run := exec.Command(job, "--spec", specs[0], "--out", results, "--run-dir", t.TempDir())
	if out, err := run.CombinedOutput(); err != nil {
		t.Fatalf("mosaic-job: %v\n%s", err, out)
	}

	out, err = mosaic(t, dir, "collect", "study/results", "--db", "study.db")
	if err != nil {
		t.Fatalf("mosaic collect: %v\n%s", err, out)
	}
	if !strings.Contains(out, "1 new") {
		t.Errorf("collect did not report 1 new result:\n%s", out)
	}
	out, err = mosaic(t, dir, "collect", "study/results", "--db", "study.db")
	if err != nil {
		t.Fatalf("second collect: %v\n%s", err, out)
	}
	if !strings.Contains(out, "1 unchanged") {
		t.Errorf("second collect did not report the result unchanged:\n%s", out)
	}

	out, err = mosaic(t, dir, "status", "--db", "study.db", "--jobs", "study")
	if err != nil {
		t.Fatalf("mosaic status --jobs: %v\n%s", err, out)
	}
	if !strings.Contains(out, "1 done") || !strings.Contains(out, "19 missing") {
		t.Errorf("status --jobs should count 1 done and 19 missing:\n%s", out)
	}

	// A second submission with the database leaves out the collected run.
	out, err = mosaic(t, dir, "submit", "--condor", "iris.ini", "--out", "study", "--db", "study.db", "--job-binary", job)
	if err != nil {
		t.Fatalf("second submit: %v\n%s", err, out)
	}
	if !strings.Contains(out, "1 already finished") || !strings.Contains(out, "19 to submit") {
		t.Errorf("second submit should skip the collected run:\n%s", out)
	}
}
