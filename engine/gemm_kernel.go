package engine

// microKernel adds the product of an A panel and a B panel to the
// gemmMR×gemmNR tile of C that starts at c[0], whose rows are ldc values
// apart. For each p in [0, k), the gemmMR values of column p of the A panel
// start at a[p*lda] and the gemmNR values of row p of the B panel at
// b[p*ldb]. Packed panels have lda = gemmMR and ldb = gemmNR; gemm passes
// larger strides to read a panel where it lies in A or B.
type microKernel func(k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int)

// kernelGeneric is the micro-kernel in Go. It is the reference that the tests
// check the assembly kernel and the packing against on every platform. gemm
// does not use it, because it is slower than gonum's Sgemm (about 5 against
// 12 GFLOP/s in BenchmarkGemm on an AMD EPYC).
func kernelGeneric(k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if k <= 0 {
		return
	}
	a = a[:(k-1)*lda+gemmMR]
	b = b[:(k-1)*ldb+gemmNR]
	for i := 0; i < gemmMR; i++ {
		var acc [gemmNR]float32
		for p := 0; p < k; p++ {
			av := a[p*lda+i]
			row := (*[gemmNR]float32)(b[p*ldb:])
			for j := range acc {
				acc[j] += av * row[j]
			}
		}
		dst := (*[gemmNR]float32)(c[i*ldc:])
		for j, v := range acc {
			dst[j] += v
		}
	}
}
