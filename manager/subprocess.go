package manager

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mosaic-go/mosaic/jobrunner"
	"github.com/mosaic-go/mosaic/pipeline"
	"github.com/mosaic-go/mosaic/result"
)

// Files the manager writes in a run folder for its child.
const (
	// SpecFile is the run spec the child executes.
	SpecFile = "spec.json"
	// ChildLogFile receives the child's standard error, appended to.
	ChildLogFile = "child.log"
)

// DefaultKillGrace is how long a child has to exit after SIGTERM before it
// is sent SIGKILL.
const DefaultKillGrace = 10 * time.Second

// logTailLines is the number of lines of the child's standard error that a
// failed run's error message ends with.
const logTailLines = 20

// Subprocess runs each task in a child process: the mosaic binary
// re-executed with the hidden exec-run command, which runs ExecChild. A
// panic, a crash or an out-of-memory kill of the child becomes a failed
// result instead of taking the manager down.
type Subprocess struct {
	// Command is the program and its leading arguments; ExecChild's flags
	// follow them. Empty means the running executable with "exec-run".
	Command []string
	// Env is added to the manager's environment for the child.
	Env []string
	// Cache is the data cache passed to the child.
	Cache CacheConfig
	// RunTimeout kills a child that runs longer, and the run is stored as
	// timeout; 0 means no limit.
	RunTimeout time.Duration
	// KillGrace is the time between SIGTERM and SIGKILL; 0 means
	// DefaultKillGrace.
	KillGrace time.Duration
}

var _ Executor = Subprocess{}

// Execute implements Executor. The child's result document, spec and
// standard error go to the run folder. On cancellation the child gets
// SIGTERM, checkpoints and exits. On timeout it gets SIGTERM too, then
// SIGKILL after KillGrace in both cases.
func (e Subprocess) Execute(ctx context.Context, task Task) *result.Result {
	spec := task.Spec
	runDir := filepath.Join(spec.Pipeline.RunFilesPath, spec.RunID)
	cmd, err := e.command(spec, runDir, task.GPUs)
	if err != nil {
		return failedResult(spec, task.GPUs, err)
	}
	tail := &tailWriter{max: logTailLines}
	logFile, err := os.OpenFile(filepath.Join(runDir, ChildLogFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return failedResult(spec, task.GPUs, fmt.Errorf("open child log: %w", err))
	}
	defer logFile.Close()
	cmd.Stderr = io.MultiWriter(logFile, tail)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return failedResult(spec, task.GPUs, fmt.Errorf("start child process: %w", err))
	}

	if err := cmd.Start(); err != nil {
		return failedResult(spec, task.GPUs, fmt.Errorf("start child process %s: %w", cmd.Path, err))
	}
	events := readEvents(stdout, task, tail)
	timedOut, waitErr := e.wait(ctx, cmd, events)

	return e.outcome(ctx, task, runDir, cmd, waitErr, timedOut, tail)
}

// command prepares the child process of a run: its spec file, arguments
// and environment.
func (e Subprocess) command(spec pipeline.Spec, runDir string, gpus []string) (*exec.Cmd, error) {
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		return nil, fmt.Errorf("create run folder: %w", err)
	}
	specPath := filepath.Join(runDir, SpecFile)
	if err := pipeline.WriteSpec(specPath, spec); err != nil {
		return nil, fmt.Errorf("write run spec: %w", err)
	}
	// A result left by an earlier, interrupted execution must not be read
	// as this one's.
	resultPath := filepath.Join(runDir, spec.RunID+".json")
	if err := os.Remove(resultPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove old result: %w", err)
	}

	program := e.Command
	if len(program) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find the mosaic executable to start a child process: %w", err)
		}
		program = []string{exe, "exec-run"}
	}
	args := append(append([]string(nil), program[1:]...), childArgs(specPath, runDir, e.Cache)...)
	cmd := exec.Command(program[0], args...)
	cmd.Env = append(append(os.Environ(), e.Env...), gpuEnv(gpus)...)
	setProcessGroup(cmd)
	return cmd, nil
}

// gpuEnv returns the CUDA_VISIBLE_DEVICES setting of a child with devices
// assigned. A child without devices inherits the manager's environment.
func gpuEnv(gpus []string) []string {
	if len(gpus) == 0 {
		return nil
	}
	return []string{"CUDA_VISIBLE_DEVICES=" + visibleDevices(gpus)}
}

// wait waits for the child to exit, sending it SIGTERM on cancellation or
// timeout and SIGKILL after the grace period. It returns whether the run
// timed out and cmd.Wait's error.
func (e Subprocess) wait(ctx context.Context, cmd *exec.Cmd, events <-chan struct{}) (bool, error) {
	exited := make(chan error, 1)
	go func() {
		<-events // Wait reads nothing more once the pipe is drained.
		exited <- cmd.Wait()
	}()
	var timeout <-chan time.Time
	if e.RunTimeout > 0 {
		timer := time.NewTimer(e.RunTimeout)
		defer timer.Stop()
		timeout = timer.C
	}
	grace := e.KillGrace
	if grace <= 0 {
		grace = DefaultKillGrace
	}

	timedOut := false
	select {
	case err := <-exited:
		return false, err
	case <-ctx.Done():
	case <-timeout:
		timedOut = true
	}
	signalGroup(cmd, syscall.SIGTERM)
	kill := time.NewTimer(grace)
	defer kill.Stop()
	select {
	case err := <-exited:
		return timedOut, err
	case <-kill.C:
		signalGroup(cmd, syscall.SIGKILL)
		return timedOut, <-exited
	}
}

