//go:build amd64 && !purego

package engine

// gemmKernel is the micro-kernel of gemm: AVX2 with FMA where the CPU and
// the operating system support both. It is nil elsewhere, and gemm then
// calls gonum.
var gemmKernel microKernel

func init() {
	if useAVX2 {
		gemmKernel = kernelAVX2
	}
}

// kernelAVX2 is the micro-kernel of gemm_kernel_amd64.s. It checks the
// lengths of its slices, then the assembly reads and writes through their
// first elements without bounds checks.
func kernelAVX2(k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if k <= 0 {
		return
	}
	_ = a[(k-1)*lda+gemmMR-1]
	_ = b[(k-1)*ldb+gemmNR-1]
	_ = c[(gemmMR-1)*ldc+gemmNR-1]
	sgemmKernel6x16(k, &a[0], lda, &b[0], ldb, &c[0], ldc)
}

// sgemmKernel6x16 is implemented in gemm_kernel_amd64.s.
//
//go:noescape
func sgemmKernel6x16(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int)
