package mosaiccli

import (
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/mosaic-go/mosaic/analysis"
	"github.com/mosaic-go/mosaic/store"
)

func queryCommand() *cli.Command {
	return &cli.Command{
		Name:      "query",
		Usage:     "run a read-only SQL query on a study database and print an aligned table or CSV",
		ArgsUsage: "\"SELECT ...\"",
		Flags: []cli.Flag{
			dbFlag,
			&cli.BoolFlag{Name: "csv", Usage: "print CSV instead of a table"},
		},
		Action: queryAction,
	}
}

func queryAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return cli.Exit("usage: mosaic query --db study.db \"SELECT label, avg(test_loss) FROM results GROUP BY label\"", 2)
	}
	st, err := store.OpenReadOnly(c.Context, c.String("db"))
	if err != nil {
		return err
	}
	defer st.Close()
	return analysis.Query(c.Context, st.DB(), c.Args().First(), c.App.Writer, c.Bool("csv"))
}

func exportCommand() *cli.Command {
	return &cli.Command{
		Name:  "export",
		Usage: "write the results view with every parameter and info value as columns, one row per run",
		Flags: []cli.Flag{
			dbFlag,
			&cli.StringFlag{Name: "csv", Value: "-", Usage: "CSV file to write; - is standard output"},
		},
		Action: exportAction,
	}
}

func exportAction(c *cli.Context) error {
	st, err := store.OpenReadOnly(c.Context, c.String("db"))
	if err != nil {
		return err
	}
	defer st.Close()

	var w io.Writer = c.App.Writer
	path := c.String("csv")
	if path != "-" {
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("create export file: %w", err)
		}
		defer f.Close()
		w = f
	}
	if err := analysis.Export(c.Context, st.DB(), w); err != nil {
		return err
	}
	if path != "-" {
		fmt.Fprintf(c.App.ErrWriter, "wrote %s\n", path)
	}
	return nil
}
