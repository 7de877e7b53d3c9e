package manager

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/mosaic-go/mosaic/indicator"
	"github.com/mosaic-go/mosaic/jobrunner"
	"github.com/mosaic-go/mosaic/pipeline"
	"github.com/mosaic-go/mosaic/result"
	"github.com/mosaic-go/mosaic/training"
)

// Task is one run handed to an Executor.
type Task struct {
	Spec pipeline.Spec
	// GPUs are the devices assigned to the run, as gpu_available names
	// them (cuda:1); empty without need_gpu.
	GPUs []string
	// OnEpoch, when set, receives the epochs the run finishes. It may be
	// called from another goroutine.
	OnEpoch func(epoch, total int)
	// OnDataCache, when set, receives whether the run's prepared data came
	// from the data cache.
	OnDataCache func(hit bool)
}

// Executor runs one task to its end and returns its result, never nil. When
// ctx is cancelled first, the result has status running, and the run's
// checkpoint lets the next execution resume it.
type Executor interface {
	Execute(ctx context.Context, task Task) *result.Result
}

// CacheConfig locates the data cache; an empty Dir disables it.
type CacheConfig struct {
	Dir string
	// MaxBytes bounds the cache size; 0 means no bound.
	MaxBytes int64
}

// InProcess runs tasks in the manager's own process through the job
// runner, for debugging (`mosaic run --in-process`). A panicking stage
// becomes a failed result, but a crash or an out-of-memory kill takes the
// manager down, and a run that ignores its context cannot be stopped.
type InProcess struct {
	// Cache is the data cache.
	Cache CacheConfig
	// RunTimeout stops a run that trains longer and stores it as timeout;
	// 0 means no limit. The run stops at its next minibatch.
	RunTimeout time.Duration
}

var _ Executor = InProcess{}

// Execute implements Executor.
func (e InProcess) Execute(ctx context.Context, task Task) *result.Result {
	spec := task.Spec
	dataCache, err := openDataCache(e.Cache)
	if err != nil {
		return failedResult(spec, task.GPUs, err)
	}
	runCtx := ctx
	if e.RunTimeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, e.RunTimeout)
		defer cancel()
	}

	res := jobrunner.Run(runCtx, spec, jobrunner.Options{
		RunDir:      filepath.Join(spec.Pipeline.RunFilesPath, spec.RunID),
		Checkpoint:  true,
		Resume:      true,
		GPUs:        task.GPUs,
		DataCache:   dataCache,
		OnDataCache: task.OnDataCache,
		OnEpoch: func(epoch, total int, _, _ float64) {
			if task.OnEpoch != nil {
				task.OnEpoch(epoch, total)
			}
		},
	})
	if res.Status == result.StatusRunning && ctx.Err() == nil && errors.Is(runCtx.Err(), context.DeadlineExceeded) {
		res.Status = result.StatusTimeout
		res.Error = fmt.Sprintf("run timed out after %s and was stopped after epoch %d", e.RunTimeout, res.Epochs)
	}
	if res.Status == result.StatusRunning || res.Status == result.StatusTimeout {
		// The job runner has set the curves of the epochs done, but not
		// their indicators.
		addCheckpointProgress(res, spec, filepath.Join(spec.Pipeline.RunFilesPath, spec.RunID))
	}
	return res
}

// addCheckpointProgress fills the curves, epochs and indicators of a run
// stopped before it wrote its result (timed out, interrupted, or a child
// that died) from the checkpoint in its run folder, so that the database
// shows the epochs it finished. Curves already in res are kept. A missing
// checkpoint leaves res as it is, and an unreadable one is noted in
// res.Error.
func addCheckpointProgress(res *result.Result, spec pipeline.Spec, runDir string) {
	if len(res.Curves.TrainLoss) == 0 {
		path := filepath.Join(runDir, jobrunner.CheckpointFile)
		cp, err := readRunCheckpoint(path, spec)
		if err != nil {
			res.Error += fmt.Sprintf("\n(the curves of the finished epochs are missing: %v)", err)
			return
		}
		if cp == nil {
			return
		}
		res.Curves = cp.Curves
		res.Epochs = len(cp.Curves.TrainLoss)
		res.Files["checkpoint"] = path
	}
	if len(res.Curves.TrainLoss) == 0 || res.Indicators.TrainLoss != nil {
		return
	}

	ind := indicator.Compute(res.Curves)
	ind.NbParams = res.Indicators.NbParams
	// The training time of the finished epochs, which the job runner also
	// counts for the epochs of a checkpoint it resumed from.
	ind.DurationS = res.Indicators.DurationS
	if ind.DurationS == nil && len(res.Curves.EpochSeconds) > 0 {
		var seconds float64
		for _, s := range res.Curves.EpochSeconds {
			seconds += s
		}
		ind.DurationS = &seconds
	}
	res.Indicators = ind
}

// readRunCheckpoint reads the checkpoint at path if it belongs to spec's
// run: its key file holds jobrunner.CheckpointKey(spec) and it holds no more
// than the spec's epochs. It returns nil and no error otherwise.
func readRunCheckpoint(path string, spec pipeline.Spec) (*training.Checkpoint, error) {
	key, err := os.ReadFile(jobrunner.CheckpointKeyFile(path))
	if err != nil || string(key) != jobrunner.CheckpointKey(spec) {
		return nil, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open checkpoint: %w", err)
	}
	defer f.Close()
	cp, err := training.ReadCheckpoint(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("read checkpoint %s: %w", path, err)
	}
	if len(cp.Curves.TrainLoss) > spec.Pipeline.Process.Epochs {
		return nil, nil
	}
	return cp, nil
}

// failedResult returns the result of a run that failed before the job
// runner could start it.
func failedResult(spec pipeline.Spec, gpus []string, err error) *result.Result {
	r := baseResult(spec, gpus)
	r.Status = result.StatusFailed
	r.Error = err.Error()
	return r
}

// baseResult returns a result with the identity of spec's run and no
// outcome.
func baseResult(spec pipeline.Spec, gpus []string) *result.Result {
	res := jobrunner.NewResult(spec, gpus)
	res.FinishedAt = res.StartedAt
	return res
}
