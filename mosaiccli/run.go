package mosaiccli

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/mosaic-go/mosaic/config"
	"github.com/mosaic-go/mosaic/manager"
)

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "train every pipeline of a config not yet done, on this machine",
		ArgsUsage: "CONFIG.ini",
		Flags: append([]cli.Flag{
			dbFlag,
			&cli.IntFlag{Name: "workers", Aliases: []string{"j"}, Usage: "runs in parallel", DefaultText: "[MONITOR] nb_processus"},
			&cli.BoolFlag{Name: "retry-failed", Usage: "run failed, diverged and timed-out runs again"},
			&cli.IntFlag{Name: "max-pipelines", Usage: "reject configs that expand to more pipelines than this",
				DefaultText: strconv.Itoa(config.DefaultMaxPipelines)},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the summary"},
		}, execFlags()...),
		Action: runAction,
	}
}

func runAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return cli.Exit("usage: mosaic run CONFIG.ini [--db study.db]", 2)
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()

	opts := manager.Options{
		ConfigPath:   c.Args().First(),
		DBPath:       c.String("db"),
		Workers:      c.Int("workers"),
		RetryFailed:  c.Bool("retry-failed"),
		MaxPipelines: c.Int("max-pipelines"),
		Exec:         execOptions(c),
		Progress:     chooseProgress(c.App.ErrWriter, c.Bool("quiet")),
	}
	plan, err := manager.Expand(opts.ConfigPath, opts.MaxPipelines)
	if err != nil {
		return err
	}
	opts.Plan = plan
	if plan.Config.Monitor.NeedGPU && !c.Bool("quiet") {
		// Say it before the runs start, so that the stored GPU assignment
		// is not taken for GPU training.
		fmt.Fprintln(c.App.ErrWriter, "note: each run is given one device of gpu_available and records it, "+
			"but MOSAIC's engine trains on the CPU; the results say device cpu")
	}
	logger, closeLog, err := openStudyLog(plan.Config.Process.RunFilesPath)
	if err != nil {
		return err
	}
	defer closeLog()
	opts.Logger = logger

	sum, err := manager.Run(ctx, opts)
	if sum != nil {
		printSummary(c.App.Writer, sum, opts.DBPath)
	}
	if err != nil && ctx.Err() != nil {
		return cli.Exit("interrupted: finished runs are stored; run the same command again to resume the others", 130)
	}
	if err != nil {
		return err
	}
	return failedRunsExit(sum)
}

// exitRunsFailed is the exit status of a study that ran to its end but in
// which some runs failed or timed out. Those runs are stored, and scripts
// can tell this case from a study that could not run at all (status 1).
const exitRunsFailed = 3

// failedRunsExit returns a cli exit error when runs failed or timed out in
// this call, and nil otherwise. Diverged runs are results, not failures.
func failedRunsExit(sum *manager.Summary) error {
	if sum == nil || sum.Failed+sum.TimedOut == 0 {
		return nil
	}
	what := fmt.Sprintf("%d %s failed", sum.Failed, plural(sum.Failed, "run", "runs"))
	if sum.TimedOut > 0 {
		what += fmt.Sprintf(" and %d timed out", sum.TimedOut)
	}
	return cli.Exit(what+": `mosaic status` lists the last errors, and `mosaic run --retry-failed` runs them again", exitRunsFailed)
}

// plural returns one when n is 1 and many otherwise.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// execFlags are the flags of run and rerun that set how runs execute.
func execFlags() []cli.Flag {
	return []cli.Flag{
		&cli.DurationFlag{Name: "run-timeout", Usage: "kill a run that takes longer, such as 2h30m, and store it as timeout",
			DefaultText: "no limit"},
		&cli.IntFlag{Name: "runs-per-gpu", Value: 1, Usage: "runs that may share one device of gpu_available when need_gpu = True"},
		&cli.BoolFlag{Name: "in-process", Usage: "run in the manager's process instead of one child process per run, for debugging"},
	}
}

func execOptions(c *cli.Context) manager.ExecOptions {
	return manager.ExecOptions{
		InProcess:  c.Bool("in-process"),
		RunTimeout: c.Duration("run-timeout"),
		RunsPerGPU: c.Int("runs-per-gpu"),
	}
}

// chooseProgress redraws a live display on a terminal and prints plain
// lines elsewhere.
func chooseProgress(w io.Writer, quiet bool) manager.Progress {
	if quiet {
		return nil
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		width, _, err := term.GetSize(int(f.Fd()))
		if err != nil {
			width = 0
		}
		return manager.NewTerminal(w, width)
	}
	return manager.NewLines(w)
}

// openStudyLog opens the structured log of the study, mosaic.log under the
// config's run_files_path.
func openStudyLog(dir string) (*slog.Logger, func(), error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("create run files folder: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "mosaic.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("open study log: %w", err)
	}
	return slog.New(slog.NewJSONHandler(f, nil)), func() { f.Close() }, nil
}

func printSummary(w io.Writer, s *manager.Summary, db string) {
	if s.Runs == s.Skipped {
		fmt.Fprintf(w, "nothing to do: all %d runs of %d pipelines are already in %s\n", s.Runs, s.Pipelines, db)
		return
	}
	fmt.Fprintf(w, "%d pipelines, %d runs: %d done, %d failed, %d diverged, %d timed out, %d interrupted, %d already in %s (%.1fs)\n",
		s.Pipelines, s.Runs, s.Done, s.Failed, s.Diverged, s.TimedOut, s.Interrupted, s.Skipped, db, s.Elapsed.Seconds())
	if s.CacheHits+s.CacheMisses > 0 {
		fmt.Fprintf(w, "data cache: %d hits, %d misses\n", s.CacheHits, s.CacheMisses)
	}
}
