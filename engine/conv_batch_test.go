package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// convDirect returns the output of conv on n samples, computed from the
// convolution sum written out in float64.
func convDirect(conv *Conv2D, in []float32, n int) []float64 {
	inSize := conv.InC * conv.InH * conv.InW
	out := make([]float64, 0, n*conv.OutC*conv.OutH*conv.OutW)
	for s := 0; s < n; s++ {
		for o := 0; o < conv.OutC; o++ {
			for oh := 0; oh < conv.OutH; oh++ {
				for ow := 0; ow < conv.OutW; ow++ {
					sum := float64(conv.Bias.Value[o])
					for c := 0; c < conv.InC; c++ {
						for ki := 0; ki < conv.Kernel; ki++ {
							for kj := 0; kj < conv.Kernel; kj++ {
								ih := oh*conv.Stride - conv.Padding + ki
								iw := ow*conv.Stride - conv.Padding + kj
								if ih < 0 || ih >= conv.InH || iw < 0 || iw >= conv.InW {
									continue
								}
								w := conv.Weight.Value[((o*conv.InC+c)*conv.Kernel+ki)*conv.Kernel+kj]
								sum += float64(w) * float64(in[s*inSize+(c*conv.InH+ih)*conv.InW+iw])
							}
						}
					}
					out = append(out, sum)
				}
			}
		}
	}
	return out
}

// convGeometries covers the contiguous layout (stride 1, same padding), the
// row-by-row one, strides above 1 and kernels wider than the padded input
// edge.
var convGeometries = []struct {
	inShape                       []int
	outC, kernel, stride, padding int
}{
	{[]int{1, 8, 8}, 4, 3, 1, 1},
	{[]int{3, 4, 4}, 5, 3, 1, 1},
	{[]int{2, 6, 5}, 3, 5, 1, 2},
	{[]int{2, 5, 7}, 3, 3, 1, 0},
	{[]int{2, 7, 6}, 2, 3, 2, 1},
	{[]int{1, 5, 5}, 2, 4, 3, 2},
	{[]int{2, 3, 3}, 2, 1, 1, 0},
	{[]int{1, 2, 2}, 2, 3, 1, 2},
}

func TestConv2DBatchMatchesDirectSum(t *testing.T) {
	for _, g := range convGeometries {
		t.Run(fmt.Sprintf("%v_k%d_s%d_p%d", g.inShape, g.kernel, g.stride, g.padding), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(21, 22))
			conv, err := NewConv2D(g.inShape, g.outC, g.kernel, g.stride, g.padding, rng)
			if err != nil {
				t.Fatal(err)
			}
			const n = 5
			in := randomAwayFromZero(rng, n*shapeSize(g.inShape))
			out := make([]float32, n*g.outC*conv.OutH*conv.OutW)
			conv.Forward(in, out, n)
			for i, want := range convDirect(conv, in, n) {
				if math.Abs(float64(out[i])-want) > 1e-4 {
					t.Fatalf("output %d: %g, want %g", i, out[i], want)
				}
			}
		})
	}
}

func TestConv2DGradientsOfEveryGeometry(t *testing.T) {
	for _, g := range convGeometries {
		t.Run(fmt.Sprintf("%v_k%d_s%d_p%d", g.inShape, g.kernel, g.stride, g.padding), func(t *testing.T) {
			conv, err := NewConv2D(g.inShape, g.outC, g.kernel, g.stride, g.padding, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				t.Fatal(err)
			}
			checkLayerGradients(t, conv, shapeSize(g.inShape), g.outC*conv.OutH*conv.OutW)
		})
	}
}

// layerGradients runs Backward of layer on in and dOut and returns the
// input gradient followed by a copy of every parameter gradient.
func layerGradients(layer Layer, in, out, dOut []float32, n int) [][]float32 {
	dIn := make([]float32, len(in))
	layer.Backward(in, out, dOut, dIn, n)
	grads := [][]float32{dIn}
	for _, p := range layer.Params() {
		grads = append(grads, slices.Clone(p.Grad))
	}
	return grads
}

// checkBackwardWithoutForward checks that Backward gives the same gradients
// whether it reuses what Forward kept of a batch or, because it receives
// another buffer or batch size than the last Forward, works them out again.
func checkBackwardWithoutForward(t *testing.T, layer Layer, in []float32, n, outSize int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(31, 32))
	out := make([]float32, n*outSize)
	dOut := randomAwayFromZero(rng, n*outSize)
	layer.Forward(in, out, n)
	want := layerGradients(layer, in, out, dOut, n)

	// The same values in another buffer.
	copied := slices.Clone(in)
	layer.Forward(in, out, n)
	if got := layerGradients(layer, copied, out, dOut, n); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("gradients after a Forward on another buffer differ: %v, want %v", got, want)
	}

	// A larger batch in the same buffer, of which Backward takes n samples.
	bigger := append(slices.Clone(in), randomAwayFromZero(rng, len(in))...)
	biggerOut := make([]float32, 2*n*outSize)
	layer.Forward(bigger, biggerOut, 2*n)
	if got := layerGradients(layer, bigger[:len(in)], out, dOut, n); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("gradients after a Forward of %d samples differ: %v, want %v", 2*n, got, want)
	}
}

