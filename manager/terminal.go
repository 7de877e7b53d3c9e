package manager

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/mosaic-go/mosaic/result"
)

// NewTerminal returns a Progress for an interactive terminal of the given
// width in columns: a bar of finished runs with the running and not-done
// counts and an ETA, and below it one bar per running run with its label and
// current epoch. A run that ends other than done is printed above the bars
// and stays on screen. github.com/vbauerster/mpb draws and redraws the bars.
func NewTerminal(w io.Writer, width int) Progress {
	if width <= 0 {
		width = 100
	}
	return &terminal{w: w, width: width}
}

// labelWidth is the number of columns a run's label may take on its bar.
const labelWidth = 48

type terminal struct {
	w     io.Writer
	width int

	progress *mpb.Progress
	overall  *mpb.Bar
	// running and notDone are read by the overall bar's decorator, which
	// mpb calls from its own goroutine.
	running, notDone atomic.Int64

	mu   sync.Mutex
	runs map[string]*mpb.Bar
}

func (t *terminal) Start(total int) {
	t.runs = map[string]*mpb.Bar{}
	t.progress = mpb.New(
		mpb.WithOutput(t.w),
		mpb.WithWidth(min(40, t.width/3)),
		mpb.WithRefreshRate(200*time.Millisecond),
	)
	t.overall = t.progress.AddBar(int64(total),
		mpb.PrependDecorators(decor.Name("runs "), decor.CountersNoUnit("%d/%d", decor.WCSyncSpace)),
		mpb.AppendDecorators(
			decor.Any(func(decor.Statistics) string {
				return fmt.Sprintf("%d running, %d failed, diverged or interrupted", t.running.Load(), t.notDone.Load())
			}, decor.WCSyncSpace),
			decor.Name(" eta "),
			decor.AverageETA(decor.ET_STYLE_GO),
		),
	)
}

func (t *terminal) RunStarted(runID, label string) {
	t.running.Add(1)
	bar := t.progress.AddBar(0,
		mpb.BarRemoveOnComplete(),
		mpb.PrependDecorators(decor.Name(shorten(label, labelWidth), decor.WC{W: labelWidth, C: decor.DindentRight})),
		mpb.AppendDecorators(decor.Any(func(s decor.Statistics) string {
			if s.Total <= 0 {
				return "preparing " + runID
			}
			// Total is one more than the epochs: see Epoch.
			return fmt.Sprintf("epoch %d/%d %s", s.Current, s.Total-1, runID)
		})),
	)
	t.mu.Lock()
	t.runs[runID] = bar
	t.mu.Unlock()
}

func (t *terminal) Epoch(runID, _ string, epoch, total int) {
	t.mu.Lock()
	bar := t.runs[runID]
	t.mu.Unlock()
	if bar == nil {
		return
	}
	// Leave the last epoch to RunFinished, so the bar stays until the run's
	// result is in.
	bar.SetTotal(int64(total)+1, false)
	bar.SetCurrent(int64(epoch))
}

func (t *terminal) RunFinished(runID string, status result.Status) {
	t.mu.Lock()
	bar := t.runs[runID]
	delete(t.runs, runID)
	t.mu.Unlock()
	if bar != nil {
		bar.Abort(true)
		t.running.Add(-1)
	}
	switch status {
	case result.StatusDone:
	case result.StatusRunning:
		t.notDone.Add(1)
		fmt.Fprintf(t.progress, "interrupted %s: it resumes from its checkpoint on the next mosaic run\n", runID)
	default:
		t.notDone.Add(1)
		fmt.Fprintf(t.progress, "%s %s\n", status, runID)
	}
	t.overall.Increment()
}

func (t *terminal) Finish() {
	t.mu.Lock()
	for id, bar := range t.runs {
		bar.Abort(true)
		delete(t.runs, id)
	}
	t.mu.Unlock()
	// An interrupted study leaves the overall bar short of its total.
	if !t.overall.Completed() {
		t.overall.Abort(false)
	}
	t.progress.Wait()
}

// shorten cuts s to at most n runes, marking the cut with "…".
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
