package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// denseProducts are the three products of a dense layer of 256→256 on a
// batch of 64: the forward pass (X·Wᵀ), the weight gradient (dYᵀ·X) and the
// input gradient (dY·W).
var denseProducts = []struct {
	name    string
	tA, tB  blas.Transpose
	m, n, k int
}{
	{"forward_NT", blas.NoTrans, blas.Trans, 64, 256, 256},
	{"weight_grad_TN", blas.Trans, blas.NoTrans, 256, 256, 64},
	{"input_grad_NN", blas.NoTrans, blas.NoTrans, 64, 256, 256},
}

// BenchmarkGemm compares gemm with gonum's blas32.Gemm on the products of a
// dense layer, in GFLOP/s (2·m·n·k floating-point operations per product).
func BenchmarkGemm(b *testing.B) {
	impls := []struct {
		name string
		run  func(tA, tB blas.Transpose, alpha float32, a, b blas32.General, beta float32, c blas32.General)
	}{
		{"mosaic", gemm},
		{"gonum", blas32.Gemm},
	}
	for _, p := range denseProducts {
		for _, impl := range impls {
			b.Run(fmt.Sprintf("%s/%dx%dx%d/%s", p.name, p.m, p.n, p.k, impl.name), func(b *testing.B) {
				rng := rand.New(rand.NewPCG(1, 2))
				x, y, c := newGemmOperands(rng, gemmCase{m: p.m, n: p.n, k: p.k}, p.tA, p.tB)
				b.ResetTimer()
				for b.Loop() {
					impl.run(p.tA, p.tB, 1, x, y, 0, c)
				}
				b.ReportMetric(2*float64(p.m*p.n*p.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkAdamUpdate measures one Adam update of a 256×256 weight matrix.
func BenchmarkAdamUpdate(b *testing.B) {
	const n = 256 * 256
	rng := rand.New(rand.NewPCG(1, 2))
	value, m, v, grad := randomAwayFromZero(rng, n), make([]float32, n), make([]float32, n), randomAwayFromZero(rng, n)
	c := adamCoefficients{beta1: 0.9, oneMinusBeta1: 0.1, beta2: 0.999, oneMinusBeta2: 0.001, biasCorrection2Sqrt: 0.5, stepSize: 1e-3, eps: 1e-8}
	for b.Loop() {
		adamUpdate(value, m, v, grad, &c)
	}
}

// BenchmarkReLU measures the forward and backward relu of a batch of 64
// samples of 256 units.
func BenchmarkReLU(b *testing.B) {
	const n = 64 * 256
	rng := rand.New(rand.NewPCG(1, 2))
	in, dOut := randomAwayFromZero(rng, n), randomAwayFromZero(rng, n)
	out, dIn := make([]float32, n), make([]float32, n)
	for b.Loop() {
		reluForward(in, out)
		reluBackward(in, dOut, dIn)
	}
}
