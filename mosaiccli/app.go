package mosaiccli

import (
	"fmt"

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
		CommandNotFound: commandNotFound,
	}
}

// commandNotFound reports an unknown command and lists where the known ones
// are, instead of urfave/cli's "No help topic" message.
func commandNotFound(c *cli.Context, name string) {
	fmt.Fprintf(c.App.ErrWriter, "mosaic: unknown command %q: run mosaic --help for the list of commands\n", name)
	// urfave/cli ignores CommandNotFound's outcome, so exit with status 2
	// here, through the app's handler when a caller (a test) set one.
	err := cli.Exit("", 2)
	if h := c.App.ExitErrHandler; h != nil {
		h(c, err)
		return
	}
	cli.HandleExitCoder(err)
}
