package mosaiccli

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/mosaic-go/mosaic/manager"
)

// execRunCommand is the child process of `mosaic run`: the run manager
// re-executes the mosaic binary with it, once per run.
func execRunCommand() *cli.Command {
	return &cli.Command{
		Name:            "exec-run",
		Usage:           "run one spec as a child of the run manager (internal)",
		Hidden:          true,
		SkipFlagParsing: true,
		Action:          execRunAction,
	}
}

// execRunAction runs manager.ExecChild and exits with its status. SIGTERM
// and SIGINT stop the run after its last checkpoint.
func execRunAction(c *cli.Context) error {
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	code := manager.ExecChild(ctx, c.Args().Slice(), os.Stdout, os.Stderr)
	if code != 0 {
		return cli.Exit("", code)
	}
	return nil
}
