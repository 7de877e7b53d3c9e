package submit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mosaic-go/mosaic/collect"
	"github.com/mosaic-go/mosaic/result"
	"github.com/mosaic-go/mosaic/submit"
	"github.com/mosaic-go/mosaic/submit/layout"
	"github.com/mosaic-go/mosaic/submit/slurm"
	"github.com/mosaic-go/mosaic/submit/submittest"
)

// fakeSlurm returns, for scontrol, with MaxArraySize 2, sbatch with job ids from
// 100 up, and squeue with the lines in queue.
type fakeSlurm struct {
	next  int
	calls []string
	queue string
	fail  bool
}

func (f *fakeSlurm) run(_ context.Context, name string, args ...string) ([]byte, error) {
	f.calls = append(f.calls, name+" "+strings.Join(args, " "))
	switch name {
	case "scontrol":
		return []byte("MaxArraySize = 2\n"), nil
	case "sbatch":
		if f.fail {
			return nil, &submit.CommandError{Command: append([]string{name}, args...), Output: "sbatch: error: Batch job submission failed: Invalid job array specification", Err: errors.New("exit status 1")}
		}
		f.next++
		return []byte(fmt.Sprintf("%d\n", 90+10*f.next)), nil
	case "squeue":
		return []byte(f.queue), nil
	}
	return nil, errors.New("unexpected command " + name)
}

func TestSubmitWritesStudy(t *testing.T) {
	dir := t.TempDir()
	config := submittest.WriteStudy(t, dir, submittest.Study{Epochs: 2, Widths: []int{4, 8}, Multiplicity: 2})
	bin := filepath.Join(dir, "mosaic-job")
	os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755)
	fake := &fakeSlurm{}
	study := filepath.Join(dir, "study")

	report, err := submit.Submit(context.Background(), submit.Options{
		Config: config, Out: study, Backend: &slurm.Backend{Run: fake.run},
		JobBinary: bin, Now: true, Run: fake.run,
	})
	if err != nil {
		t.Fatal(err)
	}
	if report.Runs != 4 || report.Submitted != 4 || len(report.Jobs) != 2 {
		t.Fatalf("got %d runs, %d submitted, %d jobs; want 4, 4, 2", report.Runs, report.Submitted, len(report.Jobs))
	}
	p := layout.Paths{Dir: study}
	for i, j := range report.Jobs {
		id, err := layout.ReadListLine(j.ListFile, j.Offset)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(p.Spec(id)); err != nil {
			t.Errorf("job %d: no spec for run %s: %v", i, id, err)
		}
		if _, err := os.Stat(j.Description); err != nil {
			t.Errorf("job %d: no description: %v", i, err)
		}
	}
	recorded, err := submit.ReadJobs(p)
	if err != nil || len(recorded) != 2 || recorded[1].JobID != "110" || recorded[1].Offset != 2 {
		t.Errorf("jobs.json holds %+v, %v; want 2 jobs, the second 110 at offset 2", recorded, err)
	}

	// squeue lists task 1 of the second array as running: run 4 of the list.
	fake.queue = "110_1 RUNNING\n110_0 PENDING\n"
	states, err := submit.Status(context.Background(), submit.StatusOptions{Study: study, Run: fake.run})
	if err != nil {
		t.Fatal(err)
	}
	third, _ := layout.ReadListLine(report.ListFile, 2)
	fourth, _ := layout.ReadListLine(report.ListFile, 3)
	first, _ := layout.ReadListLine(report.ListFile, 0)
	if states[fourth] != submit.StateRunning || states[third] != submit.StateQueued || states[first] != submit.StateMissing {
		t.Errorf("states %v: want %s running, %s queued, %s missing", states, fourth, third, first)
	}
}

func TestSubmitShowsSchedulerError(t *testing.T) {
	dir := t.TempDir()
	config := submittest.WriteStudy(t, dir, submittest.Study{Epochs: 2, Widths: []int{4}})
	bin := filepath.Join(dir, "mosaic-job")
	os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755)
	fake := &fakeSlurm{fail: true}
	_, err := submit.Submit(context.Background(), submit.Options{
		Config: config, Out: filepath.Join(dir, "study"), Backend: &slurm.Backend{Run: fake.run},
		JobBinary: bin, Now: true, Run: fake.run,
	})
	if err == nil || !strings.Contains(err.Error(), "Invalid job array specification") {
		t.Errorf("error %v does not show sbatch's output", err)
	}
}

