package slurm_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mosaic-go/mosaic/collect"
	"github.com/mosaic-go/mosaic/store"
	"github.com/mosaic-go/mosaic/submit"
	"github.com/mosaic-go/mosaic/submit/layout"
	"github.com/mosaic-go/mosaic/submit/slurm"
	"github.com/mosaic-go/mosaic/submit/submittest"
)

// requireSlurm skips the test unless MOSAIC_SLURM=1 says a Slurm cluster
// answers here (scripts/slurm/start-slurm.sh starts one on localhost).
func requireSlurm(t *testing.T) {
	t.Helper()
	if os.Getenv("MOSAIC_SLURM") != "1" {
		t.Skip("set MOSAIC_SLURM=1 after scripts/slurm/start-slurm.sh to run the Slurm integration tests")
	}
	if _, err := exec.LookPath("sbatch"); err != nil {
		t.Fatalf("MOSAIC_SLURM=1 but sbatch is not on PATH: %v", err)
	}
}

// clusterMaxArraySize returns the MaxArraySize that scontrol reports.
func clusterMaxArraySize(t *testing.T) int {
	t.Helper()
	out, err := submit.Exec(context.Background(), "scontrol", "show", "config")
	if err != nil {
		t.Fatal(err)
	}
	n, ok := slurm.ParseMaxArraySize(out)
	if !ok {
		t.Fatal("scontrol show config has no MaxArraySize")
	}
	return n
}

