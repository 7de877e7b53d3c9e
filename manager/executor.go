package manager

import (
	"context"
	"path/filepath"

	"github.com/mosaic-go/mosaic/jobrunner"
	"github.com/mosaic-go/mosaic/pipeline"
	"github.com/mosaic-go/mosaic/result"
)

// Executor runs one spec to its end and returns its result; it never returns
// nil. onEpoch reports progress and may be called from another goroutine.
type Executor interface {
	Execute(ctx context.Context, spec pipeline.Spec, onEpoch func(epoch, total int)) *result.Result
}

// InProcess runs specs in the manager's own process through the job runner,
// with a checkpoint after every epoch so an interrupted run resumes where it
// stopped. The job runner turns a panicking stage into a failed result.
type InProcess struct{}

var _ Executor = InProcess{}

// Execute implements Executor.
func (InProcess) Execute(ctx context.Context, spec pipeline.Spec, onEpoch func(epoch, total int)) *result.Result {
	return jobrunner.Run(ctx, spec, jobrunner.Options{
		RunDir:     filepath.Join(spec.Pipeline.RunFilesPath, spec.RunID),
		Checkpoint: true,
		Resume:     true,
		OnEpoch: func(epoch, total int, _, _ float64) {
			if onEpoch != nil {
				onEpoch(epoch, total)
			}
		},
	})
}
