package manager

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/mosaic-go/mosaic/config"
	"github.com/mosaic-go/mosaic/pipeline"
	"github.com/mosaic-go/mosaic/result"
	"github.com/mosaic-go/mosaic/store"
)

// progressInterval is how often the epochs of running runs and the cache
// counters are written to the database, for `mosaic status`.
const progressInterval = 2 * time.Second

// scheduler starts runs on free slots and devices.
type scheduler struct {
	exec    Executor
	workers int
	// gpus is nil when runs need no GPU.
	gpus *gpuPool
}

// newScheduler checks the [MONITOR] settings of the config at source and
// returns a scheduler for them. workers > 0 overrides nb_processus.
func newScheduler(mon config.Monitor, source string, workers int, opts ExecOptions) (*scheduler, error) {
	if workers <= 0 {
		workers = mon.Processes
	}
	s := &scheduler{workers: max(1, workers), exec: opts.Executor}
	if opts.RunsPerGPU < 0 {
		return nil, fmt.Errorf("invalid --runs-per-gpu %d: expected 1 or more", opts.RunsPerGPU)
	}
	if mon.NeedGPU {
		pool, err := newGPUPool(mon.GPUs, max(1, opts.RunsPerGPU))
		if err != nil {
			return nil, fmt.Errorf("%s: [MONITOR] %w", source, err)
		}
		s.gpus = pool
		s.workers = min(s.workers, pool.capacity())
	}

	if s.exec == nil {
		cache := CacheConfig{Dir: mon.CacheDatabasePath, MaxBytes: mon.CacheSize}
		if opts.InProcess {
			s.exec = InProcess{Cache: cache, RunTimeout: opts.RunTimeout}
		} else {
			s.exec = Subprocess{Command: opts.ChildCommand, Env: opts.ChildEnv, Cache: cache,
				RunTimeout: opts.RunTimeout, KillGrace: opts.KillGrace}
		}
	}
	return s, nil
}

// slots returns the number of runs executed at once for n runs to do.
func (s *scheduler) slots(n int) int { return max(1, min(s.workers, n)) }

// batch is a list of runs to execute and how to store their results.
type batch struct {
	specs []pipeline.Spec
	// markRunning stores each run as running when it starts.
	markRunning bool
	// previous is the stored status of each run before this execution, for
	// the log; missing for new runs.
	previous map[string]result.Status
	// record stores a result; an error stops the batch.
	record func(*result.Result) error
}

// finished is a run whose executor returned.
type finished struct {
	spec   pipeline.Spec
	device string
	res    *result.Result
}

// execute runs the batch and stores what the runs report from this
// goroutine only, so the database has a single writer. A store error stops
// the batch: results that cannot be kept are not worth computing.
func (s *scheduler) execute(ctx context.Context, st *store.Store, b *batch, progress Progress,
	log *slog.Logger, sum *Summary) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	slots := s.slots(len(b.specs))
	done := make(chan finished)
	track := &tracker{epochs: map[string]int{}}
	ticker := time.NewTicker(progressInterval)
	defer ticker.Stop()
	progress.Start(len(b.specs))
	defer progress.Finish()

	next, running := 0, 0
	var storeErr error
	for {
		for storeErr == nil && ctx.Err() == nil && running < slots && next < len(b.specs) {
			device := ""
			if s.gpus != nil {
				d, ok := s.gpus.acquire()
				if !ok {
					break
				}
				device = d
			}
			spec := b.specs[next]
			next++
			if err := s.start(ctx, st, b, spec, device, log); err != nil {
				storeErr = err
				cancel()
				s.release(device)
				break
			}
			running++
			progress.RunStarted(spec.RunID, spec.Pipeline.Label)
			go func() {
				res := s.exec.Execute(ctx, s.task(spec, device, track, progress))
				done <- finished{spec: spec, device: device, res: res}
			}()
		}
		if running == 0 {
			break
		}

		select {
		case f := <-done:
			running--
			s.release(f.device)
			track.flush(st, log)
			logResult(log, f.res, sum)
			if err := b.record(f.res); err != nil && storeErr == nil {
				storeErr = err
				cancel()
			}
			progress.RunFinished(f.res.RunID, f.res.Status)
		case <-ticker.C:
			track.flush(st, log)
		}
	}
	track.flush(st, log)
	sum.CacheHits, sum.CacheMisses = track.totalHits, track.totalMisses

	if storeErr != nil {
		return storeErr
	}
	if ctx.Err() != nil {
		return fmt.Errorf("study interrupted: %w", ctx.Err())
	}
	return nil
}

