package mosaiccli

import (
	"github.com/urfave/cli/v2"
)

// dbFlag is the study database flag shared by most commands.
var dbFlag = &cli.StringFlag{
	Name:    "db",
	Value:   "mosaic.db",
	Usage:   "SQLite database of the study",
	EnvVars: []string{"MOSAIC_DB"},
}

func newApp() *cli.App {
	return &cli.App{
		Name:  "mosaic",
		Usage: "compare machine-learning models over a grid of data and model variants",
		Description: "Declare a grid of pipelines in one INI file, train every pipeline, and compare\n" +
			"them from the SQLite database. See README.md and docs/ for the config grammar.",
		Commands: []*cli.Command{
			runCommand(),
			rerunCommand(),
			statusCommand(),
			generateCommand(),
			classesCommand(),
			submitCommand(),
			collectCommand(),
			plotCommand(),
			queryCommand(),
			exportCommand(),
			execRunCommand(),
		},
	}
}
