package mosaiccli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mosaic-go/mosaic/submit"
	"github.com/mosaic-go/mosaic/submit/condor"
	"github.com/mosaic-go/mosaic/submit/slurm"
)

func submitCommand() *cli.Command {
	return &cli.Command{
		Name:      "submit",
		Usage:     "write (and with --now, submit) batch jobs that train a config's runs on a Slurm or HTCondor cluster",
		ArgsUsage: "--slurm|--condor CONFIG.ini --out STUDY_DIR",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "slurm", Usage: "submit Slurm job arrays"},
			&cli.BoolFlag{Name: "condor", Usage: "submit one HTCondor cluster"},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Value: "study", Usage: "study folder for run specs, submit files, logs and results"},
			&cli.StringFlag{Name: "db", Usage: "study database: runs stored there as done or diverged are not submitted again, and the printed collect command imports into it",
				DefaultText: "mosaic.db"},
			&cli.BoolFlag{Name: "now", Usage: "run sbatch or condor_submit and record the job ids; otherwise print the command"},
			&cli.BoolFlag{Name: "dry-run", Usage: "print counts and the first submit description, write nothing"},
			&cli.IntFlag{Name: "max-running", Usage: "Slurm: runs of one array running at once (--array=...%N); 0 means no limit"},
			&cli.IntFlag{Name: "max-array-size", Usage: "Slurm: split arrays longer than this when scontrol cannot tell the cluster's MaxArraySize",
				DefaultText: strconv.Itoa(slurm.DefaultMaxArraySize)},
			&cli.StringFlag{Name: "partition", Usage: "Slurm partition"},
			&cli.IntFlag{Name: "max-idle", Usage: "HTCondor: jobs idle at once (max_idle); 0 means no limit"},
			&cli.IntFlag{Name: "max-retries", Usage: "HTCondor: restarts of a failed job (max_retries)"},
			&cli.IntFlag{Name: "cpus", Usage: "cores per run", DefaultText: "1"},
			&cli.IntFlag{Name: "mem", Usage: "memory per run, in MiB", DefaultText: "the scheduler's"},
			&cli.IntFlag{Name: "time", Usage: "wall time limit per run, in minutes", DefaultText: "the scheduler's"},
			&cli.IntFlag{Name: "gpus", Usage: "GPUs per run", DefaultText: "1 when need_gpu = True, else 0"},
			&cli.StringFlag{Name: "job-binary", Usage: "the static mosaic-job binary",
				DefaultText: "beside mosaic, then on PATH"},
			&cli.StringFlag{Name: "template", Usage: "text/template file replacing the built-in submit description (fields in docs/cluster.md)"},
			&cli.StringFlag{Name: "post-url", Usage: "jobs also post their result to this `mosaic collect --listen` receiver, such as http://submit-host:8470"},
			&cli.StringFlag{Name: "token-file", Usage: "with --post-url: file holding the receiver's token; HTCondor transfers it with each job, Slurm jobs read it by path",
				DefaultText: "on Slurm, MOSAIC_TOKEN in the sbatch environment"},
		},
		Action: submitAction,
	}
}

func submitAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return cli.Exit("usage: mosaic submit --slurm|--condor CONFIG.ini --out STUDY_DIR", 2)
	}
	backend, err := chooseBackend(c)
	if err != nil {
		return err
	}
	opts := submit.Options{
		Config:  c.Args().First(),
		Out:     c.String("out"),
		DB:      c.String("db"),
		Backend: backend,
		Resources: submit.Resources{
			CPUs: c.Int("cpus"), MemMB: c.Int("mem"), TimeMinutes: c.Int("time"), GPUs: c.Int("gpus"),
		},
		JobBinary:    c.String("job-binary"),
		TemplateFile: c.String("template"),
		MaxRunning:   c.Int("max-running"),
		MaxIdle:      c.Int("max-idle"),
		MaxRetries:   c.Int("max-retries"),
		PostURL:      c.String("post-url"),
		TokenFile:    c.String("token-file"),
		Now:          c.Bool("now"),
		DryRun:       c.Bool("dry-run"),
	}
	report, err := submit.Submit(c.Context, opts)
	if err != nil {
		return err
	}
	printSubmitReport(c.App.Writer, opts, report)
	return nil
}

func chooseBackend(c *cli.Context) (submit.Backend, error) {
	switch {
	case c.Bool("slurm") && c.Bool("condor"):
		return nil, cli.Exit("give one of --slurm and --condor, not both", 2)
	case c.Bool("slurm"):
		return &slurm.Backend{MaxArraySize: c.Int("max-array-size"), Partition: c.String("partition")}, nil
	case c.Bool("condor"):
		return &condor.Backend{}, nil
	}
	return nil, cli.Exit("give the scheduler: --slurm or --condor", 2)
}

func printSubmitReport(w io.Writer, opts submit.Options, r *submit.Report) {
	fmt.Fprintf(w, "%d %s in the study, %d already finished, %d not yet collected, %d to submit\n",
		r.Runs, plural(r.Runs, "run", "runs"), r.Finished, r.Uncollected, r.Submitted)
	if r.Uncollected > 0 {
		fmt.Fprintf(w, "%d %s not yet collected, so %s left out. Run %s first\n",
			r.Uncollected, plural(r.Uncollected, "run has a result file", "runs have result files"),
			plural(r.Uncollected, "it is", "they are"), collectCommandLine(opts.Out, opts.DB))
	}
	if r.Submitted == 0 {
		fmt.Fprintln(w, "nothing to submit")
		return
	}
	if opts.DryRun {
		fmt.Fprintf(w, "%d submit descriptions; the first one:\n\n", len(r.Descriptions))
		if len(r.Descriptions) > 0 {
			w.Write(r.Descriptions[0].Text)
		}
		return
	}
	for _, p := range r.Paths {
		fmt.Fprintf(w, "wrote %s\n", p)
	}
	if opts.PostURL != "" {
		fmt.Fprintf(w, "jobs post their results to %s: keep `mosaic collect --listen` running there; "+
			"results not delivered (exit 86) stay in %s/results\n", opts.PostURL, strings.TrimRight(opts.Out, "/"))
	}
	if opts.Now {
		for _, j := range r.Jobs {
			fmt.Fprintf(w, "submitted job %s (%d runs)\n", j.JobID, j.Count)
		}
		fmt.Fprintf(w, "when the jobs end: %s\n", collectCommandLine(opts.Out, opts.DB))
		return
	}
	fmt.Fprintln(w, "to submit, run:")
	for _, cmd := range r.Commands {
		fmt.Fprintf(w, "  %s\n", strings.Join(cmd, " "))
	}
}

// collectCommandLine returns the `mosaic collect` command that imports the
// result files of the study folder into db. An empty db, as when submit ran
// without --db, stands for the database collect uses without --db.
func collectCommandLine(study, db string) string {
	if db == "" {
		db = dbFlag.Value
		if env := os.Getenv(dbFlag.EnvVars[0]); env != "" {
			db = env
		}
	}
	return fmt.Sprintf("mosaic collect %s --db %s", filepath.Join(study, "results"), db)
}
