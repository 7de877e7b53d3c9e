package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// gemmCase is one product to check: C (m×n) = alpha·op(A)·op(B) + beta·C with
// a common dimension k. pad adds unused columns to every matrix, so strides
// exceed widths as in a submatrix.
type gemmCase struct {
	m, n, k     int
	alpha, beta float32
	pad         int
}

// gemmSizes cross every blocking boundary, and include degenerate sizes. They
// have partial micro-tiles (m not a multiple of 6, n not of 16), k above one
// packed block (256), m above one block of A (96) and n above one block of
// B (512).
var gemmSizes = []gemmCase{
	{1, 1, 1, 1, 0, 0},
	{6, 16, 1, 1, 0, 0},
	{7, 17, 3, 1, 1, 0},
	{64, 256, 64, 1, 0, 0},
	{64, 1, 256, 1, 1, 0},
	{1, 256, 64, 1, 0, 3},
	{97, 33, 257, 0.5, 2, 1},
	{13, 529, 5, -1.5, 0.25, 2},
	{100, 30, 600, 2, 0, 0},
	{5, 3, 0, 1, 0.5, 0},
}

// newGemmOperands returns random A, B and C for c and the transposes, each
// with c.pad unused columns.
func newGemmOperands(rng *rand.Rand, c gemmCase, tA, tB blas.Transpose) (a, b, dst blas32.General) {
	random := func(rows, cols int) blas32.General {
		stride := cols + c.pad
		data := make([]float32, max(rows*stride, 1))
		for i := range data {
			data[i] = float32(rng.NormFloat64())
		}
		return blas32.General{Rows: rows, Cols: cols, Stride: stride, Data: data}
	}
	a = random(c.m, c.k)
	if tA == blas.Trans {
		a = random(c.k, c.m)
	}
	b = random(c.k, c.n)
	if tB == blas.Trans {
		b = random(c.n, c.k)
	}
	return a, b, random(c.m, c.n)
}

// referenceGemm computes alpha·op(A)·op(B) + beta·C in float64 with the
// textbook triple loop, including the BLAS rule that beta = 0 ignores C.
func referenceGemm(tA, tB blas.Transpose, alpha float32, a, b blas32.General, beta float32, c blas32.General, k int) []float64 {
	at := func(g blas32.General, t blas.Transpose, i, j int) float64 {
		if t == blas.Trans {
			i, j = j, i
		}
		return float64(g.Data[i*g.Stride+j])
	}
	want := make([]float64, c.Rows*c.Cols)
	for i := 0; i < c.Rows; i++ {
		for j := 0; j < c.Cols; j++ {
			var sum float64
			for p := 0; p < k; p++ {
				sum += at(a, tA, i, p) * at(b, tB, p, j)
			}
			v := float64(alpha) * sum
			if beta != 0 {
				v += float64(beta) * float64(c.Data[i*c.Stride+j])
			}
			want[i*c.Cols+j] = v
		}
	}
	return want
}

// checkGemm compares got with want, allowing the rounding of a float32 sum
// of k products, and checks that gemm left C's padding columns alone.
func checkGemm(t *testing.T, got, before blas32.General, want []float64, k int) {
	t.Helper()
	tolerance := 1e-5 * float64(k+1)
	for i := 0; i < got.Rows; i++ {
		for j := 0; j < got.Stride; j++ {
			idx := i*got.Stride + j
			if j >= got.Cols {
				if got.Data[idx] != before.Data[idx] {
					t.Fatalf("padding C[%d,%d] changed from %g to %g", i, j, before.Data[idx], got.Data[idx])
				}
				continue
			}
			w := want[i*got.Cols+j]
			if diff := math.Abs(float64(got.Data[idx]) - w); diff > tolerance*(1+math.Abs(w)) {
				t.Fatalf("C[%d,%d] = %g, reference %g", i, j, got.Data[idx], w)
			}
		}
	}
}

