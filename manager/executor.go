package manager

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/mosaic-go/mosaic/jobrunner"
	"github.com/mosaic-go/mosaic/pipeline"
	"github.com/mosaic-go/mosaic/result"
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
	return res
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
