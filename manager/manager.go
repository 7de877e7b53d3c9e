// Package manager is the local run manager behind `mosaic run`: it expands a
// config, skips the runs the database already holds, executes the rest with
// nb_processus workers and stores each result as it arrives. It is the only
// writer of the database while it runs.
package manager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/mosaic-go/mosaic/config"
	"github.com/mosaic-go/mosaic/engine"
	"github.com/mosaic-go/mosaic/pipeline"
	"github.com/mosaic-go/mosaic/result"
	"github.com/mosaic-go/mosaic/store"
)

// Options configures one `mosaic run`.
type Options struct {
	// ConfigPath is the study's INI file.
	ConfigPath string
	// Plan, when set, is the already expanded config; ConfigPath and
	// MaxPipelines are then not read again.
	Plan *Plan
	// DBPath is the SQLite database; it is created when missing.
	DBPath string
	// Workers overrides [MONITOR] nb_processus when > 0.
	Workers int
	// RetryFailed runs failed and diverged runs again.
	RetryFailed bool
	// MaxPipelines refuses configs that expand to more pipelines; 0 means
	// config.DefaultMaxPipelines.
	MaxPipelines int
	// Executor runs one spec; nil means InProcess.
	Executor Executor
	// Progress receives progress events; nil discards them.
	Progress Progress
	// Logger receives structured events (starts, finishes, failures); nil
	// discards them.
	Logger *slog.Logger
}

// Summary tells what one call to Run did.
type Summary struct {
	Pipelines int
	Runs      int
	// Skipped runs were already finished in the database.
	Skipped  int
	Done     int
	Failed   int
	Diverged int
	// Interrupted runs were stopped by cancellation and will be resumed by
	// the next run.
	Interrupted int
	Elapsed     time.Duration
}

// Plan is what a config expands to, before anything runs.
type Plan struct {
	Config    *config.Config
	Pipelines []pipeline.Pipeline
	Specs     []pipeline.Spec
}

// Expand loads the config and expands it into pipelines and run specs,
// refusing a grid larger than maxPipelines (0: config.DefaultMaxPipelines).
func Expand(path string, maxPipelines int) (*Plan, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	if maxPipelines <= 0 {
		maxPipelines = config.DefaultMaxPipelines
	}
	if err := cfg.CheckCount(maxPipelines); err != nil {
		return nil, fmt.Errorf("%w (raise the limit with --max-pipelines)", err)
	}
	for _, name := range cfg.Process.LossFunction {
		if _, err := engine.NewLoss(name); err != nil {
			return nil, fmt.Errorf("%s: [PROCESS] loss_function: %w", cfg.Path, err)
		}
	}
	pipelines, err := pipeline.Expand(cfg, pipeline.WithMaxPipelines(maxPipelines))
	if err != nil {
		return nil, err
	}
	plan := &Plan{Config: cfg, Pipelines: pipelines}
	for _, p := range pipelines {
		plan.Specs = append(plan.Specs, pipeline.Runs(p, cfg.Monitor.Multiplicity)...)
	}
	return plan, nil
}

