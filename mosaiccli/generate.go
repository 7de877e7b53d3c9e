package mosaiccli

import (
	"fmt"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/mosaic-go/mosaic/config"
	"github.com/mosaic-go/mosaic/manager"
	"github.com/mosaic-go/mosaic/pipeline"
)

func generateCommand() *cli.Command {
	return &cli.Command{
		Name:      "generate",
		Usage:     "write the expanded pipelines as JSON files and an index, train nothing",
		ArgsUsage: "CONFIG.ini",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "pipelines", Usage: "folder for the pipeline JSON files"},
			&cli.IntFlag{Name: "max-pipelines", Usage: "reject configs that expand to more pipelines than this",
				DefaultText: strconv.Itoa(config.DefaultMaxPipelines)},
		},
		Action: generateAction,
	}
}

func generateAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return cli.Exit("usage: mosaic generate CONFIG.ini -o FOLDER", 2)
	}
	plan, err := manager.Expand(c.Args().First(), c.Int("max-pipelines"))
	if err != nil {
		return err
	}
	dir := c.String("output")
	if err := pipeline.WriteDir(dir, plan.Pipelines); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "wrote %d pipelines (%d runs with multiplicity %d) to %s\n",
		len(plan.Pipelines), len(plan.Specs), plan.Config.Monitor.Multiplicity, dir)
	return nil
}
