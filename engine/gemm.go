package engine

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// Tile sizes of gemm. gonum v0.17's Sgemm splits C into 64×64 blocks and,
// once C spans 4 blocks or more, computes them in goroutines, which allocates
// on every call. A tile of 64×192 spans 3 blocks, so gonum multiplies it
// serially and allocates nothing.
const (
	gemmTileRows = 64
	gemmTileCols = 192
)

// gemm computes C = alpha·op(A)·op(B) + beta·C like blas32.Gemm, one tile of
// C at a time so that a training step allocates nothing.
func gemm(tA, tB blas.Transpose, alpha float32, a, b blas32.General, beta float32, c blas32.General) {
	for i := 0; i < c.Rows; i += gemmTileRows {
		rows := min(gemmTileRows, c.Rows-i)
		subA := a
		if tA == blas.NoTrans {
			subA.Rows, subA.Data = rows, a.Data[i*a.Stride:]
		} else {
			subA.Cols, subA.Data = rows, a.Data[i:]
		}
		for j := 0; j < c.Cols; j += gemmTileCols {
			cols := min(gemmTileCols, c.Cols-j)
			subB := b
			if tB == blas.NoTrans {
				subB.Cols, subB.Data = cols, b.Data[j:]
			} else {
				subB.Rows, subB.Data = cols, b.Data[j*b.Stride:]
			}
			subC := blas32.General{Rows: rows, Cols: cols, Stride: c.Stride, Data: c.Data[i*c.Stride+j:]}
			blas32.Gemm(tA, tB, alpha, subA, subB, beta, subC)
		}
	}
}