// start records and logs the start of a run.
func (s *scheduler) start(ctx context.Context, st *store.Store, b *batch, spec pipeline.Spec,
	device string, log *slog.Logger) error {
	attrs := []any{"run_id", spec.RunID, "pipeline", spec.Pipeline.ID, "label", spec.Pipeline.Label,
		"replica", spec.Replica, "epochs", spec.Pipeline.Process.Epochs}
	if device != "" {
		attrs = append(attrs, "gpu", device)
	}
	switch prev := b.previous[spec.RunID]; prev {
	case "":
		log.Info("run started", attrs...)
	case result.StatusRunning:
		log.Info("run resumed", attrs...)
	default:
		log.Info("run retried", append(attrs, "previous_status", prev)...)
	}

	if !b.markRunning {
		return nil
	}
	if err := st.MarkRunning(ctx, spec, time.Now()); err != nil {
		return fmt.Errorf("mark run %s running: %w", spec.RunID, err)
	}
	if device != "" {
		if err := st.SetRunGPUs(ctx, spec.RunID, []string{device}); err != nil {
			return err
		}
	}
	return nil
}

// task returns the task of a run, with callbacks that feed the progress
// display and the tracker.
func (s *scheduler) task(spec pipeline.Spec, device string, track *tracker, progress Progress) Task {
	t := Task{
		Spec: spec,
		OnEpoch: func(epoch, total int) {
			track.epoch(spec.RunID, epoch)
			progress.Epoch(spec.RunID, spec.Pipeline.Label, epoch, total)
		},
		OnDataCache: track.dataCache,
	}
	if device != "" {
		t.GPUs = []string{device}
	}
	return t
}

func (s *scheduler) release(device string) {
	if s.gpus != nil && device != "" {
		s.gpus.release(device)
	}
}

// logResult logs how a run ended and counts it in sum.
func logResult(log *slog.Logger, r *result.Result, sum *Summary) {
	attrs := []any{"run_id", r.RunID, "status", r.Status, "epochs", r.Epochs}
	if r.ExitCode != nil {
		attrs = append(attrs, "exit_code", *r.ExitCode)
	}
	switch r.Status {
	case result.StatusDone:
		sum.Done++
		log.Info("run finished", append(attrs, "test_loss", deref(r.Indicators.TestLoss))...)
	case result.StatusDiverged:
		sum.Diverged++
		log.Warn("run diverged", append(attrs, "diverged_epoch", r.DivergedEpoch)...)
	case result.StatusRunning:
		sum.Interrupted++
		log.Info("run interrupted", attrs...)
	case result.StatusTimeout:
		sum.TimedOut++
		log.Error("run timed out", append(attrs, "error", r.Error)...)
	default:
		sum.Failed++
		log.Error("run failed", append(attrs, "error", r.Error)...)
	}
}

// tracker collects the epochs and cache lookups that children report, for
// the database. The executors' goroutines write it, and the scheduler's
// goroutine flushes it.
type tracker struct {
	mu     sync.Mutex
	epochs map[string]int
	hits   int
	misses int
	// totalHits and totalMisses are read by the scheduler's goroutine only.
	totalHits, totalMisses int
}

func (t *tracker) epoch(runID string, epoch int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.epochs[runID] = epoch
}

func (t *tracker) dataCache(hit bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if hit {
		t.hits++
	} else {
		t.misses++
	}
}

// flush writes what was reported since the last flush. A failure is logged
// and the study goes on, because this is monitoring data only.
func (t *tracker) flush(st *store.Store, log *slog.Logger) {
	t.mu.Lock()
	epochs, hits, misses := t.epochs, t.hits, t.misses
	t.epochs, t.hits, t.misses = map[string]int{}, 0, 0
	t.mu.Unlock()
	t.totalHits += hits
	t.totalMisses += misses

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if len(epochs) > 0 {
		if err := st.SetRunProgress(ctx, epochs); err != nil {
			log.Warn("record run progress failed", "error", err)
		}
	}
	if hits > 0 || misses > 0 {
		if err := st.AddCacheCounts(ctx, store.CacheCounts{Hits: int64(hits), Misses: int64(misses)}); err != nil {
			log.Warn("record data cache counters failed", "error", err)
		}
	}
}
