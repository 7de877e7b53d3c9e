// Package manager is the local run manager behind `mosaic run` and
// `mosaic rerun`. It expands a config, skips the runs the database already
// holds, and executes the rest, each in a child process of its own, on
// nb_processus slots and the configured GPUs. It stores each result as it
// arrives, and it is the only writer of the database while it runs.
package manager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
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
	// RetryFailed runs failed, diverged and timed-out runs again.
	RetryFailed bool
	// MaxPipelines rejects configs that expand to more pipelines; 0 means
	// config.DefaultMaxPipelines.
	MaxPipelines int
	// Exec configures how runs execute.
	Exec ExecOptions
	// Progress receives progress events; nil discards them.
	Progress Progress
	// Logger receives structured events (starts, finishes, failures); nil
	// discards them.
	Logger *slog.Logger
}

// ExecOptions configures the execution of runs, shared by Run and Rerun.
type ExecOptions struct {
	// InProcess runs every run in the manager's process instead of a child
	// process, for debugging.
	InProcess bool
	// RunTimeout stops a run that takes longer and stores it as timeout; 0
	// means no limit.
	RunTimeout time.Duration
	// KillGrace is the time a child has between SIGTERM and SIGKILL; 0
	// means DefaultKillGrace.
	KillGrace time.Duration
	// RunsPerGPU is the number of runs that may share one device of
	// gpu_available when need_gpu is set; 0 means 1.
	RunsPerGPU int
	// ChildCommand and ChildEnv set Subprocess.Command and Subprocess.Env.
	ChildCommand []string
	ChildEnv     []string
	// Executor, when set, runs the tasks instead of the executor that the
	// fields above describe.
	Executor Executor
}

// Summary reports what one call to Run or Rerun did.
type Summary struct {
	Pipelines int
	Runs      int
	// Skipped runs were already finished in the database, or, for Rerun,
	// could not be continued.
	Skipped  int
	Done     int
	Failed   int
	Diverged int
	TimedOut int
	// Interrupted runs were stopped by cancellation; the next execution
	// resumes them from their checkpoint.
	Interrupted int
	// CacheHits and CacheMisses count the data cache lookups of the runs.
	CacheHits   int
	CacheMisses int
	Elapsed     time.Duration
}

// Plan is what a config expands to, before anything runs.
type Plan struct {
	Config    *config.Config
	Pipelines []pipeline.Pipeline
	Specs     []pipeline.Spec
}

// Expand loads the config and expands it into pipelines and run specs,
// rejecting a grid larger than maxPipelines (0: config.DefaultMaxPipelines).
func Expand(path string, maxPipelines int) (*Plan, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	if maxPipelines <= 0 {
		maxPipelines = config.DefaultMaxPipelines
	}
	if err := cfg.CheckCount(maxPipelines); err != nil {
		return nil, err
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
// finished, and resumes the runs an interrupted study left running.
// Cancelling ctx stops the children cleanly: finished runs are kept, and
// runs in flight keep their checkpoint and stay stored as running until the
// next call resumes them.
func Run(ctx context.Context, opts Options) (*Summary, error) {
	start := time.Now()
	log := loggerOrDiscard(opts.Logger)
	plan := opts.Plan
	if plan == nil {
		var err error
		if plan, err = Expand(opts.ConfigPath, opts.MaxPipelines); err != nil {
			return nil, err
		}
	}
	sched, err := newScheduler(plan.Config.Monitor, plan.Config.Path, opts.Workers, opts.Exec)
	if err != nil {
		return nil, err
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

	statuses, err := st.Statuses(ctx)
	if err != nil {
		return nil, fmt.Errorf("read run statuses: %w", err)
	}
	todo := selectTodo(statuses, plan.Specs, opts.RetryFailed)
	skipped := len(plan.Specs) - len(todo)
	sum := &Summary{Pipelines: len(plan.Pipelines), Runs: len(plan.Specs), Skipped: skipped}
	if len(todo) == 0 {
		sum.Elapsed = time.Since(start)
		return sum, nil
	}

	log.Info("study started", "config", plan.Config.Path, "db", opts.DBPath, "pipelines", sum.Pipelines,
		"runs", sum.Runs, "to_do", len(todo), "workers", sched.slots(len(todo)), "in_process", opts.Exec.InProcess)
	batch := &batch{
		specs:       todo,
		markRunning: true,
		previous:    statuses,
		record:      func(r *result.Result) error { return recordRun(st, r) },
	}
	err = sched.execute(ctx, st, batch, progressOrDiscard(opts.Progress), log, sum)
	sum.Elapsed = time.Since(start)
	log.Info("study stopped", "done", sum.Done, "failed", sum.Failed, "diverged", sum.Diverged,
		"timed_out", sum.TimedOut, "interrupted", sum.Interrupted, "cache_hits", sum.CacheHits,
		"cache_misses", sum.CacheMisses, "elapsed_s", sum.Elapsed.Seconds())
	return sum, err
}

// selectTodo returns the specs still to run. Runs stored as running were in
// flight when a study was interrupted, and run again: the job runner resumes
// them from their checkpoint.
func selectTodo(statuses map[string]result.Status, specs []pipeline.Spec, retryFailed bool) []pipeline.Spec {
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
	return todo
}

// recordRun stores the result of a run of `mosaic run`. An interrupted run
// is not stored: its row stays running, with the epochs recorded so far,
// until the next study resumes it. A fresh context lets a cancelled study
// still store what its children finished.
func recordRun(st *store.Store, r *result.Result) error {
	if r.Status == result.StatusRunning {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := st.SaveResult(ctx, r); err != nil {
		return fmt.Errorf("store result of run %s: %w", r.RunID, err)
	}
	return nil
}

func loggerOrDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

func progressOrDiscard(p Progress) Progress {
	if p == nil {
		return nopProgress{}
	}
	return p
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
