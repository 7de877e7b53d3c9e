package mosaiccli

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mosaic-go/mosaic/analysis"
	"github.com/mosaic-go/mosaic/store"
)

func plotCommand() *cli.Command {
	return &cli.Command{
		Name:  "plot",
		Usage: "draw loss curves or meta-plots from a study database",
		Subcommands: []*cli.Command{
			{
				Name:  "curves",
				Usage: "one panel of train and test loss per run, several panels a page, in one PDF",
				Flags: []cli.Flag{
					dbFlag,
					&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "curves.pdf", Usage: "output file (.pdf, .png or .svg)"},
					&cli.StringFlag{Name: "where", Usage: "SQL condition on the results view selecting the runs, e.g. \"nb_params < 200 AND status = 'done'\""},
					&cli.IntFlag{Name: "per-page", Value: 4, Usage: "panels per page"},
					&cli.BoolFlag{Name: "log-y", Usage: "logarithmic loss axis"},
				},
				Action: plotCurvesAction,
			},
			{
				Name:      "meta",
				Usage:     "plot indicators against parameters, grouped, as a plot INI file describes",
				ArgsUsage: "PLOT.ini",
				Flags: []cli.Flag{
					dbFlag,
					&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "meta.pdf", Usage: "output file (.pdf, .png or .svg); images are numbered when there are several figures"},
				},
				Action: plotMetaAction,
			},
		},
	}
}

func plotCurvesAction(c *cli.Context) error {
	st, err := store.OpenReadOnly(c.Context, c.String("db"))
	if err != nil {
		return err
	}
	defer st.Close()
	out := c.String("output")
	written, err := analysis.PlotCurves(c.Context, st.DB(), analysis.CurvesOptions{
		Where:   c.String("where"),
		PerPage: c.Int("per-page"),
		LogY:    c.Bool("log-y"),
		Out:     out,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "wrote %s (%d %s)\n", strings.Join(written.Files, ", "),
		written.Pages, plural(written.Pages, "page", "pages"))
	return nil
}

func plotMetaAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return cli.Exit("usage: mosaic plot meta PLOT.ini --db study.db -o meta.pdf", 2)
	}
	st, err := store.OpenReadOnly(c.Context, c.String("db"))
	if err != nil {
		return err
	}
	defer st.Close()
	files, err := analysis.PlotMeta(c.Context, st.DB(), c.Args().First(), c.String("output"))
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "wrote %s\n", strings.Join(files, ", "))
	return nil
}
