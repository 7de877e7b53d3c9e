//go:build !amd64 || purego

package engine

// gemmKernel is the micro-kernel gemm uses: the Go kernel, because this
// build has no assembly kernel.
var gemmKernel microKernel = kernelGeneric
