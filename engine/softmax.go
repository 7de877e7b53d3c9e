package engine

import "math"

// LogSoftmax maps each sample's values x to x - log Σ exp(x), as
// nn.LogSoftmax(dim=1) does on a batch of vectors. It makes a network's
// outputs log-probabilities, the input NLLLoss expects.
type LogSoftmax struct{}

var _ Layer = LogSoftmax{}

// OutShape returns a copy of in.
func (LogSoftmax) OutShape(in []int) ([]int, error) { return append([]int(nil), in...), nil }

// Forward subtracts each sample's log-sum-exp, computed after subtracting
// the sample's maximum so that large values do not overflow.
func (LogSoftmax) Forward(in, out []float32, n int) {
	dim := len(in) / n
	for s := 0; s < n; s++ {
		row, dst := in[s*dim:(s+1)*dim], out[s*dim:(s+1)*dim]
		maxValue := float64(row[0])
		for _, v := range row[1:] {
			maxValue = math.Max(maxValue, float64(v))
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v) - maxValue)
		}
		logSum := maxValue + math.Log(sum)
		for i, v := range row {
			dst[i] = float32(float64(v) - logSum)
		}
	}
}

// Backward computes dIn = dOut - softmax·Σ dOut per sample, with softmax =
// exp(out).
func (LogSoftmax) Backward(in, out, dOut, dIn []float32, n int) {
	if dIn == nil {
		return
	}
	dim := len(in) / n
	for s := 0; s < n; s++ {
		y, dy, dx := out[s*dim:(s+1)*dim], dOut[s*dim:(s+1)*dim], dIn[s*dim:(s+1)*dim]
		var total float32
		for _, g := range dy {
			total += g
		}
		for i, g := range dy {
			dx[i] = g - float32(math.Exp(float64(y[i])))*total
		}
	}
}

// Params returns nil.
func (LogSoftmax) Params() []*Param { return nil }

// String returns "log_softmax".
func (LogSoftmax) String() string { return "log_softmax" }
