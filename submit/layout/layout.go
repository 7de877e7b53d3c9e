// Package layout names every file of a cluster study folder: the run specs
// submit writes, the run lists job arrays read, the submit descriptions, the
// scheduler logs, the per-run folders with their checkpoints and the results jobs write. Submit,
// mosaic-job, collect and status all find their files through Paths, so the
// folder's shape is defined once.
package layout

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Paths names the files of one study folder. Dir should be absolute, since
// jobs on other nodes and scheduler descriptions resolve paths from it.
type Paths struct {
	Dir string
}

// New returns the Paths of the study folder dir, made absolute.
func New(dir string) (Paths, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Paths{}, fmt.Errorf("resolve study folder %s: %w", dir, err)
	}
	return Paths{Dir: abs}, nil
}

// Pipelines is the folder of run specs.
func (p Paths) Pipelines() string { return filepath.Join(p.Dir, "pipelines") }

// Spec is the run spec of runID: pipelines/<run_id>.json.
func (p Paths) Spec(runID string) string {
	return filepath.Join(p.Pipelines(), runID+".json")
}

// Results is the folder jobs write result documents into.
func (p Paths) Results() string { return filepath.Join(p.Dir, "results") }

// Result is the result document of runID: results/<run_id>.json.
func (p Paths) Result(runID string) string {
	return filepath.Join(p.Results(), runID+".json")
}

// RunDir is the folder of runID's per-run files (checkpoint, curves,
// weights, log): runs/<run_id>. It is under the study folder so that a
// requeued job, on whichever node, resumes from the same checkpoint.
func (p Paths) RunDir(runID string) string {
	return filepath.Join(p.Dir, "runs", runID)
}

// Logs is the folder of scheduler logs (stdout and stderr of each job).
func (p Paths) Logs() string { return filepath.Join(p.Dir, "logs") }

// Lists is the folder of run lists, one per submission.
func (p Paths) Lists() string { return filepath.Join(p.Dir, "lists") }

// List is the run list of submission n (1-based): lists/runs-<n>.txt.
func (p Paths) List(n int) string {
	return filepath.Join(p.Lists(), fmt.Sprintf("runs-%d.txt", n))
}

// Descriptions is the folder of rendered submit descriptions.
func (p Paths) Descriptions() string { return filepath.Join(p.Dir, "submit") }

// Description is the submit description named name, for example
// "slurm-1-0.sbatch" for chunk 0 of submission 1.
func (p Paths) Description(name string) string {
	return filepath.Join(p.Descriptions(), name)
}

// Jobs is the record of the jobs submitted with `--now`.
func (p Paths) Jobs() string { return filepath.Join(p.Dir, "jobs.json") }

// NextSubmission returns the number of the next submission: one more than
// the highest existing run list, so a new submission never rewrites a list
// that queued jobs of an earlier one still read.
func (p Paths) NextSubmission() (int, error) {
	entries, err := os.ReadDir(p.Lists())
	if errors.Is(err, os.ErrNotExist) {
		return 1, nil
	}
	if err != nil {
		return 0, fmt.Errorf("list run lists in %s: %w", p.Lists(), err)
	}
	last := 0
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, "runs-") || !strings.HasSuffix(name, ".txt") {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(name, "runs-"), ".txt"))
		if err == nil && n > last {
			last = n
		}
	}
	return last + 1, nil
}

// WriteList writes runIDs to path, one per line, creating its folder. The
// file is written to a temporary name and renamed, so a job never reads a
// partial list.
func WriteList(path string, runIDs []string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create folder of run list %s: %w", path, err)
	}
	var b strings.Builder
	for _, id := range runIDs {
		if id == "" || strings.ContainsAny(id, " \t\r\n") {
			return fmt.Errorf("write run list %s: invalid run id %q", path, id)
		}
		b.WriteString(id)
		b.WriteByte('\n')
	}
	return WriteFileAtomic(path, []byte(b.String()), 0o644)
}

// ReadListLine returns line index (0-based) of the run list at path: the run
// a job array task with that index executes.
func ReadListLine(path string, index int) (string, error) {
	if index < 0 {
		return "", fmt.Errorf("read run list %s: negative index %d", path, index)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("read run list: %w", err)
	}
	defer f.Close()

	sc := bufio.NewScanner(f)
	for i := 0; sc.Scan(); i++ {
		if i == index {
			id := strings.TrimSpace(sc.Text())
			if id == "" {
				return "", fmt.Errorf("read run list %s: line %d is empty", path, index+1)
			}
			return id, nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read run list %s: %w", path, err)
	}
	return "", fmt.Errorf("read run list %s: no line %d (index %d is past the end)", path, index+1, index)
}

// WriteFileAtomic writes data to a temporary file beside path (named
// .<base>.<random>.tmp, which collect skips), syncs it and renames it over
// path, so readers see either the old file or the whole new one.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return fmt.Errorf("create temporary file for %s: %w", path, err)
	}
	name := tmp.Name()
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = os.Chmod(name, perm)
	}
	if err == nil {
		err = os.Rename(name, path)
	}
	if err != nil {
		os.Remove(name)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
