// Command mosaic-job is MOSAIC's static cluster job with one more class: the
// circles data stage of examples/custom/circles. Build it with
// CGO_ENABLED=0 and pass it to `mosaic submit --job-binary`.
package main

import (
	"github.com/mosaic-go/mosaic/mosaicjob"

	// The built-in stages, as the standard mosaic-job has them.
	_ "github.com/mosaic-go/mosaic/stage/builtin"

	// The custom stage: its init function registers the class circles.
	_ "github.com/mosaic-go/mosaic/examples/custom/circles"
)

func main() {
	mosaicjob.Main()
}