func TestSubmitDryRunWritesNothing(t *testing.T) {
	dir := t.TempDir()
	config := submittest.WriteStudy(t, dir, submittest.Study{Epochs: 2, Widths: []int{4, 8}})
	bin := filepath.Join(dir, "mosaic-job")
	os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755)
	fake := &fakeSlurm{}
	study := filepath.Join(dir, "study")
	report, err := submit.Submit(context.Background(), submit.Options{
		Config: config, Out: study, Backend: &slurm.Backend{Run: fake.run}, JobBinary: bin, DryRun: true, Now: true, Run: fake.run,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Descriptions) != 1 || !strings.Contains(string(report.Descriptions[0].Text), "--array=0-1") {
		t.Errorf("dry run rendered %+v, want one array of 2 runs", report.Descriptions)
	}
	if _, err := os.Stat(study); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dry run created %s", study)
	}
	for _, c := range fake.calls {
		if strings.HasPrefix(c, "sbatch") {
			t.Errorf("dry run called %s", c)
		}
	}
}

// writeResultFile writes the result file a job writes for runID, ended with
// status after no epoch.
func writeResultFile(t *testing.T, p layout.Paths, runID string, status result.Status) {
	t.Helper()
	r := result.Result{
		SchemaVersion: result.SchemaVersion, RunID: runID,
		PipelineID: strings.Split(runID, "-")[0], Label: "mlp", Status: status,
	}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(p.Results(), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.Result(runID), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// collectResults imports the study's result files into db.
func collectResults(t *testing.T, p layout.Paths, db string) {
	t.Helper()
	report, err := collect.Collect(context.Background(), collect.Options{Dirs: []string{p.Results()}, DB: db})
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Rejected) > 0 {
		t.Fatalf("collect rejected %+v", report.Rejected)
	}
}

// submitFourRuns submits a study of four runs with the fake Slurm and
// returns its folder and run ids, in run list order.
func submitFourRuns(t *testing.T, fake *fakeSlurm) (layout.Paths, []string) {
	t.Helper()
	dir := t.TempDir()
	config := submittest.WriteStudy(t, dir, submittest.Study{Epochs: 2, Widths: []int{4, 8}, Multiplicity: 2})
	bin := filepath.Join(dir, "mosaic-job")
	os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755)
	study := filepath.Join(dir, "study")
	report, err := submit.Submit(context.Background(), submit.Options{
		Config: config, Out: study, Backend: &slurm.Backend{Run: fake.run},
		JobBinary: bin, Now: true, Run: fake.run,
	})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range report.Submitted {
		id, err := layout.ReadListLine(report.ListFile, i)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return layout.Paths{Dir: study}, ids
}

func TestStatusUncollected(t *testing.T) {
	fake := &fakeSlurm{}
	p, ids := submitFourRuns(t, fake)
	db := filepath.Join(t.TempDir(), "study.db")

	// Run 0 ended and is collected. Run 1 failed, was collected, then
	// resubmitted and ended done. Run 2 ended after the last collect.
	writeResultFile(t, p, ids[0], result.StatusDone)
	writeResultFile(t, p, ids[1], result.StatusFailed)
	collectResults(t, p, db)
	writeResultFile(t, p, ids[1], result.StatusDone)
	writeResultFile(t, p, ids[2], result.StatusDone)

	states, err := submit.Status(context.Background(), submit.StatusOptions{Study: p.Dir, DB: db, Run: fake.run})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"done", submit.StateUncollected, submit.StateUncollected, submit.StateMissing}
	for i, id := range ids {
		if states[id] != want[i] {
			t.Errorf("run %d (%s) is %q, want %q", i, id, states[id], want[i])
		}
	}

	// Without a database every result file is uncollected.
	states, err = submit.Status(context.Background(), submit.StatusOptions{Study: p.Dir, DB: filepath.Join(t.TempDir(), "none.db"), Run: fake.run})
	if err != nil {
		t.Fatal(err)
	}
	if states[ids[0]] != submit.StateUncollected {
		t.Errorf("run 0 without a database is %q, want %q", states[ids[0]], submit.StateUncollected)
	}
}

func TestStatusQueuedReplacesOldResultFile(t *testing.T) {
	fake := &fakeSlurm{}
	p, ids := submitFourRuns(t, fake)

	// Run 2 is task 0 of the second array, job 110: its file is from an
	// earlier attempt.
	writeResultFile(t, p, ids[2], result.StatusFailed)
	fake.queue = "110_0 PENDING\n"
	states, err := submit.Status(context.Background(), submit.StatusOptions{Study: p.Dir, Run: fake.run})
	if err != nil {
		t.Fatal(err)
	}
	if states[ids[2]] != submit.StateQueued {
		t.Errorf("run 2 is %q, want %q", states[ids[2]], submit.StateQueued)
	}
}

