// Package jobrunner executes one run spec: it applies the data stages, builds
// the network from the model stages, trains it and returns the run's result.
// `mosaic run` and the cluster job both call Run, so local and cluster runs
// behave the same. Besides the result, a run writes its per-run files
// (curves, weights, log, checkpoint) under its run folder.
package jobrunner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/mosaic-go/mosaic/engine"
	"github.com/mosaic-go/mosaic/indicator"
	"github.com/mosaic-go/mosaic/pipeline"
	"github.com/mosaic-go/mosaic/result"
	"github.com/mosaic-go/mosaic/stage"
	"github.com/mosaic-go/mosaic/training"
)

// ErrInterrupted is the Error of a result whose context was cancelled before
// training finished. Such a result has Status result.StatusRunning: callers
// treat it as not finished, and a later Run with Resume continues from the
// checkpoint, if one was written.
var ErrInterrupted = errors.New("interrupted")

// Options tune one run. The zero value runs without checkpoints into the
// default run folder.
type Options struct {
	// RunDir is the folder of the per-run files; empty means
	// <spec.Pipeline.RunFilesPath>/<spec.RunID>.
	RunDir string
	// Checkpoint writes checkpoint.bin after every epoch, atomically.
	Checkpoint bool
	// Resume continues from checkpoint.bin in RunDir when the file exists, and
	// starts from epoch 1 when it does not.
	Resume bool
	// OnEpoch, when set, is called after every epoch with the 1-based epoch,
	// the number of epochs to train and that epoch's losses.
	OnEpoch func(epoch, total int, trainLoss, testLoss float64)
	// GPUs are the accelerators the scheduler assigned, recorded as given.
	GPUs []string
	// DataCache, when set, stores the prepared data of the data stages, so
	// runs that share a data scheme prepare it once. See DataKey.
	DataCache DataCache
	// OnDataCache, when set, is called once per run that has a DataCache,
	// with whether the prepared data came from the cache.
	OnDataCache func(hit bool)
	// LocalFiles maps a data stage's string parameter, as configured, to
	// the value the stage receives instead: on an HTCondor node the data
	// files sit in the scratch folder, not at the submit machine's paths.
	// The configured value is what the run records, seeds its data with and
	// keys the data cache by, so a run gives the same result wherever its
	// files are.
	LocalFiles map[string]string
}

// Names of the per-run files inside the run folder, also the keys of
// result.Files ("curves", "model", "log", "checkpoint").
const (
	CurvesFile     = "curves.csv"
	ModelFile      = "model.bin"
	LogFile        = "run.log"
	CheckpointFile = "checkpoint.bin"
)

// maxStackLines bounds the goroutine stack a recovered panic writes to run.log.
const maxStackLines = 40

// NewResult returns a result with the identity of spec's run (ids, label,
// replica, seed, host, the GPUs given) and no outcome yet: status running,
// started now.
func NewResult(spec pipeline.Spec, gpus []string) *result.Result {
	host, _ := os.Hostname()
	return &result.Result{
		SchemaVersion: result.SchemaVersion,
		RunID:         spec.RunID,
		PipelineID:    spec.Pipeline.ID,
		Label:         spec.Pipeline.Label,
		Replica:       spec.Replica,
		Seed:          spec.Seed,
		Status:        result.StatusRunning,
		StartedAt:     time.Now().UTC(),
		Host:          host,
		GPUs:          gpus,
		Params:        []result.Param{},
		Files:         map[string]string{},
	}
}

// runner holds the state of one Run call.
type runner struct {
	// ckptKey caches checkpointKey; keyWritten tells whether this run wrote
	// the key file beside its checkpoint.
	ckptKey    string
	keyWritten bool

	spec pipeline.Spec
	opts Options
	res  *result.Result
	dir  string
	// log writes run.log; it discards until the file is open.
	log     *slog.Logger
	logFile *os.File
	// lastCheckpoint is the state after the last finished epoch, so an
	// interrupted run can still report its curves.
	lastCheckpoint *training.Checkpoint
}

// Run executes spec and returns its result, which is never nil. Run does not
// panic: a panic in a stage or in training becomes a failed result, with the
// panic value as Error and a short stack in run.log. A stage, build or
// training error also gives a failed result. If ctx is cancelled first, the
// result has Status result.StatusRunning and Error "interrupted"; see
// ErrInterrupted.
func Run(ctx context.Context, spec pipeline.Spec, opts Options) (res *result.Result) {
	res = NewResult(spec, opts.GPUs)
	res.Device = "cpu"
	r := &runner{spec: spec, opts: opts, res: res, log: slog.New(slog.DiscardHandler)}

	defer func() {
		if p := recover(); p != nil {
			r.fail(fmt.Errorf("panic: %v", p))
			r.log.Error("stack of the panic", "stack", shortStack(debug.Stack()))
		}
		res.FinishedAt = time.Now().UTC()
		r.closeLog()
	}()

	if err := r.run(ctx); err != nil {
		if ctx.Err() != nil {
			r.interrupt(err)
		} else {
			r.fail(err)
		}
	}
	return res
}

// run does the work of Run and returns the error that ended it, if any.
func (r *runner) run(ctx context.Context) error {
	if err := r.openRunDir(); err != nil {
		return err
	}
	r.log.Info("run started", "run_id", r.spec.RunID, "pipeline", r.spec.Pipeline.ID,
		"label", r.spec.Pipeline.Label, "replica", r.spec.Replica, "seed", r.spec.Seed, "gpus", strings.Join(r.opts.GPUs, ","))
	r.recordProcess()

	data, info, err := r.prepareData(ctx)
	if err != nil {
		return err
	}
	net, err := r.buildModel(data, info)
	if err != nil {
		return err
	}
	r.res.Indicators.NbParams = ptr(net.NumParams())
	if err := checkLoss(r.spec.Pipeline.Process.LossFunction, data.Train.Task, net); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	return r.train(ctx, net, data)
}

