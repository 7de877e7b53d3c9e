// Package submit sends a study to a batch scheduler. The shared code here
// expands the config, writes one run spec per run and a run list, gets the
// submit descriptions from a backend, writes them, runs the scheduler's
// submit command and records the job ids. A backend (submit/slurm,
// submit/condor) supplies only the description text, the command and the
// job id parser. Submit never trains: mosaic-job does, on the nodes.
package submit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"github.com/mosaic-go/mosaic/pipeline"
	"github.com/mosaic-go/mosaic/submit/layout"
)

// Resources are the per-run requests made to the scheduler.
type Resources struct {
	// CPUs is the number of cores per run; 0 means 1.
	CPUs int
	// MemMB is the memory per run in MiB; 0 leaves the scheduler's default.
	MemMB int
	// TimeMinutes is the wall time limit per run; 0 leaves the scheduler's
	// default.
	TimeMinutes int
	// GPUs is the number of GPUs per run; 0 requests none.
	GPUs int
}

// Batch is one submission as a backend renders it: the runs, in the order
// of the run list, and everything their descriptions need.
type Batch struct {
	Paths layout.Paths
	// Submission is the 1-based number of this submission in the study.
	Submission int
	// ListFile is the run list: one run id per line, in the order of Specs.
	ListFile string
	Specs    []pipeline.Spec
	// JobBinary is the absolute path of the static mosaic-job binary.
	JobBinary string
	Resources Resources
	// MaxRunning caps the runs of one Slurm array running at once; 0 means
	// no cap.
	MaxRunning int
	// MaxIdle caps the idle HTCondor jobs at once; 0 means no cap.
	MaxIdle int
	// MaxRetries is how many times HTCondor restarts a failed job.
	MaxRetries int
	// TemplateFile, when set, replaces the backend's embedded template.
	TemplateFile string
	// PostURL, when set, is passed to every job as --post-url, so the job
	// also posts its result to a `mosaic collect --listen` receiver.
	PostURL string
	// TokenFile is the absolute path of the receiver's token file, or empty
	// when jobs read the token from MOSAIC_TOKEN.
	TokenFile string
}

// RunIDs returns the run ids of the batch in list order.
func (b *Batch) RunIDs() []string {
	ids := make([]string, len(b.Specs))
	for i, s := range b.Specs {
		ids[i] = s.RunID
	}
	return ids
}

// Description is one rendered submit description and the slice of the run
// list it covers.
type Description struct {
	// Name is the file name under the study's submit/ folder.
	Name string
	Text []byte
	// Offset is the index in the run list of the first run covered; Count
	// is the number of runs covered.
	Offset int
	Count  int
}

// Backend is the scheduler-specific part of a submission.
type Backend interface {
	// Name is the scheduler's name, as recorded in jobs.json: "slurm" or
	// "condor".
	Name() string
	// Render returns the submit descriptions that together cover every run
	// of the batch exactly once.
	Render(ctx context.Context, b *Batch) ([]Description, error)
	// Command returns the command line that submits the description at path.
	Command(path string) []string
	// ParseJobID returns the job id in the submit command's output.
	ParseJobID(output []byte) (string, error)
}

// Runner runs a scheduler command and returns its standard output. It is
// the process boundary that tests replace.
type Runner func(ctx context.Context, name string, args ...string) ([]byte, error)

// ErrCommandNotFound reports that a scheduler command is not on PATH.
var ErrCommandNotFound = errors.New("command not found")

// CommandError is a scheduler command that failed, with what it printed.
type CommandError struct {
	Command []string
	Output  string
	Err     error
}

func (e *CommandError) Error() string {
	out := strings.TrimSpace(e.Output)
	if out == "" {
		out = "(no output)"
	}
	return fmt.Sprintf("%s: %v; its output:\n%s", strings.Join(e.Command, " "), e.Err, out)
}

func (e *CommandError) Unwrap() error { return e.Err }

// Exec runs name with args through os/exec. A missing command wraps
// ErrCommandNotFound; a failed one returns a *CommandError holding its
// standard output and standard error.
func Exec(ctx context.Context, name string, args ...string) ([]byte, error) {
	if _, err := exec.LookPath(name); err != nil {
		return nil, fmt.Errorf("run %s: %w on PATH", name, ErrCommandNotFound)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), &CommandError{
			Command: append([]string{name}, args...),
			Output:  stdout.String() + stderr.String(),
			Err:     err,
		}
	}
	return stdout.Bytes(), nil
}
