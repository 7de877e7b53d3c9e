package submit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/mosaic-go/mosaic/config"
	"github.com/mosaic-go/mosaic/pipeline"
	"github.com/mosaic-go/mosaic/result"
	// The built-in stages register the classes configs name.
	_ "github.com/mosaic-go/mosaic/stage/builtin"
	"github.com/mosaic-go/mosaic/store"
)

// LoadStudy expands the config at path into its runs, every replica of
// every pipeline, and returns the resources the config asks for: one GPU
// per run when [MONITOR] need_gpu is true, and the cpus_per_run,
// memory_per_run and time_limit of [MONITOR].
func LoadStudy(path string) ([]pipeline.Spec, Resources, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, Resources{}, err
	}
	pipelines, err := pipeline.Expand(cfg)
	if err != nil {
		return nil, Resources{}, err
	}
	var specs []pipeline.Spec
	for _, p := range pipelines {
		specs = append(specs, pipeline.Runs(p, cfg.Monitor.Multiplicity)...)
	}
	m := cfg.Monitor
	res := Resources{
		CPUs:        m.CPUsPerRun,
		MemMB:       int((m.MemoryPerRun + 1<<20 - 1) >> 20),
		TimeMinutes: int((m.TimeLimit + time.Minute - 1) / time.Minute),
	}
	if m.NeedGPU {
		res.GPUs = 1
	}
	return specs, res, nil
}

// FinishedRuns returns the runs that the database at path holds as done or
// diverged: a new submission leaves them out, because running them again
// would give the same result. It returns none when path is empty.
func FinishedRuns(ctx context.Context, path string) (map[string]bool, error) {
	statuses, err := storedStatuses(ctx, path)
	if err != nil {
		return nil, err
	}
	return finishedRuns(statuses), nil
}

// finishedRuns returns the runs whose status is done or diverged.
func finishedRuns(statuses map[string]result.Status) map[string]bool {
	finished := make(map[string]bool, len(statuses))
	for id, st := range statuses {
		if st == result.StatusDone || st == result.StatusDiverged {
			finished[id] = true
		}
	}
	return finished
}

// storedStatuses returns the status of every run in the database at path.
// It returns none when path is empty or names no file, as before the first
// collect.
func storedStatuses(ctx context.Context, path string) (map[string]result.Status, error) {
	if path == "" {
		return nil, nil
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	db, err := store.OpenReadOnly(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("read run statuses: %w", err)
	}
	defer db.Close()

	// Statuses names the database in its errors.
	return db.Statuses(ctx)
}
