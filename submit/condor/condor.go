// Package condor is the HTCondor backend of submit: one submit description
// per submission, queuing one job per line of the run list, with file
// transfer so that nodes need no shared file system.
package condor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/mosaic-go/mosaic/pipeline"
	"github.com/mosaic-go/mosaic/stage"
	"github.com/mosaic-go/mosaic/submit"
	"github.com/mosaic-go/mosaic/templates"
)

// DefaultMaxRetries is how many times HTCondor restarts a job that exited
// with an error, when the user sets no count.
const DefaultMaxRetries = 3

// CheckpointExitCode is the exit code by which mosaic-job signals to
// HTCondor that it saved a checkpoint and must be restarted.
const CheckpointExitCode = 85

// UndeliveredExitCode is the exit code of mosaic-job when its result file
// is written but posting it to --post-url failed.
const UndeliveredExitCode = 86

// Backend submits runs with condor_submit.
type Backend struct{}

var _ submit.Backend = (*Backend)(nil)

// Description is the data the submit description template receives.
type Description struct {
	// StudyDir is the absolute study folder.
	StudyDir string
	// Submission is the 1-based number of the submission.
	Submission int
	// Count is the number of runs queued.
	Count int
	// JobBinary is the absolute path of mosaic-job, transferred to the node.
	JobBinary string
	// ListFile is the run list read by `queue run_id from`.
	ListFile string
	// PipelinesDir holds the run specs; ResultsDir receives the results;
	// LogDir receives the job logs.
	PipelinesDir, ResultsDir, LogDir string
	// DataFiles are the absolute paths of the files the runs' data stages
	// read, transferred with every job.
	DataFiles []string
	// CPUs, MemMB (0: 1024), GPUs (0: none) and TimeMinutes (0: no
	// limit) are per job; TimeSeconds is TimeMinutes in seconds.
	CPUs, MemMB, GPUs, TimeMinutes, TimeSeconds int
	// MaxRetries is max_retries; MaxIdle is max_idle (0: unset).
	MaxRetries, MaxIdle int
	// CheckpointExitCode is the checkpoint_exit_code, 85.
	CheckpointExitCode int
	// PostURL, when set, is the receiver jobs post their result to, with
	// the token file TokenFile (absolute, transferred with every job) read
	// on the node as TokenFileName.
	PostURL, TokenFile, TokenFileName string
	// UndeliveredExitCode is mosaic-job's exit code when posting failed, 86.
	UndeliveredExitCode int
}

// Name returns "condor".
func (*Backend) Name() string { return "condor" }

// Render returns the single submit description of the batch.
func (*Backend) Render(_ context.Context, b *submit.Batch) ([]submit.Description, error) {
	tmpl, err := templates.Load(templates.Condor, b.TemplateFile)
	if err != nil {
		return nil, err
	}
	files, err := DataFiles(b.Specs)
	if err != nil {
		return nil, err
	}
	if err := checkDelivery(b, files); err != nil {
		return nil, err
	}
	retries := b.MaxRetries
	if retries <= 0 {
		retries = DefaultMaxRetries
	}
	data := Description{
		StudyDir:            b.Paths.Dir,
		Submission:          b.Submission,
		Count:               len(b.Specs),
		JobBinary:           b.JobBinary,
		ListFile:            b.ListFile,
		PipelinesDir:        b.Paths.Pipelines(),
		ResultsDir:          b.Paths.Results(),
		LogDir:              b.Paths.Logs(),
		DataFiles:           files,
		CPUs:                max(1, b.Resources.CPUs),
		MemMB:               b.Resources.MemMB,
		GPUs:                b.Resources.GPUs,
		TimeMinutes:         b.Resources.TimeMinutes,
		TimeSeconds:         b.Resources.TimeMinutes * 60,
		MaxRetries:          retries,
		MaxIdle:             b.MaxIdle,
		CheckpointExitCode:  CheckpointExitCode,
		PostURL:             b.PostURL,
		TokenFile:           b.TokenFile,
		UndeliveredExitCode: UndeliveredExitCode,
	}
	if b.TokenFile != "" {
		data.TokenFileName = filepath.Base(b.TokenFile)
	}

	var text bytes.Buffer
	if err := tmpl.Execute(&text, data); err != nil {
		return nil, fmt.Errorf("render HTCondor submit description: %w", err)
	}
	return []submit.Description{{
		Name:   fmt.Sprintf("condor-%d.sub", b.Submission),
		Text:   text.Bytes(),
		Offset: 0,
		Count:  len(b.Specs),
	}}, nil
}

