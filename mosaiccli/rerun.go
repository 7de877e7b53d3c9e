package mosaiccli

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/mosaic-go/mosaic/config"
	"github.com/mosaic-go/mosaic/manager"
	"github.com/mosaic-go/mosaic/store"
)

func rerunCommand() *cli.Command {
	return &cli.Command{
		Name:  "rerun",
		Usage: "continue the selected runs from their last checkpoint for more epochs",
		Description: "Continues each selected run for --epochs more epochs: its curves are extended,\n" +
			"its indicators computed again over the whole curves, and it keeps its run id.\n" +
			"Without --where, --ids or --label-like every run is selected. Example, the runs\n" +
			"still improving:  mosaic rerun --db study.db --epochs 100 --where \"slope < -0.001\"",
		Flags: append([]cli.Flag{
			dbFlag,
			&cli.IntFlag{Name: "epochs", Required: true, Usage: "number of epochs to add to each run"},
			&cli.StringFlag{Name: "where", Usage: "SQL condition on the columns of the results view, such as \"slope < 0 AND status = 'done'\""},
			&cli.StringFlag{Name: "ids", Usage: "runs by run id (stable, such as 3f2a9c0d1e2b4a5c-0), pipeline id (all its replicas) or number (the # of mosaic status, which changes when a run is stored again; ranges allowed: 3,7-9), comma-separated and mixed"},
			&cli.StringFlag{Name: "label-like", Usage: "SQL LIKE pattern on the pipeline label, such as '%mlp_funnel%'"},
			&cli.StringFlag{Name: "config", Usage: "study config whose [MONITOR] sets nb_processus, the GPUs and the data cache",
				DefaultText: "none: one run at a time, no GPU, no data cache"},
			&cli.IntFlag{Name: "workers", Aliases: []string{"j"}, Usage: "runs in parallel", DefaultText: "nb_processus of --config, else 1"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the summary"},
		}, execFlags()...),
		Action: rerunAction,
	}
}

func rerunAction(c *cli.Context) error {
	if c.NArg() != 0 {
		return cli.Exit("usage: mosaic rerun --db study.db --epochs N [--where SQL | --ids 3,7-9 | --label-like PATTERN]", 2)
	}
	sel, err := parseSelection(c.String("where"), c.String("ids"), c.String("label-like"))
	if err != nil {
		return err
	}
	opts := manager.RerunOptions{
		DBPath:    c.String("db"),
		Selection: sel,
		Epochs:    c.Int("epochs"),
		Workers:   c.Int("workers"),
		Exec:      execOptions(c),
		Progress:  chooseProgress(c.App.ErrWriter, c.Bool("quiet")),
	}
	logDir := filepath.Dir(opts.DBPath)
	if path := c.String("config"); path != "" {
		cfg, err := config.Load(path)
		if err != nil {
			return err
		}
		opts.Monitor, opts.MonitorSource = cfg.Monitor, cfg.Path
		logDir = cfg.Process.RunFilesPath
	}
	logger, closeLog, err := openStudyLog(logDir)
	if err != nil {
		return err
	}
	defer closeLog()
	opts.Logger = logger

	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	report, err := manager.Rerun(ctx, opts)
	if err == nil && report != nil && len(report.Selected) == 0 {
		return cli.Exit(noRunSelected(opts.DBPath), 1)
	}
	if report != nil {
		printRerun(c.App.Writer, report)
	}
	if err != nil && ctx.Err() != nil {
		return cli.Exit("interrupted: the stored results are kept, and the checkpoints hold the epochs done", 130)
	}
	return err
}

// noRunSelected returns the error message of a selection that matches no
// run of db, with the commands that list the runs.
func noRunSelected(db string) string {
	return fmt.Sprintf("no run of %s matches the selection.\n"+
		"List the run ids, which do not change, with: mosaic query --db %s \"SELECT run_id, label, status, epochs FROM results\"\n"+
		"The numbers (#) of running and failed runs are listed by: mosaic status --db %s", db, db, db)
}

// parseSelection builds the run selection of rerun's flags. An --ids item
// is a run or pipeline id, a run number, or a range of run numbers such as
// 7-9.
func parseSelection(where, ids, labelLike string) (store.Selection, error) {
	sel := store.Selection{Where: where, LabelLike: labelLike}
	for _, item := range strings.Split(ids, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		// A pipeline id of decimal digits only would otherwise read as a
		// number, and its run ids as ranges.
		if isPipelineOrRunID(item) {
			sel.IDs = append(sel.IDs, item)
			continue
		}
		if n, err := strconv.ParseInt(item, 10, 64); err == nil {
			sel.Numbers = append(sel.Numbers, n)
			continue
		}
		low, high, isRange := strings.Cut(item, "-")
		first, err1 := strconv.ParseInt(low, 10, 64)
		last, err2 := strconv.ParseInt(high, 10, 64)
		if isRange && err1 == nil && err2 == nil {
			if first > last || last-first > 1_000_000 {
				return sel, fmt.Errorf("invalid --ids range %q: expected FIRST-LAST with FIRST <= LAST", item)
			}
			for n := first; n <= last; n++ {
				sel.Numbers = append(sel.Numbers, n)
			}
			continue
		}
		sel.IDs = append(sel.IDs, item)
	}
	return sel, nil
}

// isPipelineOrRunID reports whether item has the form of a pipeline id (16
// lower-case hex digits, see pipeline.ComputeID) or of a run id (a pipeline
// id, "-" and a replica number).
func isPipelineOrRunID(item string) bool {
	pipelineID, replica, isRun := strings.Cut(item, "-")
	if len(pipelineID) != 16 || strings.Trim(pipelineID, "0123456789abcdef") != "" {
		return false
	}
	if !isRun {
		return true
	}
	_, err := strconv.ParseUint(replica, 10, 32)
	return err == nil
}

func printRerun(w io.Writer, r *manager.RerunReport) {
	for _, s := range r.Skips {
		fmt.Fprintf(w, "not continued: #%d %s (%s): %s\n", s.Run.Number, s.Run.RunID, s.Run.Label, s.Reason)
	}
	fmt.Fprintf(w, "%d %s selected, %d continued: %d done, %d failed, %d diverged, %d timed out, %d interrupted, %d not continued (%.1fs)\n",
		len(r.Selected), plural(len(r.Selected), "run", "runs"), len(r.Selected)-len(r.Skips), r.Done, r.Failed, r.Diverged, r.TimedOut, r.Interrupted,
		len(r.Skips), r.Elapsed.Seconds())
}
