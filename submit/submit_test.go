package submit_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mosaic-go/mosaic/submit"
	"github.com/mosaic-go/mosaic/submit/layout"
	"github.com/mosaic-go/mosaic/submit/slurm"
	"github.com/mosaic-go/mosaic/submit/submittest"
)

// fakeSlurm answers scontrol with MaxArraySize 2, sbatch with job ids from
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
