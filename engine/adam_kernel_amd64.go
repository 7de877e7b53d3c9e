//go:build amd64 && !purego

package engine

import "golang.org/x/sys/cpu"

// useAVX2 reports whether the CPU and the operating system support AVX2 and
// FMA, which the assembly kernels of this package need.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// adamUpdate is adamUpdateGeneric, eight values at a time with AVX2 where
// the CPU has it.
func adamUpdate(value, m, v, grad []float32, c *adamCoefficients) {
	n := len(value)
	if !useAVX2 || n < 8 {
		adamUpdateGeneric(value, m, v, grad, c)
		return
	}
	m, v, grad = m[:n], v[:n], grad[:n]
	body := n &^ 7
	adamUpdateAVX2(body, &value[0], &m[0], &v[0], &grad[0], c)
	if body < n {
		adamUpdateGeneric(value[body:], m[body:], v[body:], grad[body:], c)
	}
}

// adamUpdateAVX2 updates the first n values, n a multiple of 8; it is
// implemented in adam_kernel_amd64.s.
//
//go:noescape
func adamUpdateAVX2(n int, value, m, v, grad *float32, c *adamCoefficients)
