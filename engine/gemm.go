package engine

import (
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// gemm computes matrix products in blocks, and packs each block of A and B
// into a small buffer whose order is the order the micro-kernel reads it in.
// The micro-kernel computes one micro-tile of gemmMR×gemmNR values of C.
// Packing costs O(m·k + k·n) copies against O(m·n·k) multiply-adds. It also
// turns the four transpose cases into one code path, so gemm never makes a
// transposed copy of a whole matrix.
//
// Sizes of the blocks. The micro-tile of 6×16 keeps its accumulators in 12
// AVX2 registers. A packed block of A (gemmMC×gemmKC, 96 KiB) is sized to
// stay in the L2 cache while every micro-panel of B reuses it, and a packed
// block of B (gemmKC×gemmNC, 512 KiB) to stay in the L2 or L3 cache.
const (
	gemmMR = 6
	gemmNR = 16
	gemmKC = 256
	gemmMC = 16 * gemmMR
	gemmNC = 32 * gemmNR
)

// gemmSmall is the largest m·n·k that gemm computes with plain loops, which
// skip the packing and the edge-tile buffer.
// NOTE: on BenchmarkStepSmall (2→4×4→1) both paths took the same time, so
// this threshold is a guess, not a tuned value.
const gemmSmall = 4096

// gemmBuffers holds the packed blocks of one gemm call.
type gemmBuffers struct {
	a [gemmMC * gemmKC]float32
	b [gemmKC * gemmNC]float32
	// tile receives the micro-tiles that cross the edge of C.
	tile [gemmMR * gemmNR]float32
}

// gemmFree keeps the packing buffers of finished gemm calls for the next
// ones, so that a training step allocates nothing once the first step has
// allocated one buffer per concurrent call. Unlike a sync.Pool, which the
// garbage collector empties and which keeps a buffer per processor, the list
// keeps every buffer, so a training loop never allocates again. It holds as
// many buffers as the largest number of gemm calls that ran at once.
var gemmFree struct {
	sync.Mutex
	buffers []*gemmBuffers
}

// getGemmBuffers takes a buffer from gemmFree, or allocates one when the
// list is empty.
func getGemmBuffers() *gemmBuffers {
	gemmFree.Lock()
	defer gemmFree.Unlock()
	n := len(gemmFree.buffers)
	if n == 0 {
		return new(gemmBuffers)
	}
	buf := gemmFree.buffers[n-1]
	gemmFree.buffers = gemmFree.buffers[:n-1]
	return buf
}

// putGemmBuffers returns a buffer to gemmFree.
func putGemmBuffers(buf *gemmBuffers) {
	gemmFree.Lock()
	gemmFree.buffers = append(gemmFree.buffers, buf)
	gemmFree.Unlock()
}

// gemm computes C = alpha·op(A)·op(B) + beta·C like blas32.Gemm. The sizes
// must agree as blas32.Gemm requires; gemm does not check them.
func gemm(tA, tB blas.Transpose, alpha float32, a, b blas32.General, beta float32, c blas32.General) {
	m, n := c.Rows, c.Cols
	k := a.Cols
	if tA != blas.NoTrans {
		k = a.Rows
	}
	if m == 0 || n == 0 {
		return
	}
	scaleMatrix(beta, c)
	if k == 0 || alpha == 0 {
		return
	}
	if m*n*k <= gemmSmall {
		gemmLoops(tA, tB, alpha, a, b, c, k)
		return
	}
	if gemmKernel == nil {
		gemmTiled(tA, tB, alpha, a, b, c)
		return
	}
	gemmPacked(tA, tB, alpha, a, b, c, k, gemmKernel)
}

// Tile sizes of gemmTiled. gonum v0.17's Sgemm splits C into 64×64 blocks
// and, once C spans 4 blocks or more, computes them in goroutines, which
// allocates on every call. A tile of 64×192 spans 3 blocks, so gonum
// multiplies it serially and allocates nothing.
const (
	gemmTileRows = 64
	gemmTileCols = 192
)

// gemmTiled adds alpha·op(A)·op(B) to C with blas32.Gemm, one tile of C at
// a time so that it allocates nothing. It is gemm's path where no assembly
// micro-kernel runs, because gonum's vectorised loops are faster there than
// kernelGeneric.
func gemmTiled(tA, tB blas.Transpose, alpha float32, a, b blas32.General, c blas32.General) {
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
			blas32.Gemm(tA, tB, alpha, subA, subB, 1, subC)
		}
	}
}