// checkDelivery checks what --post-url needs on HTCondor: a token file,
// since jobs do not get the submitter's environment, whose path
// transfer_input_files can hold and whose name collides with no data file
// in the job's scratch folder.
func checkDelivery(b *submit.Batch, dataFiles []string) error {
	if b.PostURL == "" {
		return nil
	}
	if strings.ContainsAny(b.PostURL, "\"' ") {
		return fmt.Errorf("--post-url %q: HTCondor's arguments cannot hold a quote or space; encode them in the URL", b.PostURL)
	}
	if b.TokenFile == "" {
		return errors.New("--post-url on HTCondor needs --token-file: the file is transferred with each job, " +
			"because HTCondor jobs do not get the submitter's environment")
	}
	if strings.ContainsAny(b.TokenFile, ", \"") {
		return fmt.Errorf("token file %s: HTCondor's transfer_input_files cannot hold a path with a comma, space or quote; move the file", b.TokenFile)
	}
	name := filepath.Base(b.TokenFile)
	for _, f := range dataFiles {
		if filepath.Base(f) == name {
			return fmt.Errorf("token file %s and data file %s have the same name %s, which would collide in the job's scratch folder; rename the token file", b.TokenFile, f, name)
		}
	}
	if strings.HasSuffix(name, ".json") || name == "mosaic-checkpoint" {
		return fmt.Errorf("token file %s: its name could collide with a run spec, result or checkpoint in the job's scratch folder; rename it", b.TokenFile)
	}
	return nil
}

// DataFiles returns the files the data stages of specs read, resolved
// against each pipeline's BaseDir, sorted and without duplicates. A file is
// a string parameter named "path" of a data stage, which is how the csv
// stage names its input.
//
// NOTE: a stage that reads a file through a parameter of another name is
// not seen here, so its file is not transferred. Such studies need a shared
// file system and an absolute path.
func DataFiles(specs []pipeline.Spec) ([]string, error) {
	seen := map[string]bool{}
	byBase := map[string]string{}
	var files []string
	for _, spec := range specs {
		for _, st := range spec.Pipeline.Data {
			raw, ok := st.Params["path"]
			if !ok {
				continue
			}
			path := stage.ToString(raw)
			if !filepath.IsAbs(path) {
				path = filepath.Join(spec.Pipeline.BaseDir, path)
			}
			if seen[path] {
				continue
			}
			base := filepath.Base(path)
			if other, ok := byBase[base]; ok {
				return nil, fmt.Errorf("transfer data files of run %s: %s and %s have the same name %s, "+
					"which would collide in the job's scratch folder; rename one of them", spec.RunID, other, path, base)
			}
			if strings.ContainsAny(path, ", \"") {
				return nil, fmt.Errorf("transfer data file %s of run %s: HTCondor's transfer_input_files cannot hold a path with a comma, space or quote; move the file", path, spec.RunID)
			}
			seen[path], byBase[base] = true, path
			files = append(files, path)
		}
	}
	slices.Sort(files)
	return files, nil
}

// Command returns `condor_submit path`.
func (*Backend) Command(path string) []string {
	return []string{"condor_submit", path}
}

var clusterPattern = regexp.MustCompile(`submitted to cluster (\d+)`)

// ParseJobID returns the cluster id in condor_submit's output, such as
// "3 job(s) submitted to cluster 42.".
func (*Backend) ParseJobID(output []byte) (string, error) {
	m := clusterPattern.FindSubmatch(output)
	if m == nil {
		return "", fmt.Errorf("parse condor_submit output %q: expected \"submitted to cluster N\"", strings.TrimSpace(string(output)))
	}
	return string(m[1]), nil
}