// Run executes every run of the config that the database does not hold as
// finished. Cancelling ctx stops the workers cleanly: finished runs are
// kept, and runs in flight keep their checkpoint and are resumed by the next
// call.
func Run(ctx context.Context, opts Options) (*Summary, error) {
	start := time.Now()
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	progress := opts.Progress
	if progress == nil {
		progress = nopProgress{}
	}
	executor := opts.Executor
	if executor == nil {
		executor = InProcess{}
	}

	plan := opts.Plan
	if plan == nil {
		var err error
		if plan, err = Expand(opts.ConfigPath, opts.MaxPipelines); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(plan.Config.Process.RunFilesPath, 0o755); err != nil {
		return nil, fmt.Errorf("create run files folder: %w", err)
	}

	st, err := store.Open(ctx, opts.DBPath)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if err := st.SavePipelines(ctx, plan.Pipelines); err != nil {
		return nil, fmt.Errorf("store pipelines in %s: %w", opts.DBPath, err)
	}

	todo, skipped, err := selectTodo(ctx, st, plan.Specs, opts.RetryFailed)
	if err != nil {
		return nil, err
	}
	sum := &Summary{Pipelines: len(plan.Pipelines), Runs: len(plan.Specs), Skipped: skipped}
	if len(todo) == 0 {
		sum.Elapsed = time.Since(start)
		return sum, nil
	}

	workers := opts.Workers
	if workers <= 0 {
		workers = plan.Config.Monitor.Processes
	}
	workers = max(1, min(workers, len(todo)))
	log.Info("study started", "config", opts.ConfigPath, "db", opts.DBPath,
		"pipelines", sum.Pipelines, "runs", sum.Runs, "to_do", len(todo), "workers", workers)
	progress.Start(len(todo))

	err = execute(ctx, st, todo, workers, executor, progress, log, sum)
	progress.Finish()
	sum.Elapsed = time.Since(start)
	log.Info("study stopped", "done", sum.Done, "failed", sum.Failed, "diverged", sum.Diverged,
		"interrupted", sum.Interrupted, "elapsed_s", sum.Elapsed.Seconds())
	return sum, err
}

// selectTodo returns the specs still to run and how many were skipped.
func selectTodo(ctx context.Context, st *store.Store, specs []pipeline.Spec, retryFailed bool) ([]pipeline.Spec, int, error) {
	statuses, err := st.Statuses(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("read run statuses: %w", err)
	}
	var todo []pipeline.Spec
	for _, s := range specs {
		switch statuses[s.RunID] {
		case result.StatusDone:
			continue
		case result.StatusFailed, result.StatusDiverged, result.StatusTimeout:
			if !retryFailed {
				continue
			}
		}
		todo = append(todo, s)
	}
	return todo, len(specs) - len(todo), nil
}

// event is what a worker reports to the writer: a run that started (Result
// nil) or a run that ended.
type event struct {
	spec   pipeline.Spec
	result *result.Result
}

// execute runs the specs on the workers and stores what they report from
// this goroutine only, so the database has a single writer.
func execute(ctx context.Context, st *store.Store, todo []pipeline.Spec, workers int,
	executor Executor, progress Progress, log *slog.Logger, sum *Summary) error {
	// A store failure stops the study: results that cannot be kept are not
	// worth computing.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	specs := make(chan pipeline.Spec)
	events := make(chan event)

	// Dispatch until every spec is handed out or the study is cancelled.
	go func() {
		defer close(specs)
		for _, s := range todo {
			select {
			case specs <- s:
			case <-ctx.Done():
				return
			}
		}
	}()

	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for spec := range specs {
				events <- event{spec: spec}
				r := executor.Execute(ctx, spec, func(epoch, total int) {
					progress.Epoch(spec.RunID, spec.Pipeline.Label, epoch, total)
				})
				events <- event{spec: spec, result: r}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(events)
	}()

	var storeErr error
	for ev := range events {
		if ev.result == nil {
			log.Info("run started", "run_id", ev.spec.RunID, "pipeline", ev.spec.Pipeline.Label, "replica", ev.spec.Replica)
			progress.RunStarted(ev.spec.RunID, ev.spec.Pipeline.Label)
			if err := st.MarkRunning(context.WithoutCancel(ctx), ev.spec, time.Now()); err != nil && storeErr == nil {
				storeErr = fmt.Errorf("mark run %s running: %w", ev.spec.RunID, err)
				cancel()
			}
			continue
		}
		if err := record(st, ev.result, log, sum); err != nil && storeErr == nil {
			storeErr = err
			cancel()
		}
		progress.RunFinished(ev.result.RunID, ev.result.Status)
	}
	if storeErr != nil {
		return storeErr
	}
	if ctx.Err() != nil {
		return fmt.Errorf("study interrupted: %w", ctx.Err())
	}
	return nil
}

// record stores one result. It uses a fresh context so a cancelled study
// still stores what its workers finished.
func record(st *store.Store, r *result.Result, log *slog.Logger, sum *Summary) error {
	switch r.Status {
	case result.StatusDone:
		sum.Done++
		log.Info("run finished", "run_id", r.RunID, "status", r.Status, "test_loss", deref(r.Indicators.TestLoss))
	case result.StatusDiverged:
		sum.Diverged++
		log.Warn("run diverged", "run_id", r.RunID, "epoch", r.DivergedEpoch)
	case result.StatusRunning:
		sum.Interrupted++
		log.Info("run interrupted", "run_id", r.RunID, "epochs_done", r.Epochs)
	default:
		sum.Failed++
		log.Error("run failed", "run_id", r.RunID, "error", r.Error)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := st.SaveResult(ctx, r); err != nil {
		return fmt.Errorf("store result of run %s: %w", r.RunID, err)
	}
	return nil
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// DefaultDBPath returns the database path used when none is given: mosaic.db
// in the current folder.
func DefaultDBPath() string { return filepath.Join(".", "mosaic.db") }

// ErrNothingToDo is returned by callers that want to report an empty plan.
var ErrNothingToDo = errors.New("nothing to do")