// gemmPacked is the blocked product of gemm, with the micro-kernel passed in
// so that tests can run every kernel on the same sizes. C is already scaled
// by beta.
//
// Two layouts need no packing, because the micro-kernel reads a panel
// through a stride. The rows of a B that is not transposed already hold
// gemmNR consecutive values of a panel row. The rows of a transposed A hold
// gemmMR consecutive values of a panel column, which the kernel can use as
// they are when alpha is 1. Only the panels of these two that cross the edge
// of C are packed.
func gemmPacked(tA, tB blas.Transpose, alpha float32, a, b blas32.General, c blas32.General, k int, kernel microKernel) {
	buf := getGemmBuffers()
	defer putGemmBuffers(buf)
	g := gemmCall{
		a: a, b: b, c: c, buf: buf, kernel: kernel,
		directA: tA == blas.Trans && alpha == 1,
		directB: tB == blas.NoTrans,
	}

	m, n := c.Rows, c.Cols
	for jc := 0; jc < n; jc += gemmNC {
		nc := min(gemmNC, n-jc)
		for pc := 0; pc < k; pc += gemmKC {
			kc := min(gemmKC, k-pc)
			packB(tB, b, pc, kc, jc, nc, buf.b[:], g.directB)
			for ic := 0; ic < m; ic += gemmMC {
				mc := min(gemmMC, m-ic)
				packA(tA, alpha, a, ic, mc, pc, kc, buf.a[:], g.directA)
				g.macroKernel(pc, kc, ic, mc, jc, nc)
			}
		}
	}
}

// gemmCall holds the operands of one gemmPacked call.
type gemmCall struct {
	a, b, c blas32.General
	buf     *gemmBuffers
	kernel  microKernel
	// directA and directB are set when the kernel reads the full panels of
	// A or B in place rather than from buf.
	directA, directB bool
}

// macroKernel multiplies the block of op(A) at rows ic:ic+mc by the block of
// op(B) at columns jc:jc+nc, both over the common indices pc:pc+kc, into C,
// one micro-tile at a time.
func (g *gemmCall) macroKernel(pc, kc, ic, mc, jc, nc int) {
	c, buf := g.c, g.buf
	for jr := 0; jr < nc; jr += gemmNR {
		cols := min(gemmNR, nc-jr)
		panelB, ldb := buf.b[jr*kc:], gemmNR
		if g.directB && cols == gemmNR {
			panelB, ldb = g.b.Data[pc*g.b.Stride+jc+jr:], g.b.Stride
		}
		for ir := 0; ir < mc; ir += gemmMR {
			rows := min(gemmMR, mc-ir)
			panelA, lda := buf.a[ir*kc:], gemmMR
			if g.directA && rows == gemmMR {
				panelA, lda = g.a.Data[pc*g.a.Stride+ic+ir:], g.a.Stride
			}
			offset := (ic+ir)*c.Stride + jc + jr
			if rows == gemmMR && cols == gemmNR {
				g.kernel(kc, panelA, lda, panelB, ldb, c.Data[offset:], c.Stride)
				continue
			}

			// A tile crossing the edge of C goes through a full-size
			// buffer, then only its valid part is added to C.
			clear(buf.tile[:])
			g.kernel(kc, panelA, lda, panelB, ldb, buf.tile[:], gemmNR)
			for i := 0; i < rows; i++ {
				dst := c.Data[offset+i*c.Stride : offset+i*c.Stride+cols]
				for j, v := range buf.tile[i*gemmNR : i*gemmNR+cols] {
					dst[j] += v
				}
			}
		}
	}
}

