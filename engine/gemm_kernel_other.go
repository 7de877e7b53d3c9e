//go:build !amd64 || purego

package engine

// gemmKernel is nil because this build has no assembly micro-kernel, so gemm
// calls gonum.
var gemmKernel microKernel
