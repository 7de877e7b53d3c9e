// Package slurm is the Slurm backend of submit: one sbatch job array per
// chunk of the run list, chunks no longer than the cluster's MaxArraySize.
package slurm

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mosaic-go/mosaic/submit"
	"github.com/mosaic-go/mosaic/templates"
)

// DefaultMaxArraySize is Slurm's default MaxArraySize (array indices 0 to
// 1000), used when `scontrol show config` cannot be read and the user set
// no size.
const DefaultMaxArraySize = 1001

// DefaultSignalSeconds is how long before the time limit Slurm sends USR1,
// so mosaic-job can save a checkpoint and requeue. Slurm checks the limit
// about every 30 s, so the warning may come up to a minute early.
const DefaultSignalSeconds = 120

// Backend submits runs as sbatch job arrays.
type Backend struct {
	// Run runs scontrol; nil means submit.Exec.
	Run submit.Runner
	// MaxArraySize is used when scontrol cannot tell the cluster's; when the
	// cluster's is known, the smaller of the two is used. 0 means
	// DefaultMaxArraySize.
	MaxArraySize int
	// Partition, when set, is passed as --partition.
	Partition string
	// SignalSeconds is how long before the time limit USR1 is sent; 0 means
	// DefaultSignalSeconds.
	SignalSeconds int
}

var _ submit.Backend = (*Backend)(nil)

// Script is the data the sbatch template receives.
type Script struct {
	// StudyDir is the absolute study folder.
	StudyDir string
	// Submission is the 1-based number of the submission.
	Submission int
	// JobName is the job name shown by squeue: mosaic-<study folder name>.
	JobName string
	// Array is the --array value, such as "0-999%50".
	Array string
	// Offset is the index in the run list of array task 0; First and Last
	// are the 1-based lines of the first and last run of this array.
	Offset, First, Last int
	// ListFile is the run list; LogDir is the folder of %A_%a.out logs.
	ListFile, LogDir string
	// JobBinary is the absolute path of mosaic-job.
	JobBinary string
	// CPUs, MemMB (0: cluster default), TimeMinutes (0: partition
	// default) and GPUs (0: none) are per array task.
	CPUs, MemMB, TimeMinutes, GPUs int
	// SignalSeconds is the USR1 warning before the time limit.
	SignalSeconds int
	// Partition is empty for the cluster's default partition.
	Partition string
	// PostURL, when set, is the receiver tasks post their result to, with
	// the token read from TokenFile on the node, or from MOSAIC_TOKEN when
	// TokenFile is empty.
	PostURL, TokenFile string
}

// Name returns "slurm".
func (*Backend) Name() string { return "slurm" }

// Render returns one sbatch script per chunk of at most the max array size.
func (s *Backend) Render(ctx context.Context, b *submit.Batch) ([]submit.Description, error) {
	tmpl, err := templates.Load(templates.Slurm, b.TemplateFile)
	if err != nil {
		return nil, err
	}
	size, err := s.arraySize(ctx)
	if err != nil {
		return nil, err
	}

	var out []submit.Description
	for offset := 0; offset < len(b.Specs); offset += size {
		count := min(size, len(b.Specs)-offset)
		data := s.script(b, offset, count)
		var text bytes.Buffer
		if err := tmpl.Execute(&text, data); err != nil {
			return nil, fmt.Errorf("render sbatch script for runs %d to %d: %w", data.First, data.Last, err)
		}
		out = append(out, submit.Description{
			Name:   fmt.Sprintf("slurm-%d-%d.sbatch", b.Submission, len(out)),
			Text:   text.Bytes(),
			Offset: offset,
			Count:  count,
		})
	}
	return out, nil
}

func (s *Backend) script(b *submit.Batch, offset, count int) Script {
	array := fmt.Sprintf("0-%d", count-1)
	if b.MaxRunning > 0 {
		array += fmt.Sprintf("%%%d", b.MaxRunning)
	}
	signal := s.SignalSeconds
	if signal <= 0 {
		signal = DefaultSignalSeconds
	}
	return Script{
		StudyDir:      b.Paths.Dir,
		Submission:    b.Submission,
		JobName:       "mosaic-" + filepath.Base(b.Paths.Dir),
		Array:         array,
		Offset:        offset,
		First:         offset + 1,
		Last:          offset + count,
		ListFile:      b.ListFile,
		LogDir:        b.Paths.Logs(),
		JobBinary:     b.JobBinary,
		CPUs:          max(1, b.Resources.CPUs),
		MemMB:         b.Resources.MemMB,
		TimeMinutes:   b.Resources.TimeMinutes,
		GPUs:          b.Resources.GPUs,
		SignalSeconds: signal,
		Partition:     s.Partition,
		PostURL:       b.PostURL,
		TokenFile:     b.TokenFile,
	}
}

// arraySize returns the number of tasks one array may have: the cluster's
// MaxArraySize when scontrol reports it, capped by s.MaxArraySize.
func (s *Backend) arraySize(ctx context.Context) (int, error) {
	size := s.MaxArraySize
	if size <= 0 {
		size = DefaultMaxArraySize
	}
	run := s.Run
	if run == nil {
		run = submit.Exec
	}
	out, err := run(ctx, "scontrol", "show", "config")
	if err != nil {
		// No scontrol, or no controller to answer it (a login node without
		// Slurm, a submission prepared offline): use the flag or default.
		// NOTE: if the real MaxArraySize is smaller, sbatch rejects the array
		// with its own message and --max-array-size fixes it.
		return size, nil
	}
	cluster, ok := ParseMaxArraySize(out)
	if !ok {
		return size, nil
	}
	if s.MaxArraySize > 0 {
		return min(cluster, s.MaxArraySize), nil
	}
	return cluster, nil
}

// ParseMaxArraySize returns the MaxArraySize line of `scontrol show config`
// output, such as "MaxArraySize            = 1001".
func ParseMaxArraySize(out []byte) (int, bool) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), "=")
		if !ok || strings.TrimSpace(key) != "MaxArraySize" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil || n < 1 {
			return 0, false
		}
		return n, true
	}
	return 0, false
}

// Command returns `sbatch --parsable path`.
func (*Backend) Command(path string) []string {
	return []string{"sbatch", "--parsable", path}
}

// ParseJobID returns the job id that `sbatch --parsable` prints, as "id" or
// "id;cluster".
func (*Backend) ParseJobID(output []byte) (string, error) {
	line := strings.TrimSpace(string(output))
	if i := strings.LastIndexByte(line, '\n'); i >= 0 {
		line = strings.TrimSpace(line[i+1:])
	}
	id, _, _ := strings.Cut(line, ";")
	if _, err := strconv.ParseUint(id, 10, 64); err != nil {
		return "", fmt.Errorf("parse sbatch output %q: expected a job id", strings.TrimSpace(string(output)))
	}
	return id, nil
}
