package builtin

import (
	"math"
	"math/rand/v2"
	"sort"

	"github.com/mosaic-go/mosaic/stage"
)

// targetFunctions are the functions of the function generator, by name,
// with their number of inputs.
var targetFunctions = map[string]struct {
	dim int
	f   func(x []float64) float64
}{
	// 1-D functions of x in [-1, 1].
	"sin":  {1, func(x []float64) float64 { return math.Sin(math.Pi * x[0]) }},
	"cube": {1, func(x []float64) float64 { return x[0] * x[0] * x[0] }},
	"abs":  {1, func(x []float64) float64 { return math.Abs(x[0]) }},
	// 2-D functions of (x, y) in [-1, 1]².
	"gaussian": {2, func(x []float64) float64 { return math.Exp(-2 * (x[0]*x[0] + x[1]*x[1])) }},
	"saddle":   {2, func(x []float64) float64 { return x[0]*x[0] - x[1]*x[1] }},
	"ripple": {2, func(x []float64) float64 {
		return math.Sin(math.Pi * 2 * math.Sqrt(x[0]*x[0]+x[1]*x[1]))
	}},
}

// functionNames returns the names of targetFunctions, sorted.
func functionNames() []string {
	names := make([]string, 0, len(targetFunctions))
	for name := range targetFunctions {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// function draws inputs uniformly from [-1, 1]^dim and targets f(x) plus
// Gaussian noise of standard deviation Noise.
func (s *Synthetic) function(rng *rand.Rand) *sample {
	fn := targetFunctions[s.Function]
	g := &sample{features: fn.dim, task: stage.Regression}
	x := make([]float64, fn.dim)
	for i := 0; i < s.DataSize; i++ {
		for j := range x {
			x[j] = 2*rng.Float64() - 1
			g.x = append(g.x, float32(x[j]))
		}
		g.y = append(g.y, float32(fn.f(x)+s.Noise*rng.NormFloat64()))
	}
	return g
}
