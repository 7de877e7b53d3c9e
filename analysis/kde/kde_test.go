package kde

import (
	"math"
	"testing"
)

func TestDensitySinglePoint(t *testing.T) {
	g := Gaussian{Samples: []float64{2}, Bandwidth: 0.5}

	peak := 1 / (0.5 * math.Sqrt(2*math.Pi))
	if got := g.Density(2); math.Abs(got-peak) > 1e-12 {
		t.Errorf("Density(2) = %v, want %v", got, peak)
	}
	// One bandwidth away the normal density is exp(-1/2) of its peak.
	if got := g.Density(2.5); math.Abs(got-peak*math.Exp(-0.5)) > 1e-12 {
		t.Errorf("Density(2.5) = %v, want %v", got, peak*math.Exp(-0.5))
	}
	if got, want := g.Density(1.5), g.Density(2.5); got != want {
		t.Errorf("Density(1.5) = %v, Density(2.5) = %v, want equal", got, want)
	}
}

func TestDensityIntegratesToOne(t *testing.T) {
	g, err := New([]float64{0.1, 0.4, 0.35, 0.9, 1.7, 0.2, 0.25, 3})
	if err != nil {
		t.Fatal(err)
	}

	lo, hi := g.Support(8)
	const steps = 20000
	dx := (hi - lo) / steps
	sum := 0.0
	for i := range steps {
		sum += g.Density(lo+(float64(i)+0.5)*dx) * dx
	}
	if math.Abs(sum-1) > 1e-6 {
		t.Errorf("integral = %v, want 1", sum)
	}
}

func TestSilvermanKnownValue(t *testing.T) {
	// σ = sqrt(2.5) ≈ 1.5811 and IQR = 2 (linear interpolation), so
	// IQR/1.34 ≈ 1.4925 is the smaller spread.
	samples := []float64{1, 2, 3, 4, 5}

	want := 0.9 * (2 / 1.34) * math.Pow(5, -0.2)
	if got := Silverman(samples); math.Abs(got-want) > 1e-12 {
		t.Errorf("Silverman = %v, want %v", got, want)
	}
}

func TestSilvermanZeroIQR(t *testing.T) {
	samples := []float64{1, 1, 1, 1, 1, 1, 1, 9}

	got := Silverman(samples)
	if got <= 0 {
		t.Fatalf("Silverman = %v, want the σ-based positive value", got)
	}
}

func TestNewRejects(t *testing.T) {
	cases := map[string][]float64{
		"empty":     nil,
		"all equal": {3, 3, 3},
		"single":    {3},
		"NaN":       {1, math.NaN()},
		"Inf":       {1, math.Inf(1)},
	}
	for name, samples := range cases {
		if _, err := New(samples); err == nil {
			t.Errorf("New(%s) returned no error", name)
		}
	}
}