// outcome turns the child's exit into the run's result.
func (e Subprocess) outcome(ctx context.Context, task Task, runDir string, cmd *exec.Cmd,
	waitErr error, timedOut bool, tail *tailWriter) *result.Result {
	spec := task.Spec
	code, signal := exitStatus(cmd, waitErr)
	res, readErr := jobrunner.ReadResult(filepath.Join(runDir, spec.RunID+".json"))
	childResult := false

	switch {
	case timedOut:
		res = baseResult(spec, task.GPUs)
		res.Status = result.StatusTimeout
		res.Error = fmt.Sprintf("run timed out after %s and was killed (%s)%s", e.RunTimeout, describeExit(code, signal), tail.suffix())
	case ctx.Err() != nil && readErr != nil:
		res = baseResult(spec, task.GPUs)
		res.Error = jobrunner.ErrInterrupted.Error()
	case readErr == nil && (code == jobrunner.ExitDone || code == jobrunner.ExitFailed):
		// The child's own account of the run, with the manager's
		// assignment of devices.
		res.GPUs = task.GPUs
		childResult = true
	default:
		res = baseResult(spec, task.GPUs)
		res.Status = result.StatusFailed
		res.Error = fmt.Sprintf("child process %s%s", describeExit(code, signal), tail.suffix())
		if readErr != nil && code == jobrunner.ExitDone {
			res.Error = fmt.Sprintf("child process exited with status 0 but wrote no readable result: %v", readErr)
		}
	}
	if !childResult {
		addCheckpointProgress(res, spec, runDir)
	}
	if res.ExitCode == nil && code >= 0 {
		res.ExitCode = &code
	}
	res.Files["child_log"] = filepath.Join(runDir, ChildLogFile)
	return res
}

// exitStatus returns the child's exit code, and the signal that killed it
// if any. A child killed by a signal gets the code 128+signal, as shells
// report it. The code is -1 when the child never ran.
func exitStatus(cmd *exec.Cmd, waitErr error) (int, syscall.Signal) {
	state := cmd.ProcessState
	if state == nil {
		return -1, 0
	}
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal()), ws.Signal()
	}
	return state.ExitCode(), 0
}

// describeExit describes how a child ended, for error messages.
func describeExit(code int, signal syscall.Signal) string {
	switch {
	case signal != 0:
		return fmt.Sprintf("was killed by signal %s (exit status %d)", signalName(signal), code)
	case code < 0:
		return "did not run"
	default:
		return "exited with status " + strconv.Itoa(code)
	}
}

// signalName returns the conventional name of a signal, such as SIGKILL.
func signalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGKILL:
		return "SIGKILL"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGSEGV:
		return "SIGSEGV"
	case syscall.SIGABRT:
		return "SIGABRT"
	}
	return s.String()
}

// readEvents parses the child's event lines from its standard output into
// the task's callbacks. Lines that are not events go to tail, so they show
// in a failure's error. The returned channel is closed at end of output.
func readEvents(stdout io.Reader, task Task, tail *tailWriter) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		scanner := bufio.NewScanner(stdout)
		scanner.Buffer(make([]byte, 64<<10), 1<<20)
		for scanner.Scan() {
			ev, err := jobrunner.ParseChildEvent(scanner.Bytes())
			if err != nil {
				tail.Write(append(scanner.Bytes(), '\n'))
				continue
			}
			switch {
			case ev.Type == jobrunner.EventEpoch && task.OnEpoch != nil:
				task.OnEpoch(ev.Epoch, ev.Total)
			case ev.Type == jobrunner.EventDataCache && task.OnDataCache != nil && ev.Hit != nil:
				task.OnDataCache(*ev.Hit)
			}
		}
		io.Copy(io.Discard, stdout) // Drain a line too long for the scanner.
	}()
	return done
}

// tailWriter keeps the last max lines written to it.
type tailWriter struct {
	mu      sync.Mutex
	max     int
	lines   []string
	partial string
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	text := t.partial + string(p)
	parts := strings.Split(text, "\n")
	t.partial = parts[len(parts)-1]
	for _, line := range parts[:len(parts)-1] {
		t.lines = append(t.lines, line)
		if len(t.lines) > t.max {
			t.lines = t.lines[1:]
		}
	}
	return len(p), nil
}

// suffix returns ": " and the kept lines, or "" when none were written.
func (t *tailWriter) suffix() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := t.lines
	if t.partial != "" {
		lines = append(append([]string(nil), lines...), t.partial)
	}
	if len(lines) == 0 {
		return ""
	}
	return ":\n" + strings.Join(lines, "\n")
}
