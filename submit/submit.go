package submit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/mosaic-go/mosaic/deliver"
	"github.com/mosaic-go/mosaic/pipeline"
	"github.com/mosaic-go/mosaic/submit/layout"
)

// Options configure Submit.
type Options struct {
	// Config is the study config file.
	Config string
	// Out is the study folder; it is created when missing.
	Out string
	// DB, when set, is a study database: runs it holds as done or diverged
	// are not submitted again.
	DB      string
	Backend Backend
	// Resources are per run. GPUs 0 becomes 1 when the config sets
	// need_gpu = True.
	Resources Resources
	// JobBinary is the mosaic-job binary; empty means mosaic-job beside the
	// running executable, then on PATH.
	JobBinary string
	// TemplateFile, when set, replaces the backend's embedded template.
	TemplateFile string
	// MaxRunning, MaxIdle and MaxRetries are passed to the backend; see
	// Batch.
	MaxRunning, MaxIdle, MaxRetries int
	// PostURL, when set, makes every job also post its result to this
	// `mosaic collect --listen` receiver; see Batch.
	PostURL string
	// TokenFile is the file of the receiver's bearer token, passed to the
	// jobs by path (Slurm) or transferred with them (HTCondor). It is
	// checked, made absolute, and never read into a submit description.
	TokenFile string
	// Now runs the submit commands and records the job ids in jobs.json;
	// otherwise the report lists the commands to run.
	Now bool
	// DryRun renders the descriptions and writes nothing.
	DryRun bool
	// Run runs the submit commands; nil means Exec.
	Run Runner
}

// Report is the outcome of a Submit call.
type Report struct {
	// Runs is the number of runs in the study. Finished of them were
	// skipped because the database holds them as done or diverged, and
	// Uncollected because their result file is in the study's results folder
	// but not in the database (see UncollectedRuns). Submitted is the rest,
	// the runs of this submission.
	Runs, Finished, Uncollected, Submitted int
	// Submission is the 1-based number of this submission; 0 when there
	// was nothing to submit.
	Submission int
	// ListFile is the run list of this submission.
	ListFile string
	// Descriptions are the rendered submit descriptions and Paths where
	// they were written (empty on a dry run).
	Descriptions []Description
	Paths        []string
	// Commands are the submit commands, one per description.
	Commands [][]string
	// Jobs are the submitted jobs when Options.Now is set.
	Jobs []Job
}

// Job is one submitted job (a Slurm job array or an HTCondor cluster), as
// recorded in the study's jobs.json.
type Job struct {
	Backend     string    `json:"backend"`
	Submission  int       `json:"submission"`
	JobID       string    `json:"job_id"`
	Description string    `json:"description"`
	ListFile    string    `json:"list_file"`
	Offset      int       `json:"offset"`
	Count       int       `json:"count"`
	SubmittedAt time.Time `json:"submitted_at"`
}

// Submit expands the config and leaves out the runs already finished in
// Options.DB and the runs whose result file is not collected yet. It writes
// the run specs, the run list and the submit descriptions of the others
// under Options.Out, and runs the submit commands when Options.Now is set.
func Submit(ctx context.Context, opts Options) (*Report, error) {
	if opts.Backend == nil {
		return nil, errors.New("submit: no scheduler backend given")
	}
	specs, res, err := LoadStudy(opts.Config)
	if err != nil {
		return nil, err
	}
	stored, err := storedStatuses(ctx, opts.DB)
	if err != nil {
		return nil, err
	}
	finished := finishedRuns(stored)
	paths, err := layout.New(opts.Out)
	if err != nil {
		return nil, err
	}
	// Submitting a run whose result is not collected yet would train it
	// again and overwrite its result file.
	uncollected, err := UncollectedRuns(paths, stored)
	if err != nil {
		return nil, err
	}

	report := &Report{Runs: len(specs)}
	var todo []pipeline.Spec
	for _, s := range specs {
		switch {
		case finished[s.RunID]:
			report.Finished++
		case uncollected[s.RunID]:
			report.Uncollected++
		default:
			todo = append(todo, s)
		}
	}
	report.Submitted = len(todo)
	if len(todo) == 0 {
		return report, nil
	}

	batch, err := newBatch(opts, res, todo)
	if err != nil {
		return nil, err
	}
	report.Submission, report.ListFile = batch.Submission, batch.ListFile
	descs, err := opts.Backend.Render(ctx, batch)
	if err != nil {
		return nil, err
	}
	report.Descriptions = descs
	for _, d := range descs {
		report.Commands = append(report.Commands, opts.Backend.Command(batch.Paths.Description(d.Name)))
	}
	if opts.DryRun {
		return report, nil
	}

	if err := writeBatch(batch, descs); err != nil {
		return nil, err
	}
	for _, d := range descs {
		report.Paths = append(report.Paths, batch.Paths.Description(d.Name))
	}
	if !opts.Now {
		return report, nil
	}
	jobs, err := runCommands(ctx, opts, batch, descs)
	report.Jobs = jobs
	return report, err
}