func TestConv2DBackwardWithoutForward(t *testing.T) {
	conv, err := NewConv2D([]int{2, 4, 4}, 3, 3, 1, 1, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	in := randomAwayFromZero(rand.New(rand.NewPCG(3, 4)), 3*32)
	checkBackwardWithoutForward(t, conv, in, 3, 3*16)
}

func TestMaxPool2DBackwardWithoutForward(t *testing.T) {
	for _, size := range []int{2, 3} {
		pool, err := NewMaxPool2D([]int{2, 6, 6}, size)
		if err != nil {
			t.Fatal(err)
		}
		checkBackwardWithoutForward(t, pool, distinctValues(3*72), 3, 2*pool.OutH*pool.OutW)
	}
}

func TestMaxPool2DTiesNaNAndInfinities(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	negZero := float32(math.Copysign(0, -1))
	cases := []struct {
		name   string
		window [4]float32
		// want is the index in the window, in row-major order, of the value
		// that receives the gradient.
		want int
	}{
		{"first of a tie", [4]float32{1, 3, 3, 2}, 1},
		{"tie across rows", [4]float32{1, 3, 2, 3}, 1},
		{"bottom row larger", [4]float32{1, 2, 2, 3}, 3},
		{"signed zeros", [4]float32{negZero, 0, -1, -2}, 0},
		{"NaN wins", [4]float32{5, 1, nan, 2}, 2},
		{"first NaN", [4]float32{1, nan, nan, 2}, 1},
		{"infinities", [4]float32{-inf, 1, inf, 2}, 2},
		{"only negative infinity", [4]float32{-inf, -inf, -inf, -inf}, 0},
	}
	for _, size := range []int{2, 3} {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s_window_%d", c.name, size), func(t *testing.T) {
				pool, err := NewMaxPool2D([]int{1, size, size}, size)
				if err != nil {
					t.Fatal(err)
				}
				// The four values go to the window's top-left 2×2 corner,
				// and -Inf everywhere else.
				in := make([]float32, size*size)
				for i := range in {
					in[i] = float32(math.Inf(-1))
				}
				for i, v := range c.window {
					in[(i/2)*size+i%2] = v
				}
				out := make([]float32, 1)
				pool.Forward(in, out, 1)
				wantIndex := (c.want/2)*size + c.want%2
				if got, want := out[0], in[wantIndex]; math.Float32bits(got) != math.Float32bits(want) {
					t.Errorf("Forward = %g, want %g", got, want)
				}
				dIn := make([]float32, len(in))
				pool.Backward(in, out, []float32{1}, dIn, 1)
				for i, g := range dIn {
					if want := float32(0); i == wantIndex {
						if g != 1 {
							t.Errorf("gradient of input %d = %g, want 1", i, g)
						}
					} else if g != want {
						t.Errorf("gradient of input %d = %g, want 0", i, g)
					}
				}
			})
		}
	}
}

func TestConv2DBatchOfSeveralChunks(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	conv, err := NewConv2D([]int{1, 16, 16}, 64, 3, 1, 1, rng)
	if err != nil {
		t.Fatal(err)
	}
	n := 2*conv.chunkRows() + 3
	inSize, outSize := 16*16, 64*16*16
	in := randomAwayFromZero(rng, n*inSize)
	dOut := randomAwayFromZero(rng, n*outSize)

	out := make([]float32, n*outSize)
	conv.Forward(in, out, n)
	for i, want := range convDirect(conv, in, n) {
		if math.Abs(float64(out[i])-want) > 1e-4 {
			t.Fatalf("output %d: %g, want %g", i, out[i], want)
		}
	}

	// Reference: the gradients of each sample on its own, summed.
	wantDIn := make([]float32, n*inSize)
	wantDW := make([]float64, len(conv.Weight.Grad))
	wantDB := make([]float64, len(conv.Bias.Grad))
	for s := 0; s < n; s++ {
		x := in[s*inSize : (s+1)*inSize]
		conv.Forward(x, out[:outSize], 1)
		conv.Backward(x, out[:outSize], dOut[s*outSize:(s+1)*outSize], wantDIn[s*inSize:(s+1)*inSize], 1)
		for i, g := range conv.Weight.Grad {
			wantDW[i] += float64(g)
		}
		for i, g := range conv.Bias.Grad {
			wantDB[i] += float64(g)
		}
	}

	conv.Forward(in, out, n)
	dIn := make([]float32, n*inSize)
	conv.Backward(in, out, dOut, dIn, n)
	for i, g := range dIn {
		if math.Abs(float64(g-wantDIn[i])) > 1e-4 {
			t.Fatalf("input gradient %d: %g, want %g", i, g, wantDIn[i])
		}
	}
	for i, g := range conv.Weight.Grad {
		if math.Abs(float64(g)-wantDW[i]) > 1e-3*(1+math.Abs(wantDW[i])) {
			t.Fatalf("weight gradient %d: %g, want %g", i, g, wantDW[i])
		}
	}
	for i, g := range conv.Bias.Grad {
		if math.Abs(float64(g)-wantDB[i]) > 1e-3*(1+math.Abs(wantDB[i])) {
			t.Fatalf("bias gradient %d: %g, want %g", i, g, wantDB[i])
		}
	}
}
