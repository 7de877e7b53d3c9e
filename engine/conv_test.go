package engine

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestConv2DGradients(t *testing.T) {
	cases := []struct {
		name                          string
		inShape                       []int
		outC, kernel, stride, padding int
		wantShape                     []int
	}{
		{"same padding", []int{2, 5, 5}, 3, 3, 1, 1, []int{3, 5, 5}},
		{"stride 2", []int{2, 5, 5}, 3, 3, 2, 1, []int{3, 3, 3}},
		{"no padding", []int{1, 4, 6}, 2, 2, 1, 0, []int{2, 3, 5}},
		{"kernel 1", []int{3, 3, 3}, 2, 1, 1, 0, []int{2, 3, 3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conv, err := NewConv2D(c.inShape, c.outC, c.kernel, c.stride, c.padding, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				t.Fatal(err)
			}
			got, err := conv.OutShape(c.inShape)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, c.wantShape) {
				t.Fatalf("OutShape = %v, want %v", got, c.wantShape)
			}
			checkLayerGradients(t, conv, shapeSize(c.inShape), shapeSize(c.wantShape))
		})
	}
}

// TestConv2DDirect compares Forward with the convolution sum written out.
func TestConv2DDirect(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	conv, err := NewConv2D([]int{2, 4, 5}, 3, 3, 2, 1, rng)
	if err != nil {
		t.Fatal(err)
	}
	in := randomAwayFromZero(rng, 2*2*4*5)
	out := make([]float32, 2*3*conv.OutH*conv.OutW)
	conv.Forward(in, out, 2)

	for s := 0; s < 2; s++ {
		for o := 0; o < 3; o++ {
			for oh := 0; oh < conv.OutH; oh++ {
				for ow := 0; ow < conv.OutW; ow++ {
					want := float64(conv.Bias.Value[o])
					for c := 0; c < 2; c++ {
						for ki := 0; ki < 3; ki++ {
							for kj := 0; kj < 3; kj++ {
								ih, iw := oh*2-1+ki, ow*2-1+kj
								if ih < 0 || ih >= 4 || iw < 0 || iw >= 5 {
									continue
								}
								w := conv.Weight.Value[((o*2+c)*3+ki)*3+kj]
								want += float64(w) * float64(in[s*40+c*20+ih*5+iw])
							}
						}
					}
					got := out[((s*3+o)*conv.OutH+oh)*conv.OutW+ow]
					if math.Abs(float64(got)-want) > 1e-5 {
						t.Errorf("sample %d channel %d (%d, %d): %g, want %g", s, o, oh, ow, got, want)
					}
				}
			}
		}
	}
}

func TestConv2DInvalid(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		name    string
		inShape []int
		kernel  int
		padding int
		want    string
	}{
		{"flat input", []int{16}, 3, 0, "channels×height×width"},
		{"kernel too large", []int{1, 2, 2}, 3, 0, "does not fit"},
		{"negative padding", []int{1, 4, 4}, 3, -1, "padding of at least 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewConv2D(c.inShape, 2, c.kernel, 1, c.padding, rng)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %v, want one containing %q", err, c.want)
			}
		})
	}
}

// distinctValues returns n values spaced 0.1 apart in a shuffled order, so
// that no finite difference step of fdStep changes which value of a pooling
// window is the largest.
func distinctValues(n int) []float32 {
	rng := rand.New(rand.NewPCG(3, 9))
	out := make([]float32, n)
	for i, j := range rng.Perm(n) {
		out[i] = float32(j)*0.1 - float32(n)*0.05
	}
	return out
}

func TestMaxPool2DGradients(t *testing.T) {
	pool, err := NewMaxPool2D([]int{2, 5, 4}, 2)
	if err != nil {
		t.Fatal(err)
	}
	shape, err := pool.OutShape([]int{2, 5, 4})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(shape, []int{2, 2, 2}) {
		t.Fatalf("OutShape = %v, want [2 2 2]: odd rows are dropped", shape)
	}
	checkLayerGradientsAt(t, pool, distinctValues(gradBatch*40), 8)
}

