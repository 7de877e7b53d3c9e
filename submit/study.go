package submit

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/mosaic-go/mosaic/config"
	"github.com/mosaic-go/mosaic/pipeline"
	"github.com/mosaic-go/mosaic/result"
	// The built-in stages register the classes configs name.
	_ "github.com/mosaic-go/mosaic/stage/builtin"
	"github.com/mosaic-go/mosaic/store"
)

// LoadStudy expands the config at path into its runs, every replica of
// every pipeline, and returns the resources the config asks for: one GPU
// per run when [MONITOR] need_gpu is true.
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
	var res Resources
	if cfg.Monitor.NeedGPU {
		res.GPUs = 1
	}
	return specs, res, nil
}

// FinishedRuns returns the runs that the database at path holds as done or
// diverged: a new submission leaves them out, because running them again
// would give the same result. It returns none when path is empty.
func FinishedRuns(ctx context.Context, path string) (map[string]bool, error) {
	if path == "" {
		return nil, nil
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	db, err := store.OpenReadOnly(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("read finished runs: %w", err)
	}
	defer db.Close()

	statuses, err := db.Statuses(ctx)
	if err != nil {
		return nil, fmt.Errorf("read finished runs from %s: %w", path, err)
	}
	finished := make(map[string]bool, len(statuses))
	for id, st := range statuses {
		if result.Status(st) == result.StatusDone || result.Status(st) == result.StatusDiverged {
			finished[id] = true
		}
	}
	return finished, nil
}
