package manager

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/mosaic-go/mosaic/config"
	"github.com/mosaic-go/mosaic/jobrunner"
	"github.com/mosaic-go/mosaic/pipeline"
	"github.com/mosaic-go/mosaic/result"
	"github.com/mosaic-go/mosaic/store"
	"github.com/mosaic-go/mosaic/training"
)

// RerunOptions configures one `mosaic rerun`.
type RerunOptions struct {
	DBPath string
	// Selection chooses the runs to continue.
	Selection store.Selection
	// Epochs is the number of epochs to add to each run, at least 1.
	Epochs int
	// Monitor holds nb_processus, the GPUs and the data cache; the zero
	// value runs one run at a time without GPU or cache.
	Monitor config.Monitor
	// MonitorSource names where Monitor comes from, for errors.
	MonitorSource string
	// Workers overrides Monitor.Processes when > 0.
	Workers  int
	Exec     ExecOptions
	Progress Progress
	Logger   *slog.Logger
}

// Skip is a selected run that Rerun did not continue, and why.
type Skip struct {
	Run    store.RunRef
	Reason string
}

// RerunReport reports what one call to Rerun did.
type RerunReport struct {
	Summary
	// Selected are the runs the selection matched.
	Selected []store.RunRef
	// Skips are the selected runs that were not continued.
	Skips []Skip
}

// Rerun continues the selected runs from their last checkpoint for
// opts.Epochs more epochs. A continued run keeps its id, its curves are
// extended, and its indicators are computed again over the whole curves.
// Its stored result is replaced only when the continuation ends done or
// diverged. A failure or an interruption keeps the stored result, and the
// checkpoint keeps the epochs done. Runs without a checkpoint, diverged
// runs and runs stored as running are reported in Skips.
func Rerun(ctx context.Context, opts RerunOptions) (*RerunReport, error) {
	start := time.Now()
	log := loggerOrDiscard(opts.Logger)
	if opts.Epochs < 1 {
		return nil, fmt.Errorf("invalid number of epochs to add %d: expected 1 or more", opts.Epochs)
	}
	source := opts.MonitorSource
	if source == "" {
		source = "rerun options"
	}
	sched, err := newScheduler(opts.Monitor, source, opts.Workers, opts.Exec)
	if err != nil {
		return nil, err
	}

	// The selection runs on a read-only connection, so a --where
	// condition cannot change the database.
	report := &RerunReport{}
	ro, err := store.OpenReadOnly(ctx, opts.DBPath)
	if err != nil {
		return nil, err
	}
	report.Selected, err = ro.SelectRuns(ctx, opts.Selection)
	ro.Close()
	if err != nil {
		return nil, err
	}

	st, err := store.Open(ctx, opts.DBPath)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	specs := continuationSpecs(ctx, st, report, opts.Epochs)
	report.Runs = len(report.Selected)
	report.Skipped = len(report.Skips)
	for _, s := range report.Skips {
		log.Warn("run not continued", "run_id", s.Run.RunID, "reason", s.Reason)
	}
	if len(specs) == 0 {
		report.Elapsed = time.Since(start)
		return report, nil
	}

	log.Info("rerun started", "db", opts.DBPath, "selected", len(report.Selected), "to_do", len(specs),
		"epochs_added", opts.Epochs, "workers", sched.slots(len(specs)))
	b := &batch{
		specs:    specs,
		previous: map[string]result.Status{},
		record:   func(r *result.Result) error { return recordContinuation(st, r, log) },
	}
	for _, ref := range report.Selected {
		b.previous[ref.RunID] = ref.Status
	}
	err = sched.execute(ctx, st, b, progressOrDiscard(opts.Progress), log, &report.Summary)
	report.Elapsed = time.Since(start)
	log.Info("rerun stopped", "done", report.Done, "failed", report.Failed, "diverged", report.Diverged,
		"timed_out", report.TimedOut, "interrupted", report.Interrupted, "elapsed_s", report.Elapsed.Seconds())
	return report, err
}

// continuationSpecs returns the specs that continue the selected runs, and
// adds the runs that cannot be continued to report.Skips.
func continuationSpecs(ctx context.Context, st *store.Store, report *RerunReport, epochs int) []pipeline.Spec {
	var specs []pipeline.Spec
	for _, ref := range report.Selected {
		spec, reason := continuationSpec(ctx, st, ref, epochs)
		if reason != "" {
			report.Skips = append(report.Skips, Skip{Run: ref, Reason: reason})
			continue
		}
		specs = append(specs, spec)
	}
	return specs
}

// continuationSpec returns the spec that continues ref for epochs more
// epochs, or the reason it cannot be continued.
func continuationSpec(ctx context.Context, st *store.Store, ref store.RunRef, epochs int) (pipeline.Spec, string) {
	switch ref.Status {
	case result.StatusRunning:
		return pipeline.Spec{}, "stored as running: another study may be running it; resume an interrupted study with mosaic run"
	case result.StatusDiverged:
		return pipeline.Spec{}, "diverged: training is deterministic, so continuing from the last checkpoint would diverge again"
	}
	p, err := st.Pipeline(ctx, ref.PipelineID)
	if errors.Is(err, store.ErrNoPipelineSpec) {
		return pipeline.Spec{}, "the database holds no spec of pipeline " + ref.PipelineID + " (collected results only)"
	}
	if err != nil {
		return pipeline.Spec{}, err.Error()
	}
	path := filepath.Join(p.RunFilesPath, ref.RunID, jobrunner.CheckpointFile)
	done, err := checkpointEpochs(path)
	if errors.Is(err, fs.ErrNotExist) {
		return pipeline.Spec{}, "no checkpoint at " + path
	}
	if err != nil {
		return pipeline.Spec{}, err.Error()
	}

	p.Process.Epochs = done + epochs
	return pipeline.Spec{
		SchemaVersion: pipeline.SpecVersion,
		RunID:         ref.RunID,
		Replica:       ref.Replica,
		Seed:          ref.Seed,
		Pipeline:      p,
	}, ""
}

// checkpointEpochs returns the number of epochs a checkpoint file holds.
func checkpointEpochs(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	cp, err := training.ReadCheckpoint(bufio.NewReader(f))
	if err != nil {
		return 0, fmt.Errorf("read checkpoint %s: %w", path, err)
	}
	return cp.Epoch, nil
}

// recordContinuation stores a continued run that ended done or diverged in
// place of its stored result. Other outcomes are logged by the scheduler
// and leave the stored result as it is.
func recordContinuation(st *store.Store, r *result.Result, log *slog.Logger) error {
	if r.Status != result.StatusDone && r.Status != result.StatusDiverged {
		log.Warn("stored result kept", "run_id", r.RunID, "status", r.Status)
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := st.ReplaceResult(ctx, r); err != nil {
		return fmt.Errorf("store continued run %s: %w", r.RunID, err)
	}
	return nil
}
