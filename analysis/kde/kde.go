// Package kde estimates a probability density from samples with a Gaussian
// kernel, the estimate meta-plot violins draw.
package kde

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/stat"
)

// ErrNoSamples is returned when a density is requested from no samples.
var ErrNoSamples = errors.New("no samples")

// Gaussian is a kernel density estimate: the mean of normal densities of
// standard deviation Bandwidth centred on each sample.
type Gaussian struct {
	Samples []float64
	// Bandwidth is the kernel's standard deviation, in the samples' unit;
	// it must be positive.
	Bandwidth float64
}

// New returns the estimate of samples with Silverman's rule-of-thumb
// bandwidth. It returns an error for no samples, a NaN or infinite sample,
// or samples that are all equal, whose bandwidth is zero.
func New(samples []float64) (Gaussian, error) {
	if len(samples) == 0 {
		return Gaussian{}, ErrNoSamples
	}
	for _, x := range samples {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return Gaussian{}, fmt.Errorf("estimate density: sample %v is not finite", x)
		}
	}
	h := Silverman(samples)
	if h <= 0 {
		return Gaussian{}, fmt.Errorf("estimate density: %d samples all equal %v, so the bandwidth is zero", len(samples), samples[0])
	}
	return Gaussian{Samples: append([]float64(nil), samples...), Bandwidth: h}, nil
}

// Silverman returns Silverman's rule-of-thumb bandwidth
// 0.9 · min(σ, IQR/1.34) · n^(−1/5), where σ is the sample standard
// deviation and IQR the interquartile range. The quartiles are interpolated
// linearly between order statistics, the default of R and NumPy. When the
// IQR is zero but σ is not, σ alone is used. It returns 0 for fewer than
// two samples or samples that are all equal.
func Silverman(samples []float64) float64 {
	n := len(samples)
	if n < 2 {
		return 0
	}
	sigma := stat.StdDev(samples, nil)
	sorted := append([]float64(nil), samples...)
	sort.Float64s(sorted)
	iqr := quantile(sorted, 0.75) - quantile(sorted, 0.25)

	spread := sigma
	if iqr > 0 && iqr/1.34 < sigma {
		spread = iqr / 1.34
	}
	return 0.9 * spread * math.Pow(float64(n), -0.2)
}

// Density returns the estimated density at x.
func (g Gaussian) Density(x float64) float64 {
	if len(g.Samples) == 0 || g.Bandwidth <= 0 {
		return 0
	}
	sum := 0.0
	for _, s := range g.Samples {
		z := (x - s) / g.Bandwidth
		sum += math.Exp(-0.5 * z * z)
	}
	return sum / (float64(len(g.Samples)) * g.Bandwidth * math.Sqrt(2*math.Pi))
}

// Support returns the interval beyond which the density is below
// exp(−cut²/2) of a kernel's peak: the sample range widened by cut
// bandwidths on each side.
func (g Gaussian) Support(cut float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range g.Samples {
		lo = math.Min(lo, s)
		hi = math.Max(hi, s)
	}
	return lo - cut*g.Bandwidth, hi + cut*g.Bandwidth
}

// quantile returns the p-quantile of sorted samples, interpolating linearly
// between the order statistics at (n−1)·p.
func quantile(sorted []float64, p float64) float64 {
	h := float64(len(sorted)-1) * p
	lo := math.Floor(h)
	i := int(lo)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (h-lo)*(sorted[i+1]-sorted[i])
}
