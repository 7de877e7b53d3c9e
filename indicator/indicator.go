// Package indicator computes the indicators that summarise a run from its
// per-epoch curves. The formulas, with a worked example, are in
// docs/indicators.md.
package indicator

import (
	"math"

	"github.com/mosaic-go/mosaic/result"
)

// slopeFraction is the divisor that sizes each half of the slope window:
// w = ⌈n / slopeFraction⌉ epochs, a twentieth of the run.
const slopeFraction = 20

// Compute returns the indicators of a run from its curves. It fills every
// field except DurationS and NbParams, which the job runner sets.
//
// The number of epochs done, n, is len(c.TrainLoss), and L_train(e) is
// c.TrainLoss[e-1]. L_test(n) is the last entry of c.TestLoss, because the
// job runner writes both loss curves with n entries. A value is nil when it
// is undefined: too few epochs, an empty curve, or a NaN or ±Inf among the
// values it reads (a diverged run). Compute never returns a pointer to NaN
// or ±Inf.
func Compute(c result.Curves) result.Indicators {
	var ind result.Indicators

	ind.TrainLoss = last(c.TrainLoss)
	ind.TestLoss = last(c.TestLoss)
	ind.TrainAccuracy = last(c.TrainAccuracy)
	ind.TestAccuracy = last(c.TestAccuracy)
	ind.Overfitting = overfitting(c.TrainLoss, c.TestLoss)
	ind.Slope = slope(c.TrainLoss)
	ind.SlopeSigmaPlus, ind.SlopeSigmaMinus = slopeSigmas(c.TrainLoss)
	ind.Trainability = trainability(c.TrainLoss)
	return ind
}

// slopeWindow returns w, the number of epochs in each half of the slope
// window for n epochs done: ⌈n/20⌉, and 0 when n is 0.
func slopeWindow(n int) int {
	return (n + slopeFraction - 1) / slopeFraction
}

// last returns the last value of xs, or nil when xs is empty or that value
// is not finite.
func last(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	return finite(xs[len(xs)-1])
}

// overfitting returns |L_test(n) − L_train(n)| divided by the range of every
// train and test loss value, and 0 when that range is 0.
func overfitting(train, test []float64) *float64 {
	if len(train) == 0 || len(test) == 0 || !allFinite(train) || !allFinite(test) {
		return nil
	}

	lo, hi := math.Inf(1), math.Inf(-1)
	for _, xs := range [][]float64{train, test} {
		for _, x := range xs {
			lo = math.Min(lo, x)
			hi = math.Max(hi, x)
		}
	}

	gap := math.Abs(test[len(test)-1] - train[len(train)-1])
	if hi-lo == 0 {
		return ptr(0)
	}
	return finite(gap / (hi - lo))
}

// slope returns the mean train loss over the last w epochs minus its mean
// over the w epochs before them, with w = slopeWindow(n). It is nil when
// n < 2w, which happens only for n < 2.
func slope(train []float64) *float64 {
	n := len(train)
	w := slopeWindow(n)
	if w == 0 || n < 2*w {
		return nil
	}

	window := train[n-2*w:]
	if !allFinite(window) {
		return nil
	}
	return finite(mean(window[w:]) - mean(window[:w]))
}

// slopeSigmas returns the population standard deviations of the per-epoch
// differences d(k) = L_train(k) − L_train(k−1) that lie at or above (plus)
// and at or below (minus) the mean of the differences. k ranges over the
// last 2w epochs that have an epoch before them, so the window's first epoch
// contributes no difference when it is epoch 1. A difference equal to the
// mean belongs to both sides.
func slopeSigmas(train []float64) (plus, minus *float64) {
	n := len(train)
	w := slopeWindow(n)
	if w == 0 || n < 2*w {
		return nil, nil
	}

	// The differences need the epoch before the window when there is one.
	first := max(n-2*w, 1)
	if !allFinite(train[first-1:]) {
		return nil, nil
	}
	diffs := make([]float64, 0, n-first)
	for k := first; k < n; k++ {
		diffs = append(diffs, train[k]-train[k-1])
	}
	if len(diffs) == 0 {
		return nil, nil
	}

	// Rounding can put the computed mean of equal differences outside
	// [min, max], which would leave a side empty, so clamp it.
	lo, hi := diffs[0], diffs[0]
	for _, d := range diffs {
		lo = math.Min(lo, d)
		hi = math.Max(hi, d)
	}
	m := math.Min(math.Max(mean(diffs), lo), hi)

	var above, below []float64
	for _, d := range diffs {
		if d >= m {
			above = append(above, d)
		}
		if d <= m {
			below = append(below, d)
		}
	}
	return populationStd(above), populationStd(below)
}

// trainability returns the sum of the train loss over every epoch done.
func trainability(train []float64) *float64 {
	if len(train) == 0 || !allFinite(train) {
		return nil
	}
	sum := 0.0
	for _, x := range train {
		sum += x
	}
	return finite(sum)
}

// populationStd returns the population standard deviation of xs, the
// square root of the mean squared deviation from their mean, and nil for
// an empty xs.
func populationStd(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	m := mean(xs)
	sum := 0.0
	for _, x := range xs {
		sum += (x - m) * (x - m)
	}
	return finite(math.Sqrt(sum / float64(len(xs))))
}

func mean(xs []float64) float64 {
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

func allFinite(xs []float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// finite returns a pointer to x, or nil when x is NaN or ±Inf.
func finite(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

func ptr(x float64) *float64 { return &x }
