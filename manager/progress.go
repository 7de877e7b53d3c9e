package manager

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/mosaic-go/mosaic/result"
)

// Progress receives the events of a study as it runs. Methods may be called
// from several goroutines.
type Progress interface {
	// Start is called once with the number of runs to do.
	Start(total int)
	RunStarted(runID, label string)
	// Epoch reports that a run finished epoch `epoch` of `total`.
	Epoch(runID, label string, epoch, total int)
	RunFinished(runID string, status result.Status)
	// Finish is called once when the study stops.
	Finish()
}

type nopProgress struct{}

func (nopProgress) Start(int)                         {}
func (nopProgress) RunStarted(string, string)         {}
func (nopProgress) Epoch(string, string, int, int)    {}
func (nopProgress) RunFinished(string, result.Status) {}
func (nopProgress) Finish()                           {}

// NewBar returns a Progress that draws a progress bar of finished runs with
// an ETA on a terminal. github.com/schollz/progressbar does the drawing.
func NewBar(w io.Writer) Progress {
	return &bar{w: w}
}

type bar struct {
	w      io.Writer
	mu     sync.Mutex
	bar    *progressbar.ProgressBar
	failed int
}

func (b *bar) Start(total int) {
	b.bar = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(b.w),
		progressbar.OptionSetDescription("runs"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}

func (b *bar) RunStarted(string, string)      {}
func (b *bar) Epoch(string, string, int, int) {}

func (b *bar) RunFinished(_ string, status result.Status) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if status != result.StatusDone {
		b.failed++
		b.bar.Describe(fmt.Sprintf("runs (%d not done)", b.failed))
	}
	_ = b.bar.Add(1)
}

func (b *bar) Finish() {
	_ = b.bar.Finish()
}

// NewLines returns a Progress that prints one plain line per finished run,
// for logs and terminals that are not interactive (CI, nohup).
func NewLines(w io.Writer) Progress {
	return &lines{w: w}
}

type lines struct {
	w     io.Writer
	mu    sync.Mutex
	total int
	done  int
	start time.Time
}

func (l *lines) Start(total int) {
	l.total = total
	l.start = time.Now()
}

func (l *lines) RunStarted(string, string)      {}
func (l *lines) Epoch(string, string, int, int) {}

func (l *lines) RunFinished(runID string, status result.Status) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.done++
	elapsed := time.Since(l.start)
	eta := time.Duration(float64(elapsed) / float64(l.done) * float64(l.total-l.done))
	fmt.Fprintf(l.w, "[%d/%d] %s %s (eta %s)\n", l.done, l.total, runID, status, eta.Round(time.Second))
}

func (l *lines) Finish() {}
