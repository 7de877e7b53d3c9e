package manager

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/mosaic-go/mosaic/cache"
	"github.com/mosaic-go/mosaic/jobrunner"
	"github.com/mosaic-go/mosaic/pipeline"
)

// childArgs returns the flags of ExecChild for one run.
func childArgs(specPath, runDir string, c CacheConfig) []string {
	args := []string{"--spec", specPath, "--out", runDir, "--run-dir", runDir}
	if c.Dir != "" {
		args = append(args, "--cache-dir", c.Dir, "--cache-size", strconv.FormatInt(c.MaxBytes, 10))
	}
	return args
}

// ExecChild is the child side of Subprocess, behind the hidden command
// `mosaic exec-run --spec FILE --out DIR [--run-dir DIR] [--cache-dir DIR
// --cache-size BYTES]`. It runs the spec through jobrunner.RunChild, the
// code path of mosaic-job, writes one jobrunner.ChildEvent line per epoch to
// stdout and messages to stderr, and returns the exit status (see
// jobrunner.ExitDone and the other exit statuses). The devices in
// CUDA_VISIBLE_DEVICES are recorded as the run's GPUs. Cancel ctx on
// SIGTERM or SIGINT: the run then stops after its last checkpoint.
func ExecChild(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mosaic exec-run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	specPath := fs.String("spec", "", "run spec file")
	out := fs.String("out", "", "folder of the result document")
	runDir := fs.String("run-dir", "", "folder of the per-run files (default: <run_files_path>/<run_id>)")
	cacheDir := fs.String("cache-dir", "", "data cache folder; empty disables the cache")
	cacheSize := fs.Int64("cache-size", 0, "maximum data cache size in bytes; 0 means no bound")
	if err := fs.Parse(args); err != nil {
		return jobrunner.ExitUsage
	}
	if *specPath == "" || *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "mosaic exec-run: usage: mosaic exec-run --spec FILE --out DIR [--run-dir DIR] [--cache-dir DIR --cache-size BYTES]")
		return jobrunner.ExitUsage
	}

	spec, err := pipeline.ReadSpec(*specPath)
	if err != nil {
		fmt.Fprintf(stderr, "mosaic exec-run: %v\n", err)
		return jobrunner.ExitUsage
	}
	dataCache, err := openDataCache(CacheConfig{Dir: *cacheDir, MaxBytes: *cacheSize})
	if err != nil {
		fmt.Fprintf(stderr, "mosaic exec-run: %v\n", err)
		return jobrunner.ExitUsage
	}

	res, code, err := jobrunner.RunChild(ctx, spec, jobrunner.ChildOptions{
		OutDir:    *out,
		RunDir:    *runDir,
		GPUs:      splitDevices(os.Getenv("CUDA_VISIBLE_DEVICES")),
		DataCache: dataCache,
		Events:    stdout,
	})
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "mosaic exec-run: %v\n", err)
	case code == jobrunner.ExitCheckpointed:
		fmt.Fprintf(stderr, "mosaic exec-run: run %s stopped after epoch %d; its checkpoint is in the run folder\n", spec.RunID, res.Epochs)
	case res.Error != "":
		fmt.Fprintf(stderr, "mosaic exec-run: run %s %s: %s\n", spec.RunID, res.Status, res.Error)
	}
	return code
}

// openDataCache opens the data cache of c, or returns nil when c.Dir is
// empty.
func openDataCache(c CacheConfig) (jobrunner.DataCache, error) {
	if c.Dir == "" {
		return nil, nil
	}
	dc, err := cache.Open(c.Dir, c.MaxBytes)
	if err != nil {
		return nil, fmt.Errorf("open data cache: %w", err)
	}
	return dc, nil
}

// splitDevices splits a CUDA_VISIBLE_DEVICES value; "" and "-1" mean none.
func splitDevices(value string) []string {
	var out []string
	for _, d := range strings.Split(value, ",") {
		if d = strings.TrimSpace(d); d != "" && d != "-1" {
			out = append(out, d)
		}
	}
	return out
}
