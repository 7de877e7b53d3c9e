package mosaicjob

import (
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/mosaic-go/mosaic/submit/submittest"
)

func TestAssignedGPUs(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"condor ids first", map[string]string{"_CONDOR_AssignedGPUs": "GPU-ddc1c098, GPU-2", "CUDA_VISIBLE_DEVICES": "0"}, []string{"GPU-ddc1c098", "GPU-2"}},
		{"slurm", map[string]string{"SLURM_JOB_GPUS": "2,3", "CUDA_VISIBLE_DEVICES": "0,1"}, []string{"2", "3"}},
		{"cuda", map[string]string{"CUDA_VISIBLE_DEVICES": "1"}, []string{"1"}},
		{"no device", map[string]string{"CUDA_VISIBLE_DEVICES": "-1"}, nil},
		{"condor none", map[string]string{"_CONDOR_AssignedGPUs": "NoDevFiles"}, nil},
		{"unset", map[string]string{}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := AssignedGPUs(func(k string) string { return tc.env[k] })
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDetectScheduler(t *testing.T) {
	env := map[string]string{"SLURM_JOB_ID": "12"}
	if got := DetectScheduler(func(k string) string { return env[k] }); got != Slurm {
		t.Errorf("got %q with SLURM_JOB_ID, want slurm", got)
	}
	env["_CONDOR_SCRATCH_DIR"] = "/scratch"
	if got := DetectScheduler(func(k string) string { return env[k] }); got != Condor {
		t.Errorf("got %q with _CONDOR_SCRATCH_DIR, want condor", got)
	}
	if got := slurmTaskJob(func(k string) string {
		return map[string]string{"SLURM_JOB_ID": "57", "SLURM_ARRAY_JOB_ID": "50", "SLURM_ARRAY_TASK_ID": "7"}[k]
	}); got != "50_7" {
		t.Errorf("requeue id %q, want 50_7", got)
	}
}

// BenchmarkStartToFirstEpoch measures the wall time from starting the
// static mosaic-job on an iris run to its first epoch line on stderr.
func BenchmarkStartToFirstEpoch(b *testing.B) {
	bin := submittest.BuildJob(b)
	configDir, dir := b.TempDir(), b.TempDir()
	spec := writeSpecTB(b, configDir, dir, 100000)
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		cmd, lines := startJob(b, bin, dir, nil, "--spec", spec.RunID+".json", "--out", b.TempDir(), "--run-dir", b.TempDir())
		for lines.Scan() {
			if _, ok := epochOf(lines.Text()); ok {
				break
			}
		}
		total += time.Since(start)
		cmd.Process.Signal(syscall.SIGTERM)
		for lines.Scan() {
		}
		cmd.Wait()
	}
	b.ReportMetric(total.Seconds()*1000/float64(b.N), "ms/start")
}
