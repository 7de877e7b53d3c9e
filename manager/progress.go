package manager

import (
	"fmt"
	"io"
	"strings"
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
	// byStatus counts the runs that ended, by status; interrupted runs are
	// counted under result.StatusRunning and not as finished.
	byStatus map[result.Status]int
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
	c.byStatus = map[result.Status]int{}
}

// end records a run that ended with status.
func (c *counts) end(runID string, status result.Status) {
	delete(c.running, runID)
	c.byStatus[status]++
	if status != result.StatusRunning {
		c.finished++
	}
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

// header returns the one-line summary, for example
// "runs: 12/20 finished (11 done, 1 failed), 2 running, eta 5s".
func (c *counts) header() string {
	var parts []string
	for _, st := range []result.Status{result.StatusDone, result.StatusDiverged, result.StatusFailed, result.StatusTimeout} {
		if n := c.byStatus[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, st))
		}
	}
	line := fmt.Sprintf("runs: %d/%d finished", c.finished, c.total)
	if len(parts) > 0 {
		line += " (" + strings.Join(parts, ", ") + ")"
	}
	line += fmt.Sprintf(", %d running", len(c.running))
	if n := c.byStatus[result.StatusRunning]; n > 0 {
		line += fmt.Sprintf(", %d interrupted", n)
	}
	return line + ", eta " + c.eta()
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
	l.end(runID, status)
	word := string(status)
	if status == result.StatusRunning {
		word = "interrupted"
	}
	fmt.Fprintf(l.w, "%s %s [%s]\n", word, runID, l.header())
}

func (l *lines) Finish() {}
