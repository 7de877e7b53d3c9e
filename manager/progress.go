package manager

import (
	"fmt"
	"io"
	"sync"
	"time"

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

// counts is the state both displays share: totals, running runs and the ETA.
type counts struct {
	mu       sync.Mutex
	total    int
	finished int
	failed   int
	start    time.Time
	running  map[string]*runningRun
}

type runningRun struct {
	label        string
	epoch, total int
	started      time.Time
}

func (c *counts) begin(total int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total = total
	c.start = time.Now()
	c.running = map[string]*runningRun{}
}

// eta estimates the time left from the throughput of the finished runs,
// which accounts for the runs executed in parallel. It returns "?" before
// the first run finishes.
func (c *counts) eta() string {
	if c.finished == 0 {
		return "?"
	}
	perRun := time.Since(c.start) / time.Duration(c.finished)
	return (perRun * time.Duration(c.total-c.finished)).Round(time.Second).String()
}

// header returns the one-line summary: done, running, failed, total, ETA.
func (c *counts) header() string {
	return fmt.Sprintf("runs: %d/%d finished, %d running, %d not done, eta %s",
		c.finished, c.total, len(c.running), c.failed, c.eta())
}

// NewLines returns a Progress that prints one plain line per started and
// per finished run, for logs and terminals that are not interactive (CI,
// nohup).
func NewLines(w io.Writer) Progress {
	return &lines{w: w}
}

type lines struct {
	counts
	w io.Writer
}

func (l *lines) Start(total int) { l.begin(total) }

func (l *lines) RunStarted(runID, label string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.running[runID] = &runningRun{label: label, started: time.Now()}
	fmt.Fprintf(l.w, "started %s %s\n", runID, label)
}

func (l *lines) Epoch(string, string, int, int) {}

func (l *lines) RunFinished(runID string, status result.Status) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.running, runID)
	l.finished++
	if status != result.StatusDone {
		l.failed++
	}
	fmt.Fprintf(l.w, "%s %s [%s]\n", status, runID, l.header())
}

func (l *lines) Finish() {}
