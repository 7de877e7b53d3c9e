package mosaicjob

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/mosaic-go/mosaic/collect"
	"github.com/mosaic-go/mosaic/jobrunner"
	"github.com/mosaic-go/mosaic/pipeline"
	"github.com/mosaic-go/mosaic/submit"
	"github.com/mosaic-go/mosaic/submit/submittest"
)

// writeSpec expands a one-run iris study and writes its spec into configDir
// and dir.
func writeSpec(t *testing.T, configDir, dir string, epochs int) pipeline.Spec {
	return writeSpecTB(t, configDir, dir, epochs)
}

func writeSpecTB(t testing.TB, configDir, dir string, epochs int) pipeline.Spec {
	t.Helper()
	config := submittest.WriteStudy(t, configDir, submittest.Study{Epochs: epochs, Widths: []int{8}})
	specs, _, err := submit.LoadStudy(config)
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 1 {
		t.Fatalf("study has %d runs, want 1", len(specs))
	}
	for _, d := range []string{configDir, dir} {
		if err := pipeline.WriteSpec(filepath.Join(d, specs[0].RunID+".json"), specs[0]); err != nil {
			t.Fatal(err)
		}
	}
	return specs[0]
}

// startJob starts mosaic-job in dir with args and env added to the
// environment, and returns the command and a scanner of its stderr.
func startJob(t testing.TB, bin, dir string, env []string, args ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, bufio.NewScanner(stderr)
}

// epochOf returns N from a "mosaic-job: run R epoch N/M ..." line.
func epochOf(line string) (int, bool) {
	_, rest, ok := strings.Cut(line, " epoch ")
	if !ok {
		return 0, false
	}
	n, _, _ := strings.Cut(rest, "/")
	e, err := strconv.Atoi(n)
	return e, err == nil
}

func exitCode(err error) int {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestCondorCheckpointResume follows HTCondor's self-checkpointing contract:
// SIGTERM stops the job with exit 85 and a checkpoint in its scratch folder,
// and the job restarted in the same folder resumes at the next epoch.
func TestCondorCheckpointResume(t *testing.T) {
	const epochs = 1000
	bin := submittest.BuildJob(t)
	configDir, scratch := t.TempDir(), t.TempDir()
	spec := writeSpec(t, configDir, scratch, epochs)

	// HTCondor transfers the data file into the scratch folder, where the
	// submit machine's path does not exist.
	if err := os.Rename(filepath.Join(configDir, "data", "iris.csv"), filepath.Join(scratch, "iris.csv")); err != nil {
		t.Fatal(err)
	}
	env := []string{"_CONDOR_SCRATCH_DIR=" + scratch, "_CONDOR_AssignedGPUs=GPU-ddc1c098,GPU-1a2b3c4d",
		"SLURM_JOB_ID=", "CUDA_VISIBLE_DEVICES="}
	args := []string{"--spec", spec.RunID + ".json", "--out", ".", "--run-dir", "mosaic-checkpoint"}

	cmd, lines := startJob(t, bin, scratch, env, args...)
	stoppedAt := 0
	for lines.Scan() {
		if e, ok := epochOf(lines.Text()); ok && e >= 3 {
			stoppedAt = e
			cmd.Process.Signal(syscall.SIGTERM)
			break
		}
	}
	for lines.Scan() {
	}
	if code := exitCode(cmd.Wait()); code != exitCheckpointed {
		t.Fatalf("after SIGTERM mosaic-job exited %d, want %d", code, exitCheckpointed)
	}
	if stoppedAt == 0 {
		t.Fatal("mosaic-job printed no epoch before it ended")
	}
	if _, err := os.Stat(filepath.Join(scratch, "mosaic-checkpoint", jobrunner.CheckpointFile)); err != nil {
		t.Fatalf("no checkpoint after SIGTERM: %v", err)
	}
	// The result would replace the transferred spec of the same name.
	resultPath := filepath.Join(scratch, spec.RunID+".json")
	if _, err := collect.ReadFile(resultPath); err == nil {
		t.Fatal("a checkpointed run wrote a result")
	}

	// Restart in the same folder: the run resumes after the checkpoint.
	cmd, lines = startJob(t, bin, scratch, env, args...)
	firstEpoch := 0
	for lines.Scan() {
		if e, ok := epochOf(lines.Text()); ok && firstEpoch == 0 {
			firstEpoch = e
		}
	}
	if code := exitCode(cmd.Wait()); code != exitDone {
		t.Fatalf("restarted mosaic-job exited %d, want 0", code)
	}
	// Epochs may end between the line read and the signal, so the resumed
	// run begins after the epoch printed, not exactly at the next one.
	if firstEpoch <= stoppedAt || firstEpoch >= epochs {
		t.Errorf("restarted run began at epoch %d, want a resumed epoch in %d..%d", firstEpoch, stoppedAt+1, epochs-1)
	}

	res, err := jobrunner.ReadResult(resultPath)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "done" || res.Epochs != epochs || len(res.Curves.TrainLoss) != epochs || len(res.Curves.TestLoss) != epochs {
		t.Errorf("result: status %s, %d epochs, %d train and %d test losses; want done and %d each",
			res.Status, res.Epochs, len(res.Curves.TrainLoss), len(res.Curves.TestLoss), epochs)
	}
	if want := []string{"GPU-ddc1c098", "GPU-1a2b3c4d"}; !slices.Equal(res.GPUs, want) {
		t.Errorf("result GPUs %v, want %v", res.GPUs, want)
	}
	if res.Device != "cpu" || res.ExitCode == nil || *res.ExitCode != 0 {
		t.Errorf("result device %q exit code %v, want cpu and 0", res.Device, res.ExitCode)
	}

	// The resumed run must match an uninterrupted run of the same spec.
	whole := t.TempDir()
	if err := os.Rename(filepath.Join(scratch, "iris.csv"), filepath.Join(configDir, "data", "iris.csv")); err != nil {
		t.Fatal(err)
	}
	cmd, lines = startJob(t, bin, whole, nil, "--spec", filepath.Join(configDir, spec.RunID+".json"), "--out", whole)
	for lines.Scan() {
	}
	if code := exitCode(cmd.Wait()); code != exitDone {
		t.Fatalf("uninterrupted mosaic-job exited %d, want 0", code)
	}
	ref, err := jobrunner.ReadResult(filepath.Join(whole, spec.RunID+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Curves.TrainLoss, ref.Curves.TrainLoss) {
		t.Error("train losses of the resumed run differ from those of an uninterrupted run")
	}
	if !slices.Equal(res.Curves.TestLoss, ref.Curves.TestLoss) {
		t.Error("test losses of the resumed run differ from those of an uninterrupted run")
	}
}

func TestUsageErrors(t *testing.T) {
	cases := map[string][]string{
		"no run":        {},
		"both":          {"--spec", "a.json", "--list", "l.txt", "--study", "."},
		"list no study": {"--list", "l.txt"},
		"missing spec":  {"--spec", filepath.Join(t.TempDir(), "none.json")},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			var stderr strings.Builder
			if code := run(args, func(string) string { return "" }, &stderr); code != exitUsage {
				t.Errorf("exit %d, want %d; stderr: %s", code, exitUsage, stderr.String())
			}
			if !strings.HasPrefix(stderr.String(), "mosaic-job: ") {
				t.Errorf("stderr %q lacks the mosaic-job prefix", stderr.String())
			}
		})
	}
}