func TestMaxPool2DValues(t *testing.T) {
	pool, err := NewMaxPool2D([]int{1, 2, 4}, 2)
	if err != nil {
		t.Fatal(err)
	}
	in := []float32{1, 5, -3, -2, 4, 2, -1, -4}
	out := make([]float32, 2)
	pool.Forward(in, out, 1)
	if !slices.Equal(out, []float32{5, -1}) {
		t.Errorf("Forward = %v, want [5 -1]", out)
	}
	dIn := make([]float32, len(in))
	pool.Backward(in, out, []float32{10, 20}, dIn, 1)
	if want := []float32{0, 10, 0, 0, 0, 0, 20, 0}; !slices.Equal(dIn, want) {
		t.Errorf("Backward = %v, want %v", dIn, want)
	}
}

func TestFlattenAndGlobalAvgPoolGradients(t *testing.T) {
	checkLayerGradients(t, Flatten{}, 12, 12)
	gap, err := NewGlobalAvgPool([]int{3, 2, 2})
	if err != nil {
		t.Fatal(err)
	}
	if shape, err := gap.OutShape([]int{3, 2, 2}); err != nil || !slices.Equal(shape, []int{3}) {
		t.Fatalf("OutShape = %v, %v, want [3]", shape, err)
	}
	checkLayerGradients(t, gap, 12, 3)
}

func TestGlobalAvgPoolValues(t *testing.T) {
	gap, err := NewGlobalAvgPool([]int{2, 1, 3})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, 2)
	gap.Forward([]float32{1, 2, 6, -3, 0, 0}, out, 1)
	if !slices.Equal(out, []float32{3, -1}) {
		t.Errorf("Forward = %v, want [3 -1]", out)
	}
}

func TestLogSoftmaxGradients(t *testing.T) {
	checkLayerGradients(t, LogSoftmax{}, 4, 4)
	out := make([]float32, 3)
	LogSoftmax{}.Forward([]float32{1000, 1000, 1000}, out, 1)
	for i, v := range out {
		if want := -math.Log(3); math.Abs(float64(v)-want) > 1e-6 {
			t.Errorf("output %d of equal large logits = %g, want log(1/3) = %g", i, v, want)
		}
	}
}

func TestDropoutEvaluationIsIdentity(t *testing.T) {
	d, err := NewDropout(0.5, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	checkLayerGradients(t, d, 6, 6)
	in := []float32{1, -2, 3}
	out := make([]float32, 3)
	d.Forward(in, out, 1)
	if !slices.Equal(out, in) {
		t.Errorf("a new dropout layer changed its input: %v, want %v", out, in)
	}
}

func TestDropoutTraining(t *testing.T) {
	const p, size = 0.25, 20000
	d, err := NewDropout(p, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	net := NewNetwork([]int{size})
	if err := net.Add(d); err != nil {
		t.Fatal(err)
	}
	net.SetTraining(true)

	in := make([]float32, size)
	for i := range in {
		in[i] = float32(i%7) + 1
	}
	out := net.Forward(in, 1)
	keep := float32(1 / (1 - p))
	dropped := 0
	for i, v := range out {
		switch v {
		case 0:
			dropped++
		case in[i] * keep:
		default:
			t.Fatalf("output %d = %g, want 0 or %g", i, v, in[i]*keep)
		}
	}
	// The dropped count is binomial(20000, 0.25): mean 5000, standard
	// deviation 61, so ±400 fails with probability below 1e-10.
	if dropped < 4600 || dropped > 5400 {
		t.Errorf("dropped %d of %d values, want about %d", dropped, size, int(p*size))
	}

	dOut := make([]float32, size)
	for i := range dOut {
		dOut[i] = 1
	}
	dIn := make([]float32, size)
	d.Backward(in, out, dOut, dIn, 1)
	for i := range dIn {
		if want := keep; out[i] == 0 {
			if dIn[i] != 0 {
				t.Fatalf("gradient %d of a dropped value = %g, want 0", i, dIn[i])
			}
		} else if dIn[i] != want {
			t.Fatalf("gradient %d of a kept value = %g, want %g", i, dIn[i], want)
		}
	}

	net.SetTraining(false)
	if got := net.Forward(in, 1); !slices.Equal(got, in) {
		t.Error("dropout in evaluation mode changed its input")
	}
}

func TestDropoutInvalid(t *testing.T) {
	for _, p := range []float64{-0.1, 1, math.NaN()} {
		if _, err := NewDropout(p, rand.New(rand.NewPCG(1, 2))); err == nil {
			t.Errorf("NewDropout(%v) returned no error", p)
		}
	}
}
