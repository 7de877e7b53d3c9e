// Package mosaiccli is the command line of mosaic: it expands, runs,
// submits, collects and analyses model comparison studies declared in one
// INI file. cmd/mosaic is a main function that calls Main. A program that
// blank-imports a package registering more stage classes and then calls Main
// is mosaic with those classes, as examples/custom shows.
package mosaiccli

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	// The built-in stages: csv, normalize, the generators, image, onehot,
	// augment, mlp_brick, mlp_funnel, convolution and readout.
	_ "github.com/mosaic-go/mosaic/stage/builtin"
)

// App returns the mosaic application with all its commands.
func App() *cli.App { return newApp() }

// Main runs mosaic with the process's arguments and exits with status 1,
// after printing the error, if a command fails.
func Main() {
	app := newApp()
	if err := app.Run(interspersed(app, os.Args)); err != nil {
		fmt.Fprintln(os.Stderr, "mosaic:", err)
		os.Exit(1)
	}
}