// packA copies alpha·op(A)[ic:ic+mc, pc:pc+kc] into dst as panels of gemmMR
// rows: panel r holds, for each p in [0, kc), the gemmMR values of column p,
// so the micro-kernel reads it sequentially. With edgeOnly, it packs only a
// last panel of fewer than gemmMR rows. The rows of that panel past mc keep
// stale values: they only reach tile rows that macroKernel drops.
func packA(tA blas.Transpose, alpha float32, a blas32.General, ic, mc, pc, kc int, dst []float32, edgeOnly bool) {
	for ir := 0; ir < mc; ir += gemmMR {
		rows := min(gemmMR, mc-ir)
		if edgeOnly && rows == gemmMR {
			continue
		}
		panel := dst[ir*kc : ir*kc+gemmMR*kc]
		if tA == blas.NoTrans && rows == gemmMR {
			packRowPanel(alpha, a, ic+ir, pc, kc, panel)
			continue
		}
		for i := 0; i < rows; i++ {
			row := ic + ir + i
			if tA == blas.NoTrans {
				src := a.Data[row*a.Stride+pc : row*a.Stride+pc+kc]
				for p, v := range src {
					panel[p*gemmMR+i] = alpha * v
				}
				continue
			}
			for p := 0; p < kc; p++ {
				panel[p*gemmMR+i] = alpha * a.Data[(pc+p)*a.Stride+row]
			}
		}
	}
}

// packRowPanel packs the full panel of gemmMR rows of A that starts at row
// i, scaled by alpha: entry p of the panel gathers alpha·A[i:i+gemmMR, pc+p].
// Like packTransposedPanel, it reads the rows side by side so that the
// element-wise loop has no bounds checks.
func packRowPanel(alpha float32, a blas32.General, i, pc, kc int, panel []float32) {
	row := func(r int) []float32 { return a.Data[(i+r)*a.Stride+pc : (i+r)*a.Stride+pc+kc] }
	r0 := row(0)
	r1, r2, r3, r4, r5 := row(1)[:len(r0)], row(2)[:len(r0)], row(3)[:len(r0)], row(4)[:len(r0)], row(5)[:len(r0)]
	panel = panel[:len(r0)*gemmMR]
	for p := range r0 {
		dst := (*[gemmMR]float32)(panel[p*gemmMR:])
		dst[0], dst[1], dst[2] = alpha*r0[p], alpha*r1[p], alpha*r2[p]
		dst[3], dst[4], dst[5] = alpha*r3[p], alpha*r4[p], alpha*r5[p]
	}
}

// packB copies op(B)[pc:pc+kc, jc:jc+nc] into dst as panels of gemmNR
// columns: panel j holds, for each p in [0, kc), the gemmNR values of row p.
// With edgeOnly, it packs only a last panel of fewer than gemmNR columns.
// The columns of that panel past nc keep stale values: they only reach tile
// columns that macroKernel drops.
func packB(tB blas.Transpose, b blas32.General, pc, kc, jc, nc int, dst []float32, edgeOnly bool) {
	for jr := 0; jr < nc; jr += gemmNR {
		cols := min(gemmNR, nc-jr)
		if edgeOnly && cols == gemmNR {
			continue
		}
		panel := dst[jr*kc : jr*kc+gemmNR*kc]
		if tB == blas.NoTrans {
			for p := 0; p < kc; p++ {
				start := (pc+p)*b.Stride + jc + jr
				copy(panel[p*gemmNR:p*gemmNR+cols], b.Data[start:start+cols])
			}
			continue
		}
		if cols == gemmNR {
			packTransposedPanel(b, pc, kc, jc+jr, panel)
			continue
		}
		for j := 0; j < cols; j++ {
			start := (jc+jr+j)*b.Stride + pc
			for p, v := range b.Data[start : start+kc] {
				panel[p*gemmNR+j] = v
			}
		}
	}
}

