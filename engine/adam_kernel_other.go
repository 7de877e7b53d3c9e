//go:build !amd64 || purego

package engine

// adamUpdate is adamUpdateGeneric: this build has no assembly kernel.
func adamUpdate(value, m, v, grad []float32, c *adamCoefficients) {
	adamUpdateGeneric(value, m, v, grad, c)
}
