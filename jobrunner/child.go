package jobrunner

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/mosaic-go/mosaic/pipeline"
	"github.com/mosaic-go/mosaic/result"
)

// Exit statuses of a process that runs one spec with RunChild: the hidden
// `mosaic exec-run` child of the run manager, and mosaic-job.
const (
	// ExitDone: the run ended done or diverged, and its result is written.
	ExitDone = 0
	// ExitFailed: the run failed, and its result holds the error, or the
	// result could not be written.
	ExitFailed = 1
	// ExitUsage: the arguments or the spec are invalid; no result is written.
	ExitUsage = 2
	// ExitCheckpointed: a signal stopped the run after its last epoch
	// checkpoint. No result is written, and the next start resumes.
	ExitCheckpointed = 85
)

// ChildOptions configures RunChild.
type ChildOptions struct {
	// OutDir is the folder of the result document <run_id>.json.
	OutDir string
	// RunDir is the folder of the per-run files; empty means
	// <spec.Pipeline.RunFilesPath>/<spec.RunID>.
	RunDir string
	// GPUs are the devices the process was given, recorded as given.
	GPUs []string
	// DataCache, when set, caches the prepared data; see Options.DataCache.
	DataCache DataCache
	// Events, when set, receives one JSON line (a ChildEvent) per finished
	// epoch and per data cache lookup.
	Events io.Writer
}

// Types of ChildEvent.
const (
	EventEpoch     = "epoch"
	EventDataCache = "data_cache"
)

// ChildEvent is one line of the event stream of RunChild, which the run
// manager reads from its child's standard output.
type ChildEvent struct {
	Type  string `json:"type"`
	RunID string `json:"run_id"`
	// Epoch and Total are set for EventEpoch: the 1-based epoch finished
	// and the number of epochs the run trains in all.
	Epoch int `json:"epoch,omitempty"`
	Total int `json:"total,omitempty"`
	// TrainLoss and TestLoss are the epoch's losses; nil when not finite,
	// because JSON has no NaN.
	TrainLoss *float64 `json:"train_loss,omitempty"`
	TestLoss  *float64 `json:"test_loss,omitempty"`
	// Hit is set for EventDataCache: whether the prepared data came from
	// the cache.
	Hit *bool `json:"hit,omitempty"`
}

// ParseChildEvent decodes one line of a child's event stream.
func ParseChildEvent(line []byte) (ChildEvent, error) {
	var ev ChildEvent
	if err := json.Unmarshal(line, &ev); err != nil {
		return ev, fmt.Errorf("decode child event %q: %w", line, err)
	}
	if ev.Type != EventEpoch && ev.Type != EventDataCache {
		return ev, fmt.Errorf("decode child event %q: unknown type %q", line, ev.Type)
	}
	return ev, nil
}

// RunChild runs spec with a checkpoint after every epoch, resuming from the
// run folder's checkpoint when there is one, and returns the result with
// the process's exit status. A run that ends (done, diverged or failed) gets
// that status as ExitCode and its result is written to OutDir. A run that
// ctx stopped first writes no result and returns ExitCheckpointed. The
// returned error is set only when the result could not be written.
func RunChild(ctx context.Context, spec pipeline.Spec, opts ChildOptions) (*result.Result, int, error) {
	events := &eventWriter{w: opts.Events, runID: spec.RunID}
	res := Run(ctx, spec, Options{
		RunDir:      opts.RunDir,
		Checkpoint:  true,
		Resume:      true,
		GPUs:        opts.GPUs,
		DataCache:   opts.DataCache,
		OnDataCache: events.dataCache,
		OnEpoch:     events.epoch,
	})
	if ctx.Err() != nil && res.Status == result.StatusRunning {
		return res, ExitCheckpointed, nil
	}

	code := ExitDone
	if res.Status != result.StatusDone && res.Status != result.StatusDiverged {
		code = ExitFailed
	}
	res.ExitCode = &code
	if _, err := WriteResult(opts.OutDir, res); err != nil {
		return res, ExitFailed, fmt.Errorf("run %s: %w", spec.RunID, err)
	}
	return res, code, nil
}

// eventWriter writes ChildEvent lines. Write errors are ignored: the
// events only feed a progress display, and the result is what counts.
type eventWriter struct {
	mu    sync.Mutex
	w     io.Writer
	runID string
}

func (e *eventWriter) epoch(epoch, total int, trainLoss, testLoss float64) {
	e.write(ChildEvent{Type: EventEpoch, RunID: e.runID, Epoch: epoch, Total: total,
		TrainLoss: finitePointer(trainLoss), TestLoss: finitePointer(testLoss)})
}

func (e *eventWriter) dataCache(hit bool) {
	e.write(ChildEvent{Type: EventDataCache, RunID: e.runID, Hit: &hit})
}

func (e *eventWriter) write(ev ChildEvent) {
	if e.w == nil {
		return
	}
	line, err := json.Marshal(ev)
	if err != nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.w.Write(append(line, '\n'))
}

// finitePointer returns &v, or nil for NaN and ±Inf.
func finitePointer(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}
