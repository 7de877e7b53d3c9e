package mosaiccli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/mosaic-go/mosaic/store"
)

func statusCommand() *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "show the runs per status, the running runs, the last failures and the best test loss per label",
		Flags: []cli.Flag{
			dbFlag,
			&cli.IntFlag{Name: "top", Value: 20, Usage: "number of labels to list per loss function, best first; 0 lists all"},
			&cli.IntFlag{Name: "failures", Value: 5, Usage: "number of failed or timed-out runs to list, most recent first"},
			&cli.BoolFlag{Name: "json", Usage: "print one JSON document instead of tables"},
			&cli.StringFlag{Name: "jobs", Usage: "study folder of `mosaic submit`: add the state of every submitted run, from the database, the result files not yet collected and squeue or condor_q"},
		},
		Action: statusAction,
	}
}

// studyStatus is the content of `mosaic status`, which --json prints as is.
type studyStatus struct {
	DB       string             `json:"db"`
	Total    int                `json:"total"`
	Counts   map[string]int     `json:"counts"`
	Running  []store.RunningRun `json:"running"`
	Failures []store.Failure    `json:"failures"`
	// Best lists the labels with a done run, grouped by loss function, up
	// to --top per loss function. BestTotal is the number of labels before
	// that cut, counting a label once per loss function.
	Best      []store.LabelBest `json:"best"`
	BestTotal int               `json:"best_total"`
	// Cache is nil when no data cache lookup was recorded.
	Cache *store.CacheCounts `json:"data_cache,omitempty"`
	Jobs  *jobsStatus        `json:"jobs,omitempty"`
}

func statusAction(c *cli.Context) error {
	var jobs *jobsStatus
	if study := c.String("jobs"); study != "" {
		var err error
		if jobs, err = readJobs(c.Context, study, c.String("db")); err != nil {
			return err
		}
		// Before the first collect there is no database: the jobs are all
		// there is to show.
		if _, err := os.Stat(c.String("db")); errors.Is(err, fs.ErrNotExist) {
			if c.Bool("json") {
				return writeJSON(c.App.Writer, studyStatus{DB: c.String("db"), Counts: map[string]int{}, Jobs: jobs})
			}
			return printJobs(c.App.Writer, jobs, c.String("db"))
		}
	}

	st, err := store.OpenReadOnly(c.Context, c.String("db"))
	if err != nil {
		return err
	}
	defer st.Close()

	s := studyStatus{DB: c.String("db"), Counts: map[string]int{}, Jobs: jobs,
		Running: []store.RunningRun{}, Failures: []store.Failure{}, Best: []store.LabelBest{}}
	counts, err := st.Counts(c.Context)
	if err != nil {
		return err
	}
	for status, n := range counts {
		s.Counts[string(status)] = n
		s.Total += n
	}
	running, err := st.RunningRuns(c.Context)
	if err != nil {
		return err
	}
	failures, err := st.RecentFailures(c.Context, c.Int("failures"))
	if err != nil {
		return err
	}
	best, bestTotal, err := st.BestPerLabel(c.Context, c.Int("top"))
	if err != nil {
		return err
	}
	// append keeps the empty slices, so --json prints [] rather than null.
	s.Running = append(s.Running, running...)
	s.Failures = append(s.Failures, failures...)
	s.Best = append(s.Best, best...)
	s.BestTotal = bestTotal
	cache, err := st.CacheCounts(c.Context)
	if err != nil {
		return err
	}
	if cache.Hits+cache.Misses > 0 {
		s.Cache = &cache
	}

	if c.Bool("json") {
		return writeJSON(c.App.Writer, s)
	}
	if jobs != nil {
		if err := printJobs(c.App.Writer, jobs, c.String("db")); err != nil {
			return err
		}
	}
	return printStatus(c.App.Writer, s)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printStatus(w io.Writer, s studyStatus) error {
	statuses := make([]string, 0, len(s.Counts))
	for status := range s.Counts {
		statuses = append(statuses, status)
	}
	sort.Strings(statuses)
	fmt.Fprintf(w, "%d %s in %s\n", s.Total, plural(s.Total, "run", "runs"), s.DB)
	for _, status := range statuses {
		fmt.Fprintf(w, "  %-10s %d\n", status, s.Counts[status])
	}
	if s.Cache != nil {
		lookups := s.Cache.Hits + s.Cache.Misses
		fmt.Fprintf(w, "data cache: %d hits, %d misses (%.0f%% hits)\n",
			s.Cache.Hits, s.Cache.Misses, 100*float64(s.Cache.Hits)/float64(lookups))
	}

	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(s.Running) > 0 {
		fmt.Fprintln(tw, "\nrunning")
		fmt.Fprintln(tw, "#\trun\tepoch\tgpus\tlabel")
		for _, r := range s.Running {
			fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\n", r.Number, r.RunID, r.Epochs, dash(r.GPUs), r.Label)
		}
	}
	if len(s.Failures) > 0 {
		fmt.Fprintln(tw, "\nlast failures")
		fmt.Fprintln(tw, "#\trun\tstatus\tlabel\terror")
		for _, f := range s.Failures {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", f.Number, f.RunID, f.Status, f.Label, firstLine(f.Error))
		}
	}
	printBest(tw, s.Best, s.BestTotal)
	return tw.Flush()
}

// printBest prints the best runs per label, ranked within each loss
// function, and says how many labels --top left out.
func printBest(w io.Writer, best []store.LabelBest, total int) {
	if len(best) == 0 {
		return
	}
	fmt.Fprintln(w, "\nbest runs per label, ranked within each loss function")
	fmt.Fprintln(w, "loss_function\tlabel\tdone\tbest test_loss\tmean test_loss\tbest test_accuracy")
	for _, b := range best {
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\t%s\n", dash(b.LossFunction), b.Label, b.Done,
			fmtPtr(b.BestTestLoss), fmtPtr(b.MeanTestLoss), fmtPtr(b.BestTestAccuracy))
	}
	if total > len(best) {
		fmt.Fprintf(w, "showing %d of %d labels; --top N shows more\n", len(best), total)
	}
}

// firstLine returns the first line of an error, with "…" when more follow.
func firstLine(s string) string {
	if first, _, more := strings.Cut(s, "\n"); more {
		return first + " …"
	}
	return s
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func fmtPtr(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.4g", *v)
}
