package engine

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Finite-difference checks: each analytic gradient is compared with the
// central difference (f(v+h) - f(v-h)) / 2h computed in float32, with
// h = 1e-2 and the tolerance below, which is about 50 times the truncation
// and rounding errors of that difference for the smooth functions tested.
const (
	fdStep    = 1e-2
	fdAbsTol  = 2e-3
	fdRelTol  = 1e-2
	gradBatch = 3
)

func closeEnough(numeric, analytic float64) bool {
	return math.Abs(numeric-analytic) <= fdAbsTol+fdRelTol*math.Abs(analytic)
}

// randomAwayFromZero returns values in [-2, -0.1] ∪ [0.1, 2], so that no
// finite difference crosses the kink of relu or leaky_relu at 0.
func randomAwayFromZero(rng *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		v := 0.1 + 1.9*rng.Float64()
		if rng.IntN(2) == 0 {
			v = -v
		}
		out[i] = float32(v)
	}
	return out
}

// checkLayerGradients compares Backward with finite differences of
// L = Σ out·r for a fixed random r, for every input and parameter value.
func checkLayerGradients(t *testing.T, layer Layer, inSize, outSize int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 11))
	in := randomAwayFromZero(rng, gradBatch*inSize)
	checkLayerGradientsAt(t, layer, in, outSize)
}

// checkLayerGradientsAt runs the check of checkLayerGradients at the given
// input of gradBatch samples.
func checkLayerGradientsAt(t *testing.T, layer Layer, in []float32, outSize int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(13, 17))
	weights := randomAwayFromZero(rng, gradBatch*outSize)
	out := make([]float32, gradBatch*outSize)

	objective := func() float64 {
		layer.Forward(in, out, gradBatch)
		var sum float64
		for i, v := range out {
			sum += float64(v) * float64(weights[i])
		}
		return sum
	}
	numeric := func(v *float32) float64 {
		saved := *v
		*v = saved + fdStep
		plus := objective()
		*v = saved - fdStep
		minus := objective()
		*v = saved
		return (plus - minus) / (2 * fdStep)
	}

	objective()
	dIn := make([]float32, len(in))
	layer.Backward(in, out, weights, dIn, gradBatch)
	var grads [][]float32
	for _, p := range layer.Params() {
		grads = append(grads, append([]float32(nil), p.Grad...))
	}

	for i := range in {
		if got := numeric(&in[i]); !closeEnough(got, float64(dIn[i])) {
			t.Errorf("input %d: analytic gradient %g, finite difference %g", i, dIn[i], got)
		}
	}
	for k, p := range layer.Params() {
		for i := range p.Value {
			if got := numeric(&p.Value[i]); !closeEnough(got, float64(grads[k][i])) {
				t.Errorf("%s %d: analytic gradient %g, finite difference %g", p.Name, i, grads[k][i], got)
			}
		}
	}
}

func TestDenseGradients(t *testing.T) {
	d := NewDense(5, 3, rand.New(rand.NewPCG(1, 2)))
	checkLayerGradients(t, d, 5, 3)
}

func TestActivationGradients(t *testing.T) {
	for _, name := range Activations() {
		t.Run(name, func(t *testing.T) {
			layer, err := NewActivation(name)
			if err != nil {
				t.Fatal(err)
			}
			checkLayerGradients(t, layer, 4, 4)
		})
	}
}

func TestLossGradients(t *testing.T) {
	const n, dim = 4, 3
	rng := rand.New(rand.NewPCG(3, 4))
	// A nil target is built from the predictions by offsetTargets, so that
	// no finite difference crosses the kinks of L1Loss, SmoothL1Loss and
	// HuberLoss.
	targets := map[string][]float32{
		"MSELoss":           randomAwayFromZero(rng, n*dim),
		"CrossEntropyLoss":  {2, 0, 1, 2},
		"NLLLoss":           {1, 2, 0, 0},
		"BCEWithLogitsLoss": {0, 1, 0, 1, 0.25, 0, 0, 0, 1, 0.5, 1, 0},
		"L1Loss":            nil,
		"SmoothL1Loss":      nil,
		"HuberLoss":         nil,
	}
	for _, name := range Losses() {
		t.Run(name, func(t *testing.T) {
			loss, err := NewLoss(name)
			if err != nil {
				t.Fatal(err)
			}
			target, known := targets[name]
			if !known {
				t.Fatalf("no targets for loss %s in this test", name)
			}
			pred := randomAwayFromZero(rng, n*dim)
			if target == nil {
				target = offsetTargets(pred)
			}
			grad := make([]float32, n*dim)
			value := loss.Compute(pred, target, n, dim, grad)
			if again := loss.Compute(pred, target, n, dim, nil); again != value {
				t.Fatalf("loss with gradient %g, without %g", value, again)
			}
			for i := range pred {
				saved := pred[i]
				pred[i] = saved + fdStep
				plus := loss.Compute(pred, target, n, dim, nil)
				pred[i] = saved - fdStep
				minus := loss.Compute(pred, target, n, dim, nil)
				pred[i] = saved
				if got := (plus - minus) / (2 * fdStep); !closeEnough(got, float64(grad[i])) {
					t.Errorf("prediction %d: analytic gradient %g, finite difference %g", i, grad[i], got)
				}
			}
		})
	}
}

// offsetTargets returns pred shifted by ±0.5 or ±1.5 per value, so every
// difference is at least 0.49 away from 0 and from ±1.
func offsetTargets(pred []float32) []float32 {
	offsets := []float32{0.5, -1.5, -0.5, 1.5}
	out := make([]float32, len(pred))
	for i, p := range pred {
		out[i] = p - offsets[i%len(offsets)]
	}
	return out
}
