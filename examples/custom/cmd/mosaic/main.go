// Command mosaic is MOSAIC's command line with one more class: the circles
// data stage of examples/custom/circles. The whole customisation is the
// blank import; everything else is the standard mosaic.
package main

import (
	"github.com/mosaic-go/mosaic/mosaiccli"

	// The built-in stages, as the standard mosaic has them.
	_ "github.com/mosaic-go/mosaic/stage/builtin"

	// The custom stage: its init function registers the class circles.
	_ "github.com/mosaic-go/mosaic/examples/custom/circles"
)

func main() {
	mosaiccli.Main()
}
