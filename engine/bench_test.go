package engine

import (
	"math/rand/v2"
	"testing"
)

// benchmarkStep measures one Adam training step (forward, MSE loss,
// backward, update) on a batch of 64 samples.
func benchmarkStep(b *testing.B, in int, hidden []int) {
	const n = 64
	net := newMLP(b, 1, "relu", in, hidden, 1)
	rng := rand.New(rand.NewPCG(1, 2))
	x := randomAwayFromZero(rng, n*in)
	y := randomAwayFromZero(rng, n)
	step := trainingStep(net, MSELoss{}, NewAdam(net, 1e-3), x, y, n)
	step()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		step()
	}
}

// BenchmarkStepSmall is 2→4×4→1 (4 hidden layers of 4 units).
func BenchmarkStepSmall(b *testing.B) { benchmarkStep(b, 2, []int{4, 4, 4, 4}) }

// BenchmarkStepLarge is 64→3×256→1 (3 hidden layers of 256 units).
func BenchmarkStepLarge(b *testing.B) { benchmarkStep(b, 64, []int{256, 256, 256}) }