// waitJobs polls squeue until none of the jobs is queued or running, or the
// deadline passes.
func waitJobs(t *testing.T, ctx context.Context, jobs []submit.Job) {
	t.Helper()
	ids := make([]string, len(jobs))
	for i, j := range jobs {
		ids[i] = j.JobID
	}
	for {
		out, err := exec.CommandContext(ctx, "squeue", "-h", "-r", "-j", strings.Join(ids, ","), "-o", "%i %T").Output()
		if err == nil && strings.TrimSpace(string(out)) == "" {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("jobs %v still in squeue at the deadline:\n%s", ids, out)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func collectStudy(t *testing.T, ctx context.Context, study, db string) *collect.Report {
	t.Helper()
	report, err := collect.Collect(ctx, collect.Options{Dirs: []string{filepath.Join(study, "results")}, DB: db})
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Rejected) > 0 {
		t.Errorf("collect rejected %+v", report.Rejected)
	}
	return report
}

func statuses(t *testing.T, ctx context.Context, db string) map[string]string {
	t.Helper()
	s, err := store.OpenReadOnly(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.DB().QueryContext(ctx, "SELECT run_id, status, epochs FROM results")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, status string
		var epochs int
		if err := rows.Scan(&id, &status, &epochs); err != nil {
			t.Fatal(err)
		}
		out[id] = status
	}
	return out
}

// TestSubmitCollectChunked submits a study larger than the cluster's
// MaxArraySize with --now, waits, collects, and checks that every run
// executed exactly once and that a second submission submits nothing.
func TestSubmitCollectChunked(t *testing.T) {
	requireSlurm(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	size := clusterMaxArraySize(t)
	if size > 10 {
		t.Logf("MaxArraySize is %d, so the study is capped at 3 runs an array with --max-array-size", size)
		size = 3
	}
	dir := t.TempDir()
	config := submittest.WriteStudy(t, dir, submittest.Study{Epochs: 4, Widths: []int{4, 6, 8, 10}, Multiplicity: 2})
	study, db := filepath.Join(dir, "study"), filepath.Join(dir, "study.db")
	opts := submit.Options{
		Config: config, Out: study, DB: db,
		Backend:   &slurm.Backend{MaxArraySize: size},
		JobBinary: submittest.BuildJob(t), MaxRunning: 4, Now: true,
	}

	report, err := submit.Submit(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	const runs = 8
	if report.Submitted != runs {
		t.Fatalf("submitted %d runs, want %d", report.Submitted, runs)
	}
	if want := (runs + size - 1) / size; len(report.Jobs) != want {
		t.Fatalf("submitted %d arrays, want %d for MaxArraySize %d", len(report.Jobs), want, size)
	}
	waitJobs(t, ctx, report.Jobs)

	got := collectStudy(t, ctx, study, db)
	if got.Inserted != runs {
		t.Errorf("collect inserted %d runs, want %d", got.Inserted, runs)
	}
	st := statuses(t, ctx, db)
	if len(st) != runs {
		t.Errorf("results view has %d runs, want %d", len(st), runs)
	}
	for id, s := range st {
		if s != "done" {
			t.Errorf("run %s is %s, want done", id, s)
		}
	}
	checkRanOnce(t, study, runs)

	again, err := submit.Submit(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if again.Submitted != 0 || again.Finished != runs || len(again.Jobs) != 0 {
		t.Errorf("second submit: %d submitted, %d finished, %d jobs; want 0, %d, 0", again.Submitted, again.Finished, len(again.Jobs), runs)
	}
}

// checkRanOnce counts the "result" lines mosaic-job prints when a run ends,
// over every job log: each run must have ended exactly once.
func checkRanOnce(t *testing.T, study string, runs int) {
	t.Helper()
	p := layout.Paths{Dir: study}
	logs, _ := filepath.Glob(filepath.Join(p.Logs(), "*.err"))
	ended := map[string]int{}
	for _, path := range logs {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if strings.Contains(line, " after ") && strings.Contains(line, " result ") {
				ended[strings.Fields(line)[2]]++
			}
		}
	}
	if len(ended) != runs {
		t.Errorf("%d runs ended in the logs, want %d", len(ended), runs)
	}
	for id, n := range ended {
		if n != 1 {
			t.Errorf("run %s ended %d times, want once", id, n)
		}
	}
}

// TestRequeueResumes requeues a running array task with scontrol: the task
// stops at its last checkpoint, restarts, and the collected run has exactly
// one curve entry per epoch.
func TestRequeueResumes(t *testing.T) {
	requireSlurm(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	const epochs = 1500
	dir := t.TempDir()
	config := submittest.WriteStudy(t, dir, submittest.Study{Epochs: epochs, Widths: []int{16}})
	study, db := filepath.Join(dir, "study"), filepath.Join(dir, "study.db")
	report, err := submit.Submit(ctx, submit.Options{
		Config: config, Out: study, Backend: &slurm.Backend{},
		JobBinary: submittest.BuildJob(t), Now: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Jobs) != 1 || report.Submitted != 1 {
		t.Fatalf("got %d jobs for %d runs, want 1 and 1", len(report.Jobs), report.Submitted)
	}
	task := report.Jobs[0].JobID + "_0"
	runID := strings.TrimSpace(readFile(t, report.ListFile))

	// Requeue once the run has written a checkpoint.
	checkpoint := filepath.Join(layout.Paths{Dir: study}.RunDir(runID), "checkpoint.bin")
	for {
		if _, err := os.Stat(checkpoint); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("the run wrote no checkpoint before the deadline")
		case <-time.After(100 * time.Millisecond):
		}
	}
	if out, err := exec.CommandContext(ctx, "scontrol", "requeue", task).CombinedOutput(); err != nil {
		t.Fatalf("scontrol requeue %s: %v\n%s", task, err, out)
	}
	waitJobs(t, ctx, report.Jobs)

	collectStudy(t, ctx, study, db)
	s, err := store.OpenReadOnly(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	curves, err := s.Curves(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	if len(curves.TrainLoss) != epochs {
		t.Errorf("collected curve has %d epochs, want %d", len(curves.TrainLoss), epochs)
	}
	log := readFile(t, filepath.Join(study, "logs", report.Jobs[0].JobID+"_0.err"))
	if !strings.Contains(log, "stopped by terminated") {
		t.Errorf("the job log shows no stop by SIGTERM, so the requeue came too late:\n%s", tail(log))
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func tail(s string) string {
	if len(s) > 2000 {
		return s[len(s)-2000:]
	}
	return s
}
