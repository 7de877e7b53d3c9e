package engine

import (
	"math"
	"math/rand/v2"
	"testing"
)

// kernelLengths cover empty slices, lengths below one vector of 8, exact
// multiples of 8 and tails after whole vectors.
var kernelLengths = []int{0, 1, 7, 8, 9, 16, 31, 1000}

// TestAdamUpdateMatchesGeneric checks that adamUpdate, assembly where this
// build has it, gives the same bits as the Go loop, tails included.
func TestAdamUpdateMatchesGeneric(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	c := adamCoefficients{
		beta1: 0.9, oneMinusBeta1: 0.1, beta2: 0.999, oneMinusBeta2: float32(1 - 0.999),
		biasCorrection2Sqrt: float32(math.Sqrt(1 - math.Pow(0.999, 3))),
		stepSize:            float32(1e-2 / (1 - math.Pow(0.9, 3))),
		eps:                 1e-8,
	}
	for _, n := range kernelLengths {
		value := randomAwayFromZero(rng, n)
		m := randomAwayFromZero(rng, n)
		v := randomAwayFromZero(rng, n)
		grad := randomAwayFromZero(rng, n)
		for i := range v {
			v[i] *= v[i] // second moments are not negative
		}
		if n > 3 {
			grad[3] = 0 // a zero gradient still moves m, v and the value
		}
		wantValue, wantM, wantV := clone(value), clone(m), clone(v)
		adamUpdateGeneric(wantValue, wantM, wantV, grad, &c)
		adamUpdate(value, m, v, grad, &c)
		for i := range value {
			if math.Float32bits(value[i]) != math.Float32bits(wantValue[i]) {
				t.Fatalf("n=%d: value[%d] = %g, Go loop gives %g", n, i, value[i], wantValue[i])
			}
			if math.Float32bits(m[i]) != math.Float32bits(wantM[i]) {
				t.Fatalf("n=%d: m[%d] = %g, Go loop gives %g", n, i, m[i], wantM[i])
			}
			if math.Float32bits(v[i]) != math.Float32bits(wantV[i]) {
				t.Fatalf("n=%d: v[%d] = %g, Go loop gives %g", n, i, v[i], wantV[i])
			}
		}
	}
}

// reluInputs returns n values of both signs with zeros, NaN and infinities
// spread over the vector body and the tail.
func reluInputs(rng *rand.Rand, n int) []float32 {
	x := randomAwayFromZero(rng, n)
	specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}
	for i, s := range specials {
		if j := i * 5; j < n {
			x[j] = s
		}
	}
	if n > 0 {
		x[n-1] = float32(math.NaN())
	}
	return x
}

// TestReLUKernelsMatchDefinition checks the relu loops against the relu of
// activationFuncs, the definition the gradient tests check, value by value.
func TestReLUKernelsMatchDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 9))
	def := activationFuncs["relu"]
	for _, n := range kernelLengths {
		in := reluInputs(rng, n)
		dOut := randomAwayFromZero(rng, n)
		out := make([]float32, n)
		dIn := make([]float32, n)
		reluForward(in, out)
		reluBackward(in, dOut, dIn)
		for i, x := range in {
			if want := def.f(x); out[i] != want {
				t.Fatalf("n=%d: relu(%g) = %g, want %g", n, x, out[i], want)
			}
			if want := dOut[i] * def.df(x, out[i]); dIn[i] != want {
				t.Fatalf("n=%d: relu gradient at %g of %g = %g, want %g", n, x, dOut[i], dIn[i], want)
			}
		}
	}
}

// TestReLUBackwardBlocksNaN checks that an inactive unit passes no NaN back,
// as PyTorch's threshold_backward does.
func TestReLUBackwardBlocksNaN(t *testing.T) {
	for _, n := range []int{3, 8, 11} {
		in := make([]float32, n)
		dOut := make([]float32, n)
		for i := range in {
			in[i] = -1
			dOut[i] = float32(math.NaN())
		}
		dIn := make([]float32, n)
		reluBackward(in, dOut, dIn)
		for i, g := range dIn {
			if g != 0 {
				t.Fatalf("n=%d: gradient %d through an inactive unit = %g, want 0", n, i, g)
			}
		}
	}
}

// TestLeakyReLULoopsMatchDefinition checks the leaky_relu loops of
// Activation against activationFuncs.
func TestLeakyReLULoopsMatchDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 9))
	layer, err := NewActivation("leaky_relu")
	if err != nil {
		t.Fatal(err)
	}
	def := activationFuncs["leaky_relu"]
	in := reluInputs(rng, 40)
	in[4] = float32(math.NaN())
	dOut := randomAwayFromZero(rng, len(in))
	out := make([]float32, len(in))
	dIn := make([]float32, len(in))
	layer.Forward(in, out, len(in))
	layer.Backward(in, out, dOut, dIn, len(in))
	for i, x := range in {
		if want := def.f(x); math.Float32bits(out[i]) != math.Float32bits(want) {
			t.Fatalf("leaky_relu(%g) = %g, want %g", x, out[i], want)
		}
		if want := dOut[i] * def.df(x, out[i]); dIn[i] != want {
			t.Fatalf("leaky_relu gradient at %g = %g, want %g", x, dIn[i], want)
		}
	}
}

func clone(x []float32) []float32 { return append([]float32(nil), x...) }
