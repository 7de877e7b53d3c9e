package analysis

import "testing"

func TestViolinWithinSampleRange(t *testing.T) {
	ys := []float64{0.9, 0.93, 0.97, 1, 1}
	v := newViolin(0, 0.4, ys, styleOf(0))

	_, _, low, high := v.DataRange()
	if low != 0.9 {
		t.Errorf("violin starts at %v, want the smallest sample 0.9", low)
	}
	if high != 1 {
		t.Errorf("violin ends at %v, want the largest sample 1", high)
	}
	for i, y := range v.heights {
		if y < 0.9 || y > 1 {
			t.Errorf("height %d is %v, outside the samples' range [0.9, 1]", i, y)
		}
	}
	if v.widths[0] == 0 || v.widths[len(v.widths)-1] == 0 {
		t.Errorf("ends have widths %v and %v, want the density at the extreme samples", v.widths[0], v.widths[len(v.widths)-1])
	}
}
