package manager

import (
	"fmt"
	"io"
	"sort"
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

// NewTerminal returns a Progress for an interactive terminal. It redraws,
// at most every 200 ms, a summary line and one line per running run with
// its label and current epoch. It uses ANSI escape codes.
func NewTerminal(w io.Writer, width int) Progress {
	if width <= 0 {
		width = 100
	}
	return &terminal{w: w, width: width}
}

// redrawInterval throttles the terminal redraws.
const redrawInterval = 200 * time.Millisecond

type terminal struct {
	counts
	w     io.Writer
	width int
	// drawn is the number of lines the last redraw printed.
	drawn    int
	lastDraw time.Time
}

func (t *terminal) Start(total int) { t.begin(total) }

func (t *terminal) RunStarted(runID, label string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.running[runID] = &runningRun{label: label, started: time.Now()}
	t.redraw(true)
}

func (t *terminal) Epoch(runID, label string, epoch, total int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if r := t.running[runID]; r != nil {
		r.epoch, r.total = epoch, total
	}
	t.redraw(false)
}

func (t *terminal) RunFinished(runID string, status result.Status) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.running, runID)
	t.finished++
	if status != result.StatusDone {
		t.failed++
		// A run that did not finish done stays on screen above the display.
		t.clear()
		fmt.Fprintf(t.w, "%s %s\n", status, runID)
	}
	t.redraw(true)
}

func (t *terminal) Finish() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.clear()
}

// clear erases the lines of the last redraw and leaves the cursor at the
// first of them.
func (t *terminal) clear() {
	if t.drawn > 0 {
		fmt.Fprintf(t.w, "\x1b[%dA\x1b[J", t.drawn)
	}
	t.drawn = 0
}

// redraw prints the display again, unless the last redraw is too recent and
// force is false.
func (t *terminal) redraw(force bool) {
	if !force && time.Since(t.lastDraw) < redrawInterval {
		return
	}
	t.lastDraw = time.Now()
	var b strings.Builder
	b.WriteString(t.truncate(t.header()) + "\n")
	ids := make([]string, 0, len(t.running))
	for id := range t.running {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return t.running[ids[i]].started.Before(t.running[ids[j]].started) })
	for _, id := range ids {
		r := t.running[id]
		epoch := "preparing"
		if r.total > 0 {
			epoch = fmt.Sprintf("epoch %d/%d", r.epoch, r.total)
		}
		b.WriteString(t.truncate(fmt.Sprintf("  %-14s %s  %s", epoch, id, r.label)) + "\n")
	}
	t.clear()
	io.WriteString(t.w, b.String())
	t.drawn = 1 + len(ids)
}

// truncate cuts a line to the terminal width, so that no line wraps and the
// cursor movements of clear stay right.
func (t *terminal) truncate(line string) string {
	r := []rune(line)
	if len(r) < t.width {
		return line
	}
	return string(r[:t.width-1])
}
