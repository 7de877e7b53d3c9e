package engine

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// TestGemmTilesMatchGemm compares the tiled gemm with one blas32.Gemm call
// for every transpose combination, on a C of 130×400 that spans partial
// tiles in both directions.
func TestGemmTilesMatchGemm(t *testing.T) {
	const m, n, k = 130, 400, 70
	rng := rand.New(rand.NewPCG(9, 9))
	random := func(rows, cols int) blas32.General {
		return blas32.General{Rows: rows, Cols: cols, Stride: cols, Data: randomAwayFromZero(rng, rows*cols)}
	}
	for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
		for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			a := random(m, k)
			if tA == blas.Trans {
				a = random(k, m)
			}
			b := random(k, n)
			if tB == blas.Trans {
				b = random(n, k)
			}
			want := random(m, n)
			got := blas32.General{Rows: m, Cols: n, Stride: n, Data: append([]float32(nil), want.Data...)}

			blas32.Gemm(tA, tB, 0.5, a, b, 2, want)
			gemm(tA, tB, 0.5, a, b, 2, got)
			for i := range want.Data {
				if math.Abs(float64(got.Data[i]-want.Data[i])) > 1e-4*(1+math.Abs(float64(want.Data[i]))) {
					t.Fatalf("tA=%c tB=%c: C[%d,%d] = %g, blas32.Gemm gives %g", tA, tB, i/n, i%n, got.Data[i], want.Data[i])
				}
			}
		}
	}
}
