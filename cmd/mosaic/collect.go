package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/mosaic-go/mosaic/collect"
)

func collectCommand() *cli.Command {
	return &cli.Command{
		Name:      "collect",
		Usage:     "merge result files of cluster jobs into the study database; safe to repeat",
		ArgsUsage: "RESULTS_DIR...",
		Flags: []cli.Flag{
			dbFlag,
			&cli.IntFlag{Name: "workers", Usage: "files decoded at once (default: the number of CPUs)"},
		},
		Action: collectAction,
	}
}

func collectAction(c *cli.Context) error {
	if c.NArg() == 0 {
		return cli.Exit("usage: mosaic collect RESULTS_DIR... --db study.db", 2)
	}
	report, err := collect.Collect(c.Context, collect.Options{
		Dirs:    c.Args().Slice(),
		DB:      c.String("db"),
		Workers: c.Int("workers"),
	})
	if err != nil {
		return err
	}
	w := c.App.Writer
	fmt.Fprintf(w, "%d result files: %d new, %d unchanged, %d conflicting, %d rejected; %d files of running jobs skipped\n",
		report.Files, report.Inserted, report.Unchanged, report.Conflicts, len(report.Rejected), report.Temporary)
	for _, r := range report.Rejected {
		fmt.Fprintf(c.App.ErrWriter, "rejected %s: %s\n", r.Path, r.Reason)
	}
	if report.Conflicts > 0 {
		fmt.Fprintln(c.App.ErrWriter, "conflicting results differ from runs already stored as done; the stored ones were kept")
	}
	return nil
}
