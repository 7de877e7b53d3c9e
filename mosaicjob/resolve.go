package mosaicjob

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/mosaic-go/mosaic/deliver"
	"github.com/mosaic-go/mosaic/pipeline"
	"github.com/mosaic-go/mosaic/stage"
	"github.com/mosaic-go/mosaic/submit/layout"
)

// errHelp reports that -h was given and usage was printed.
var errHelp = errors.New("help requested")

// job is one run to execute and where its files go.
type job struct {
	spec pipeline.Spec
	// out is the folder of the result document.
	out string
	// runDir is the folder of the per-run files, checkpoint included.
	runDir    string
	scheduler Scheduler
	// post, when set, delivers the result to a `mosaic collect --listen`
	// receiver after the result file is written.
	post *deliver.Client
	// localFiles maps configured data file paths to the local files that
	// replace them (see localDataFiles).
	localFiles map[string]string
}

// resolve parses args and finds the run spec, from --spec or from the run
// list and the array task index.
func resolve(args []string, getenv func(string) string, stderr io.Writer) (*job, error) {
	fs := flag.NewFlagSet("mosaic-job", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	specPath := fs.String("spec", "", "run spec file (pipelines/<run_id>.json)")
	out := fs.String("out", "", "folder the result <run_id>.json is written to (default: the study's results/, or .)")
	runDir := fs.String("run-dir", "", "folder of the per-run files and checkpoint (default: the study's runs/<run_id>, or ./runs/<run_id>)")
	list := fs.String("list", "", "run list, one run id per line (with --study)")
	offset := fs.Int("offset", 0, "index in the run list of array task 0")
	index := fs.Int("index", -1, "array task index (default: SLURM_ARRAY_TASK_ID)")
	study := fs.String("study", "", "study folder: specs, results and run folders are found there")
	postURL := fs.String("post-url", "", "also post the result to this `mosaic collect --listen` receiver, such as http://submit-host:8470")
	tokenFile := fs.String("token-file", "", "file holding the receiver's bearer token (default: the "+deliver.TokenEnv+" environment variable)")
	postAttempts := fs.Int("post-attempts", deliver.DefaultMaxAttempts, "requests made to deliver the result before giving up")
	postMaxTime := fs.Duration("post-max-time", deliver.DefaultMaxTime, "time allowed to deliver the result, waits between attempts included")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stderr)
			fs.PrintDefaults()
			return nil, errHelp
		}
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q; give the run with --spec or --list and --study", fs.Arg(0))
	}

	j := &job{scheduler: DetectScheduler(getenv)}
	var err error
	switch {
	case *specPath != "" && *list != "":
		return nil, errors.New("give either --spec or --list, not both")
	case *specPath != "":
		err = j.fromSpec(*specPath, *study, *out, *runDir)
	case *list != "":
		err = j.fromList(*list, *study, *offset, *index, getenv)
	default:
		return nil, errors.New("no run given; use --spec FILE --out DIR, or --list FILE --study DIR in a job array")
	}
	if err != nil {
		return nil, err
	}
	if *out != "" {
		j.out = *out
	}
	if *runDir != "" {
		j.runDir = *runDir
	}
	if j.scheduler == Condor {
		j.localFiles = localDataFiles(j.spec)
	}
	if j.post, err = newPoster(*postURL, *tokenFile, *postAttempts, *postMaxTime, getenv, stderr); err != nil {
		return nil, err
	}
	return j, nil
}

// newPoster returns the client that delivers the result to postURL, or nil
// when postURL is empty. Its retries are logged to stderr, without the
// token.
func newPoster(postURL, tokenFile string, attempts int, maxTime time.Duration, getenv func(string) string, stderr io.Writer) (*deliver.Client, error) {
	if postURL == "" {
		if tokenFile != "" {
			return nil, errors.New("--token-file is given without --post-url")
		}
		return nil, nil
	}
	if attempts < 1 || maxTime <= 0 {
		return nil, fmt.Errorf("invalid --post-attempts %d or --post-max-time %v: expected at least 1 and a positive duration", attempts, maxTime)
	}
	token, err := deliver.LoadToken(tokenFile, getenv)
	if err != nil {
		return nil, fmt.Errorf("--post-url %s: %w", postURL, err)
	}
	// Info level shows retries and failed requests, but not the line
	// go-retryablehttp logs at debug level for every request.
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	return deliver.New(deliver.Options{
		URL:         postURL,
		Token:       token,
		MaxAttempts: attempts,
		MaxTime:     maxTime,
		Logger:      logger.With("component", "deliver"),
	})
}

func (j *job) fromSpec(path, study, out, runDir string) error {
	spec, err := pipeline.ReadSpec(path)
	if err != nil {
		return err
	}
	j.spec = spec
	j.out, j.runDir = ".", filepath.Join("runs", spec.RunID)
	if study != "" {
		p, err := layout.New(study)
		if err != nil {
			return err
		}
		j.out, j.runDir = p.Results(), p.RunDir(spec.RunID)
	}
	return nil
}

func (j *job) fromList(list, study string, offset, index int, getenv func(string) string) error {
	if study == "" {
		return errors.New("--list needs --study, the folder that contains pipelines/ and results/")
	}
	if index < 0 {
		task := getenv("SLURM_ARRAY_TASK_ID")
		if task == "" {
			return errors.New("--list needs an array task index: SLURM_ARRAY_TASK_ID is not set and --index is not given")
		}
		n, err := strconv.Atoi(task)
		if err != nil || n < 0 {
			return fmt.Errorf("invalid SLURM_ARRAY_TASK_ID %q: expected a non-negative integer", task)
		}
		index = n
	}
	runID, err := layout.ReadListLine(list, offset+index)
	if err != nil {
		return err
	}
	p, err := layout.New(study)
	if err != nil {
		return err
	}
	spec, err := pipeline.ReadSpec(p.Spec(runID))
	if err != nil {
		return err
	}
	if spec.RunID != runID {
		return fmt.Errorf("run spec %s contains run %s, expected %s", p.Spec(runID), spec.RunID, runID)
	}
	j.spec, j.out, j.runDir = spec, p.Results(), p.RunDir(runID)
	return nil
}

// localDataFiles maps each data stage's "path" parameter to the file of the
// same name in the working folder when the configured file is missing.
// HTCondor transfers the data files (see submit/condor.DataFiles) into the
// job's scratch folder, where the submit machine's paths do not exist. The
// spec keeps the configured path, so the run's data seed and recorded
// parameters are those of the same run anywhere else.
func localDataFiles(spec pipeline.Spec) map[string]string {
	local := map[string]string{}
	for _, st := range spec.Pipeline.Data {
		raw, ok := st.Params["path"]
		if !ok {
			continue
		}
		configured := stage.ToString(raw)
		path := configured
		if !filepath.IsAbs(path) {
			path = filepath.Join(spec.Pipeline.BaseDir, path)
		}
		if _, err := os.Stat(path); err == nil {
			continue
		}
		abs, err := filepath.Abs(filepath.Base(path))
		if err != nil {
			continue
		}
		if _, err := os.Stat(abs); err == nil {
			local[configured] = abs
		}
	}
	return local
}

// requeueSlurm requeues this array task with scontrol, which must return
// within 30 seconds.
func requeueSlurm(getenv func(string) string) error {
	id := slurmTaskJob(getenv)
	if id == "" {
		return errors.New("requeue: SLURM_JOB_ID is not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "scontrol", "requeue", id).CombinedOutput()
	if err != nil {
		return fmt.Errorf("scontrol requeue %s: %w: %s", id, err, out)
	}
	return nil
}