// packTransposedPanel packs the full panel of gemmNR columns of Bᵀ that
// starts at row j of B: row p of the panel gathers B[j:j+gemmNR, pc+p]. It
// reads the gemmNR rows of B side by side and writes each panel row whole,
// which lets the compiler drop the bounds checks of the element-wise loop.
func packTransposedPanel(b blas32.General, pc, kc, j int, panel []float32) {
	var rows [gemmNR][]float32
	for r := range rows {
		start := (j+r)*b.Stride + pc
		rows[r] = b.Data[start : start+kc]
	}
	r0, r1, r2, r3 := rows[0], rows[1][:len(rows[0])], rows[2][:len(rows[0])], rows[3][:len(rows[0])]
	r4, r5, r6, r7 := rows[4][:len(r0)], rows[5][:len(r0)], rows[6][:len(r0)], rows[7][:len(r0)]
	r8, r9, r10, r11 := rows[8][:len(r0)], rows[9][:len(r0)], rows[10][:len(r0)], rows[11][:len(r0)]
	r12, r13, r14, r15 := rows[12][:len(r0)], rows[13][:len(r0)], rows[14][:len(r0)], rows[15][:len(r0)]
	panel = panel[:len(r0)*gemmNR]
	for p := range r0 {
		dst := (*[gemmNR]float32)(panel[p*gemmNR:])
		dst[0], dst[1], dst[2], dst[3] = r0[p], r1[p], r2[p], r3[p]
		dst[4], dst[5], dst[6], dst[7] = r4[p], r5[p], r6[p], r7[p]
		dst[8], dst[9], dst[10], dst[11] = r8[p], r9[p], r10[p], r11[p]
		dst[12], dst[13], dst[14], dst[15] = r12[p], r13[p], r14[p], r15[p]
	}
}

// scaleMatrix multiplies C by beta. A beta of 0 sets C to zero even where C
// holds NaN or ±Inf, as BLAS defines it.
func scaleMatrix(beta float32, c blas32.General) {
	if beta == 1 {
		return
	}
	for i := 0; i < c.Rows; i++ {
		row := c.Data[i*c.Stride : i*c.Stride+c.Cols]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// gemmLoops adds alpha·op(A)·op(B) to C with plain loops, ordered so that
// the innermost loop walks contiguous memory in each transpose case.
func gemmLoops(tA, tB blas.Transpose, alpha float32, a, b, c blas32.General, k int) {
	m, n := c.Rows, c.Cols
	switch {
	case tA == blas.NoTrans && tB == blas.NoTrans:
		for i := 0; i < m; i++ {
			row := c.Data[i*c.Stride : i*c.Stride+n]
			for p, av := range a.Data[i*a.Stride : i*a.Stride+k] {
				axpy(alpha*av, b.Data[p*b.Stride:p*b.Stride+n], row)
			}
		}
	case tA == blas.NoTrans:
		for i := 0; i < m; i++ {
			x := a.Data[i*a.Stride : i*a.Stride+k]
			for j := 0; j < n; j++ {
				c.Data[i*c.Stride+j] += alpha * dot(x, b.Data[j*b.Stride:j*b.Stride+k])
			}
		}
	case tB == blas.NoTrans:
		for p := 0; p < k; p++ {
			brow := b.Data[p*b.Stride : p*b.Stride+n]
			for i, av := range a.Data[p*a.Stride : p*a.Stride+m] {
				axpy(alpha*av, brow, c.Data[i*c.Stride:i*c.Stride+n])
			}
		}
	default:
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var sum float32
				for p := 0; p < k; p++ {
					sum += a.Data[p*a.Stride+i] * b.Data[j*b.Stride+p]
				}
				c.Data[i*c.Stride+j] += alpha * sum
			}
		}
	}
}

// axpy adds alpha·x to y, which has at least len(x) values.
func axpy(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

// dot returns the dot product of x and the first len(x) values of y.
func dot(x, y []float32) float32 {
	y = y[:len(x)]
	var sum float32
	for i, v := range x {
		sum += v * y[i]
	}
	return sum
}
