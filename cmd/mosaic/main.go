// Command mosaic expands, runs, submits, collects and analyses model
// comparison studies declared in one INI file.
package main

import (
	"fmt"
	"os"

	// The built-in stages: csv, normalize, mlp_brick, mlp_funnel.
	_ "github.com/mosaic-go/mosaic/stage/builtin"
)

func main() {
	app := newApp()
	if err := app.Run(interspersed(app, os.Args)); err != nil {
		fmt.Fprintln(os.Stderr, "mosaic:", err)
		os.Exit(1)
	}
}
