package main

import (
	"fmt"
	"sort"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/mosaic-go/mosaic/result"
	"github.com/mosaic-go/mosaic/store"
)

func statusCommand() *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "show how many runs are done or failed, and the best test loss per label",
		Flags: []cli.Flag{
			dbFlag,
			&cli.IntFlag{Name: "top", Value: 20, Usage: "number of labels to list, best first"},
		},
		Action: statusAction,
	}
}

func statusAction(c *cli.Context) error {
	st, err := store.OpenReadOnly(c.Context, c.String("db"))
	if err != nil {
		return err
	}
	defer st.Close()

	counts, err := st.Counts(c.Context)
	if err != nil {
		return err
	}
	statuses := make([]string, 0, len(counts))
	total := 0
	for s, n := range counts {
		statuses = append(statuses, string(s))
		total += n
	}
	sort.Strings(statuses)
	fmt.Fprintf(c.App.Writer, "%d runs in %s\n", total, c.String("db"))
	for _, s := range statuses {
		fmt.Fprintf(c.App.Writer, "  %-10s %d\n", s, counts[result.Status(s)])
	}

	best, err := st.BestPerLabel(c.Context, c.Int("top"))
	if err != nil {
		return err
	}
	if len(best) == 0 {
		return nil
	}
	fmt.Fprintln(c.App.Writer)
	w := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "label\tdone\tbest test_loss\tmean test_loss\tbest test_accuracy")
	for _, b := range best {
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\n", b.Label, b.Done, fmtPtr(b.BestTestLoss), fmtPtr(b.MeanTestLoss), fmtPtr(b.BestTestAccuracy))
	}
	return w.Flush()
}

func fmtPtr(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.4g", *v)
}