// gemmVariants are the code paths gemm can take, so that each is checked on
// every size and not only on those the size thresholds send to it. The last
// one is gonum's tiled path in builds without an assembly kernel.
var gemmVariants = []struct {
	name string
	run  func(tA, tB blas.Transpose, alpha float32, a, b blas32.General, beta float32, c blas32.General, k int)
}{
	{"dispatch", func(tA, tB blas.Transpose, alpha float32, a, b blas32.General, beta float32, c blas32.General, k int) {
		gemm(tA, tB, alpha, a, b, beta, c)
	}},
	{"loops", func(tA, tB blas.Transpose, alpha float32, a, b blas32.General, beta float32, c blas32.General, k int) {
		scaleMatrix(beta, c)
		gemmLoops(tA, tB, alpha, a, b, c, k)
	}},
	{"packed_go", func(tA, tB blas.Transpose, alpha float32, a, b blas32.General, beta float32, c blas32.General, k int) {
		scaleMatrix(beta, c)
		if k > 0 {
			gemmPacked(tA, tB, alpha, a, b, c, k, kernelGeneric)
		}
	}},
	{"default_path", func(tA, tB blas.Transpose, alpha float32, a, b blas32.General, beta float32, c blas32.General, k int) {
		scaleMatrix(beta, c)
		switch {
		case gemmKernel == nil && k > 0:
			gemmTiled(tA, tB, alpha, a, b, c)
		case gemmKernel != nil && k > 0:
			gemmPacked(tA, tB, alpha, a, b, c, k, gemmKernel)
		}
	}},
}

func TestGemmMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, size := range gemmSizes {
		for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				a, b, c := newGemmOperands(rng, size, tA, tB)
				want := referenceGemm(tA, tB, size.alpha, a, b, size.beta, c, size.k)
				for _, variant := range gemmVariants {
					name := fmt.Sprintf("%s/%dx%dx%d/%c%c", variant.name, size.m, size.n, size.k, tA, tB)
					t.Run(name, func(t *testing.T) {
						got := c
						got.Data = append([]float32(nil), c.Data...)
						variant.run(tA, tB, size.alpha, a, b, size.beta, got, size.k)
						checkGemm(t, got, c, want, size.k)
					})
				}
			}
		}
	}
}

// TestGemmBetaZeroIgnoresNaN checks the BLAS rule that beta = 0 overwrites
// C, so that NaN left in a reused gradient buffer cannot leak into it.
func TestGemmBetaZeroIgnoresNaN(t *testing.T) {
	for _, size := range []gemmCase{{3, 4, 2, 1, 0, 0}, {70, 40, 50, 1, 0, 0}} {
		a := blas32.General{Rows: size.m, Cols: size.k, Stride: size.k, Data: make([]float32, size.m*size.k)}
		b := blas32.General{Rows: size.k, Cols: size.n, Stride: size.n, Data: make([]float32, size.k*size.n)}
		c := blas32.General{Rows: size.m, Cols: size.n, Stride: size.n, Data: make([]float32, size.m*size.n)}
		for i := range c.Data {
			c.Data[i] = float32(math.NaN())
		}
		gemm(blas.NoTrans, blas.NoTrans, 1, a, b, 0, c)
		for i, v := range c.Data {
			if v != 0 {
				t.Fatalf("%dx%dx%d: C[%d] = %g after beta = 0, want 0", size.m, size.n, size.k, i, v)
			}
		}
	}
}

// TestGemmAllocatesNothing checks that the packed path reuses its buffers.
func TestGemmAllocatesNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	a, b, c := newGemmOperands(rng, gemmCase{m: 64, n: 256, k: 256}, blas.NoTrans, blas.Trans)
	run := func() { gemm(blas.NoTrans, blas.Trans, 1, a, b, 1, c) }
	run()
	if allocs := testing.AllocsPerRun(20, run); allocs != 0 {
		t.Errorf("gemm of 64x256x256 made %v allocations per call, want 0", allocs)
	}
}

// TestKernelsAgree compares the assembly micro-kernel, where this build has
// one, with the Go kernel on the same panels, packed and strided. They differ
// only by rounding, because FMA rounds once where the Go kernel rounds twice.
func TestKernelsAgree(t *testing.T) {
	if gemmKernel == nil {
		t.Skip("this build has no assembly micro-kernel")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, k := range []int{1, 2, 7, 256} {
		for _, stride := range []struct{ lda, ldb int }{{gemmMR, gemmNR}, {gemmMR + 3, gemmNR + 9}} {
			a := randomAwayFromZero(rng, (k-1)*stride.lda+gemmMR)
			b := randomAwayFromZero(rng, (k-1)*stride.ldb+gemmNR)
			const ldc = gemmNR + 5
			start := randomAwayFromZero(rng, (gemmMR-1)*ldc+gemmNR)
			want := append([]float32(nil), start...)
			got := append([]float32(nil), start...)
			kernelGeneric(k, a, stride.lda, b, stride.ldb, want, ldc)
			gemmKernel(k, a, stride.lda, b, stride.ldb, got, ldc)
			for i := range want {
				if math.Abs(float64(got[i]-want[i])) > 1e-5*float64(k)*(1+math.Abs(float64(want[i]))) {
					t.Fatalf("k=%d lda=%d ldb=%d: C[%d] = %g, Go kernel gives %g", k, stride.lda, stride.ldb, i, got[i], want[i])
				}
			}
		}
	}
}