// newBatch fills the batch of one submission: resources with defaults from
// the config, the job binary, and the next submission number.
func newBatch(opts Options, res Resources, specs []pipeline.Spec) (*Batch, error) {
	paths, err := layout.New(opts.Out)
	if err != nil {
		return nil, err
	}
	n, err := paths.NextSubmission()
	if err != nil {
		return nil, err
	}
	binary, err := FindJobBinary(opts.JobBinary)
	if err != nil {
		return nil, err
	}
	tokenFile, err := checkDelivery(opts.PostURL, opts.TokenFile)
	if err != nil {
		return nil, err
	}
	// Flags win over [MONITOR]; a zero flag leaves the config's value.
	r := opts.Resources
	if r.GPUs == 0 {
		r.GPUs = res.GPUs
	}
	if r.CPUs == 0 {
		r.CPUs = res.CPUs
	}
	if r.MemMB == 0 {
		r.MemMB = res.MemMB
	}
	if r.TimeMinutes == 0 {
		r.TimeMinutes = res.TimeMinutes
	}
	return &Batch{
		Paths:        paths,
		Submission:   n,
		ListFile:     paths.List(n),
		Specs:        specs,
		JobBinary:    binary,
		Resources:    r,
		MaxRunning:   opts.MaxRunning,
		MaxIdle:      opts.MaxIdle,
		MaxRetries:   opts.MaxRetries,
		TemplateFile: opts.TemplateFile,
		PostURL:      opts.PostURL,
		TokenFile:    tokenFile,
	}, nil
}

// checkDelivery checks the receiver URL and the token file of --post-url,
// and returns the token file's absolute path.
func checkDelivery(postURL, tokenFile string) (string, error) {
	if postURL == "" {
		if tokenFile != "" {
			return "", errors.New("--token-file is given without --post-url")
		}
		return "", nil
	}
	if _, err := deliver.ParseURL(postURL); err != nil {
		return "", fmt.Errorf("--post-url: %w", err)
	}
	if tokenFile == "" {
		return "", nil
	}
	abs, err := filepath.Abs(tokenFile)
	if err != nil {
		return "", fmt.Errorf("resolve token file %s: %w", tokenFile, err)
	}
	if _, err := deliver.ReadToken(abs); err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	return abs, nil
}

// writeBatch writes the specs, the run list and the descriptions, and
// creates the folders jobs write into.
func writeBatch(b *Batch, descs []Description) error {
	p := b.Paths
	for _, dir := range []string{p.Pipelines(), p.Results(), p.Logs(), p.Descriptions()} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create study folder %s: %w", dir, err)
		}
	}
	for _, s := range b.Specs {
		data, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			return fmt.Errorf("encode run spec %s: %w", s.RunID, err)
		}
		if err := layout.WriteFileAtomic(p.Spec(s.RunID), append(data, '\n'), 0o644); err != nil {
			return err
		}
	}
	if err := layout.WriteList(b.ListFile, b.RunIDs()); err != nil {
		return err
	}
	for _, d := range descs {
		if err := layout.WriteFileAtomic(p.Description(d.Name), d.Text, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// runCommands submits each description and records every job it submitted
// in jobs.json, also when a later command fails.
func runCommands(ctx context.Context, opts Options, b *Batch, descs []Description) ([]Job, error) {
	run := opts.Run
	if run == nil {
		run = Exec
	}
	var jobs []Job
	var failure error
	for _, d := range descs {
		path := b.Paths.Description(d.Name)
		cmd := opts.Backend.Command(path)
		out, err := run(ctx, cmd[0], cmd[1:]...)
		if err != nil {
			failure = fmt.Errorf("submit %s: %w\nFix the cause and run the same `mosaic submit` again: "+
				"runs of descriptions already submitted are recorded in %s", path, err, b.Paths.Jobs())
			break
		}
		id, err := opts.Backend.ParseJobID(out)
		if err != nil {
			failure = fmt.Errorf("submit %s: %w", path, err)
			break
		}
		jobs = append(jobs, Job{
			Backend: opts.Backend.Name(), Submission: b.Submission, JobID: id,
			Description: path, ListFile: b.ListFile, Offset: d.Offset, Count: d.Count,
			SubmittedAt: time.Now().UTC(),
		})
	}
	if len(jobs) > 0 {
		if err := AppendJobs(b.Paths, jobs); err != nil {
			return jobs, errors.Join(failure, err)
		}
	}
	return jobs, failure
}

// ReadJobs returns the jobs recorded in the study's jobs.json; none when the
// file does not exist.
func ReadJobs(p layout.Paths) ([]Job, error) {
	data, err := os.ReadFile(p.Jobs())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read job record: %w", err)
	}
	var jobs []Job
	if err := json.Unmarshal(data, &jobs); err != nil {
		return nil, fmt.Errorf("decode job record %s: %w", p.Jobs(), err)
	}
	return jobs, nil
}

// AppendJobs adds jobs to the study's jobs.json.
func AppendJobs(p layout.Paths, jobs []Job) error {
	all, err := ReadJobs(p)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(append(all, jobs...), "", "  ")
	if err != nil {
		return fmt.Errorf("encode job record: %w", err)
	}
	return layout.WriteFileAtomic(p.Jobs(), append(data, '\n'), 0o644)
}

// FindJobBinary returns the absolute path of the mosaic-job binary: path
// when set, else mosaic-job beside the running executable, else on PATH.
func FindJobBinary(path string) (string, error) {
	const hint = "build it with `CGO_ENABLED=0 go build -o mosaic-job ./cmd/mosaic-job` and pass --job-binary"
	if path != "" {
		abs, err := filepath.Abs(path)
		if err != nil {
			return "", fmt.Errorf("resolve job binary %s: %w", path, err)
		}
		if _, err := os.Stat(abs); err != nil {
			return "", fmt.Errorf("job binary %s not found: %w; %s", abs, err, hint)
		}
		return abs, nil
	}
	if self, err := os.Executable(); err == nil {
		beside := filepath.Join(filepath.Dir(self), "mosaic-job")
		if _, err := os.Stat(beside); err == nil {
			return beside, nil
		}
	}
	found, err := exec.LookPath("mosaic-job")
	if err != nil {
		return "", fmt.Errorf("mosaic-job not found beside this executable or on PATH; %s", hint)
	}
	return filepath.Abs(found)
}