// train runs the training loop and records its outcome.
func (r *runner) train(ctx context.Context, net *engine.Network, data *stage.Data) error {
	proc := r.spec.Pipeline.Process
	resume, err := r.loadCheckpoint()
	if err != nil {
		return err
	}

	outcome, err := training.Train(ctx, net, data, training.Options{
		Epochs:  proc.Epochs,
		LR:      proc.LR,
		Loss:    proc.LossFunction,
		Seed:    r.spec.Seed,
		Resume:  resume,
		OnEpoch: r.endEpoch,
	})
	if outcome != nil {
		r.setCurves(outcome.Curves)
	}
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if ctx.Err() != nil && outcome.DivergedEpoch == 0 && len(outcome.Curves.TrainLoss) < proc.Epochs {
		return ctx.Err()
	}

	// A resumed run's duration adds the epochs of the checkpoint, whose wall
	// time this call did not measure.
	duration := outcome.Duration.Seconds()
	if resume != nil {
		for _, s := range resume.Curves.EpochSeconds {
			duration += s
		}
	}
	r.res.Indicators = indicator.Compute(outcome.Curves)
	r.res.Indicators.DurationS = ptr(duration)
	r.res.Indicators.NbParams = ptr(net.NumParams())
	if err := r.writeModel(net); err != nil {
		return err
	}

	r.res.Status = result.StatusDone
	if outcome.DivergedEpoch > 0 {
		r.res.Status = result.StatusDiverged
		r.res.DivergedEpoch = ptr(outcome.DivergedEpoch)
	}
	r.log.Info("run finished", "status", r.res.Status, "epochs", r.res.Epochs, "duration_s", duration)
	return nil
}

// endEpoch is training's per-epoch callback: it logs the epoch, writes the
// checkpoint when asked to and reports progress to the caller.
func (r *runner) endEpoch(cp *training.Checkpoint) error {
	r.lastCheckpoint = cp
	c := cp.Curves
	e := len(c.TrainLoss) - 1
	if e < 0 {
		return nil
	}
	attrs := []any{"epoch", cp.Epoch, "train_loss", c.TrainLoss[e], "test_loss", at(c.TestLoss, e)}
	if len(c.TestAccuracy) > e {
		attrs = append(attrs, "train_accuracy", at(c.TrainAccuracy, e), "test_accuracy", c.TestAccuracy[e])
	}
	r.log.Info("epoch", attrs...)

	if r.opts.Checkpoint {
		if err := r.writeCheckpoint(cp); err != nil {
			return err
		}
	}
	if r.opts.OnEpoch != nil {
		r.opts.OnEpoch(cp.Epoch, r.spec.Pipeline.Process.Epochs, c.TrainLoss[e], at(c.TestLoss, e))
	}
	return nil
}

// setCurves stores curves in the result and in curves.csv. A failure to
// write the file is logged, because the curves are in the result anyway.
func (r *runner) setCurves(c result.Curves) {
	r.res.Curves = c
	r.res.Epochs = len(c.TrainLoss)
	if r.dir == "" {
		return
	}
	path := filepath.Join(r.dir, CurvesFile)
	if err := writeCurves(path, c); err != nil {
		r.log.Error("write curves", "error", err)
		return
	}
	r.res.Files["curves"] = path
}

// fail records err as the reason the run failed.
func (r *runner) fail(err error) {
	r.res.Status = result.StatusFailed
	r.res.Error = err.Error()
	r.log.Error("run failed", "error", err)
}

// interrupt records a run stopped by its context, with the curves of the
// epochs done.
func (r *runner) interrupt(err error) {
	r.res.Status = result.StatusRunning
	r.res.Error = ErrInterrupted.Error()
	if cp := r.lastCheckpoint; cp != nil && r.res.Epochs < cp.Epoch {
		r.setCurves(cp.Curves)
	}
	r.log.Warn("run interrupted", "error", err, "epochs_done", r.res.Epochs)
}

// checkLoss checks that the loss exists and suits the task and the network.
// A loss over class indices cannot train a regression; a loss over float
// targets trains a classification on one-hot targets. A loss that needs a
// certain network (NLLLoss: a log-softmax output) checks it itself.
func checkLoss(name string, task stage.Task, net *engine.Network) error {
	loss, err := engine.NewLoss(name)
	if err != nil {
		return fmt.Errorf("process loss_function: %w", err)
	}
	if loss.ClassTargets() && task != stage.Classification {
		return fmt.Errorf("process loss_function %s needs class targets, but the data is a %s task: use MSELoss", name, task)
	}
	if checker, ok := loss.(engine.NetworkChecker); ok {
		if err := checker.CheckNetwork(net); err != nil {
			return fmt.Errorf("process loss_function: %w", err)
		}
	}
	return nil
}

// shortStack keeps the first maxStackLines lines of a goroutine stack.
func shortStack(stack []byte) string {
	lines := strings.Split(strings.TrimSpace(string(stack)), "\n")
	if len(lines) > maxStackLines {
		lines = append(lines[:maxStackLines], "...")
	}
	return strings.Join(lines, "\n")
}

// at returns xs[i], or NaN when xs is too short.
func at(xs []float64, i int) float64 {
	if i < len(xs) {
		return xs[i]
	}
	return nan
}

func ptr[T any](v T) *T { return &v }