func TestSubmitSkipsUncollected(t *testing.T) {
	fake := &fakeSlurm{}
	p, ids := submitFourRuns(t, fake)
	db := filepath.Join(t.TempDir(), "study.db")

	// Run 0 ended done and run 1 failed, both collected; run 2 ended done
	// after the collect.
	writeResultFile(t, p, ids[0], result.StatusDone)
	writeResultFile(t, p, ids[1], result.StatusFailed)
	collectResults(t, p, db)
	writeResultFile(t, p, ids[2], result.StatusDone)

	config := filepath.Join(filepath.Dir(p.Dir), "study.ini")
	bin := filepath.Join(filepath.Dir(p.Dir), "mosaic-job")
	for _, dryRun := range []bool{true, false} {
		report, err := submit.Submit(context.Background(), submit.Options{
			Config: config, Out: p.Dir, DB: db, Backend: &slurm.Backend{Run: fake.run},
			JobBinary: bin, DryRun: dryRun, Run: fake.run,
		})
		if err != nil {
			t.Fatal(err)
		}
		if report.Finished != 1 || report.Uncollected != 1 || report.Submitted != 2 {
			t.Errorf("dry run %v: %d finished, %d uncollected, %d submitted; want 1, 1, 2",
				dryRun, report.Finished, report.Uncollected, report.Submitted)
		}
	}
	list, err := os.ReadFile(p.List(2))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Fields(string(list)), []string{ids[1], ids[3]}; !slices.Equal(got, want) {
		t.Errorf("second run list %v, want the failed and the missing run %v", got, want)
	}
}

func TestSubmitResourcesFromMonitor(t *testing.T) {
	dir := t.TempDir()
	config := submittest.WriteStudy(t, dir, submittest.Study{Epochs: 2, Widths: []int{4}})
	text, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	withResources := strings.Replace(string(text), "need_gpu = False", "need_gpu = False\ncpus_per_run = 3\nmemory_per_run = 2G\ntime_limit = 1h30m", 1)
	if err := os.WriteFile(config, []byte(withResources), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "mosaic-job")
	os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755)

	render := func(flags submit.Resources) string {
		t.Helper()
		report, err := submit.Submit(context.Background(), submit.Options{
			Config: config, Out: filepath.Join(t.TempDir(), "study"), Backend: &slurm.Backend{Run: (&fakeSlurm{}).run},
			JobBinary: bin, DryRun: true, Resources: flags,
		})
		if err != nil {
			t.Fatal(err)
		}
		return string(report.Descriptions[0].Text)
	}

	script := render(submit.Resources{})
	for _, want := range []string{"--cpus-per-task=3", "--mem=2048M", "--time=90"} {
		if !strings.Contains(script, want) {
			t.Errorf("sbatch script from [MONITOR] lacks %s:\n%s", want, script)
		}
	}
	script = render(submit.Resources{CPUs: 1, MemMB: 512, TimeMinutes: 10})
	for _, want := range []string{"--cpus-per-task=1", "--mem=512M", "--time=10"} {
		if !strings.Contains(script, want) {
			t.Errorf("sbatch script with flags lacks %s:\n%s", want, script)
		}
	}
}

// TestStatusAfterSlurmForgotJobs runs status once Slurm no longer keeps the
// study's jobs: squeue exits 1 with "Invalid job id specified", which must
// mean "nothing queued", not a failure.
func TestStatusAfterSlurmForgotJobs(t *testing.T) {
	dir := t.TempDir()
	config := submittest.WriteStudy(t, dir, submittest.Study{Epochs: 2, Widths: []int{4}})
	bin := filepath.Join(dir, "mosaic-job")
	os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755)
	fake := &fakeSlurm{}
	study := filepath.Join(dir, "study")
	if _, err := submit.Submit(context.Background(), submit.Options{
		Config: config, Out: study, Backend: &slurm.Backend{Run: fake.run}, JobBinary: bin, Now: true, Run: fake.run,
	}); err != nil {
		t.Fatal(err)
	}

	forgotten := func(_ context.Context, name string, args ...string) ([]byte, error) {
		return nil, &submit.CommandError{Command: append([]string{name}, args...),
			Output: "slurm_load_jobs error: Invalid job id specified", Err: errors.New("exit status 1")}
	}
	states, err := submit.Status(context.Background(), submit.StatusOptions{Study: study, Run: forgotten})
	if err != nil {
		t.Fatalf("status after Slurm forgot the jobs: %v", err)
	}
	for id, state := range states {
		if state != submit.StateMissing {
			t.Errorf("run %s is %s, want %s", id, state, submit.StateMissing)
		}
	}

	down := func(_ context.Context, name string, args ...string) ([]byte, error) {
		return nil, &submit.CommandError{Command: append([]string{name}, args...),
			Output: "slurm_load_jobs error: Unable to contact slurm controller", Err: errors.New("exit status 1")}
	}
	if _, err := submit.Status(context.Background(), submit.StatusOptions{Study: study, Run: down}); err == nil {
		t.Error("status hid that the Slurm controller could not be reached")
	}
}
