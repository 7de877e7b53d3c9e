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
			&cli.StringFlag{Name: "ids", Usage: "runs by number (the # of mosaic status, ranges allowed: 3,7-9), run id or pipeline id, comma-separated"},
			&cli.StringFlag{Name: "label-like", Usage: "SQL LIKE pattern on the pipeline label, such as '%mlp_funnel%'"},
			&cli.StringFlag{Name: "config", Usage: "study config whose [MONITOR] sets nb_processus, the GPUs and the data cache (default: one run at a time, no GPU, no cache)"},
			&cli.IntFlag{Name: "workers", Aliases: []string{"j"}, Usage: "runs in parallel (default: nb_processus of --config, else 1)"},
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
	if report != nil {
		printRerun(c.App.Writer, report)
	}
	if err != nil && ctx.Err() != nil {
		return cli.Exit("interrupted: the stored results are kept, and the checkpoints hold the epochs done", 130)
	}
	return err
}

// parseSelection builds the run selection of rerun's flags. An --ids item
// is a run number, a range of run numbers such as 7-9, or a run or pipeline
// id.
func parseSelection(where, ids, labelLike string) (store.Selection, error) {
	sel := store.Selection{Where: where, LabelLike: labelLike}
	for _, item := range strings.Split(ids, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
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

func printRerun(w io.Writer, r *manager.RerunReport) {
	if len(r.Selected) == 0 {
		fmt.Fprintln(w, "no run matches the selection")
		return
	}
	for _, s := range r.Skips {
		fmt.Fprintf(w, "not continued: #%d %s (%s): %s\n", s.Run.Number, s.Run.RunID, s.Run.Label, s.Reason)
	}
	fmt.Fprintf(w, "%d runs selected, %d continued: %d done, %d failed, %d diverged, %d timed out, %d interrupted, %d not continued (%.1fs)\n",
		len(r.Selected), len(r.Selected)-len(r.Skips), r.Done, r.Failed, r.Diverged, r.TimedOut, r.Interrupted,
		len(r.Skips), r.Elapsed.Seconds())
}
