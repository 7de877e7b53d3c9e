package engine

// adamCoefficients are the per-step constants of one Adam update, in float32
// like the parameters.
type adamCoefficients struct {
	beta1, oneMinusBeta1 float32
	beta2, oneMinusBeta2 float32
	// biasCorrection2Sqrt is √(1-β₂ᵗ), and stepSize lr/(1-β₁ᵗ).
	biasCorrection2Sqrt, stepSize float32
	eps                           float32
}

// adamUpdateGeneric updates value, m and v from grad, element by element, in
// PyTorch 1.13's order of operations. Each float32 operation rounds on its
// own, so the assembly version, which keeps the same order without fused
// multiply-adds, gives the same bits.
func adamUpdateGeneric(value, m, v, grad []float32, c *adamCoefficients) {
	m, v, grad = m[:len(value)], v[:len(value)], grad[:len(value)]
	for j, g := range grad {
		mj := m[j]*c.beta1 + c.oneMinusBeta1*g
		vj := v[j]*c.beta2 + c.oneMinusBeta2*g*g
		m[j], v[j] = mj, vj
		denom := sqrt32(vj)/c.biasCorrection2Sqrt + c.eps
		value[j] -= c.stepSize * mj / denom
	}
}
