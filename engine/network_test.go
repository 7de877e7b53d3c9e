package engine

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// newMLP builds in → hidden... → out with the given activation after every
// hidden layer.
func newMLP(t testing.TB, seed uint64, activation string, in int, hidden []int, out int) *Network {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 0))
	net := NewNetwork([]int{in})
	for _, width := range hidden {
		if err := net.Add(NewDense(net.OutSize(), width, rng)); err != nil {
			t.Fatal(err)
		}
		act, err := NewActivation(activation)
		if err != nil {
			t.Fatal(err)
		}
		if err := net.Add(act); err != nil {
			t.Fatal(err)
		}
	}
	if err := net.Add(NewDense(net.OutSize(), out, rng)); err != nil {
		t.Fatal(err)
	}
	return net
}

func TestNetworkShapes(t *testing.T) {
	net := NewNetwork([]int{1, 2, 3})
	if got := net.OutShape(); !slices.Equal(got, []int{1, 2, 3}) {
		t.Errorf("empty network OutShape = %v, want [1 2 3]", got)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	if err := net.Add(NewDense(5, 4, rng)); err == nil {
		t.Error("Add accepted a dense layer of 5 inputs after 6 values")
	}
	if err := net.Add(NewDense(6, 4, rng)); err != nil {
		t.Fatalf("Add dense(6→4) after shape [1 2 3]: %v", err)
	}
	if got := net.OutShape(); !slices.Equal(got, []int{4}) {
		t.Errorf("OutShape = %v, want [4]", got)
	}
	if got := net.NumParams(); got != 6*4+4 {
		t.Errorf("NumParams = %d, want 28", got)
	}
	if got := len(net.Layers()); got != 1 {
		t.Errorf("%d layers, want 1", got)
	}
}

func TestUnknownNamesListKnown(t *testing.T) {
	_, err := NewActivation("swish")
	if err == nil || !strings.Contains(err.Error(), "relu") || !strings.Contains(err.Error(), `"swish"`) {
		t.Errorf("NewActivation(swish) error = %v, want one naming swish and listing relu", err)
	}
	_, err = NewLoss("KLDivLoss")
	for _, known := range Losses() {
		if err == nil || !strings.Contains(err.Error(), known) {
			t.Errorf("NewLoss(KLDivLoss) error = %v, want one listing %s", err, known)
		}
	}
}

func TestActivationValues(t *testing.T) {
	cases := []struct {
		name string
		x    float32
		want float64
	}{
		{"relu", -1, 0},
		{"relu", 2, 2},
		{"leaky_relu", -2, -0.02},
		{"tanh", 0.5, math.Tanh(0.5)},
		{"sigmoid", 0, 0.5},
		{"gelu", 1, 0.8413447460685429},
		{"gelu", -1, -0.15865525393145707},
	}
	for _, c := range cases {
		layer, err := NewActivation(c.name)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]float32, 1)
		layer.Forward([]float32{c.x}, out, 1)
		if math.Abs(float64(out[0])-c.want) > 1e-6 {
			t.Errorf("%s(%g) = %g, want %g", c.name, c.x, out[0], c.want)
		}
	}
}

func TestCrossEntropyLargeLogits(t *testing.T) {
	logits := []float32{1000, 0, -1000, -1000, 0, 1000}
	grad := make([]float32, 6)
	got := CrossEntropyLoss{}.Compute(logits, []float32{0, 0}, 2, 3, grad)
	// Sample 1 is certain and right (loss 0); sample 2 is certain and wrong
	// by 2000 (loss 2000); the mean is 1000.
	if got != 1000 {
		t.Errorf("loss = %g, want 1000", got)
	}
	for i, g := range grad {
		if math.IsNaN(float64(g)) || math.IsInf(float64(g), 0) {
			t.Errorf("gradient %d = %g", i, g)
		}
	}
}

func TestDenseInitBounds(t *testing.T) {
	d := NewDense(16, 8, rand.New(rand.NewPCG(5, 6)))
	bound := float32(0.25) // 1/√16
	for _, p := range d.Params() {
		for _, v := range p.Value {
			if v < -bound || v > bound {
				t.Fatalf("%s value %g outside ±%g", p.Name, v, bound)
			}
		}
	}
	again := NewDense(16, 8, rand.New(rand.NewPCG(5, 6)))
	if !slices.Equal(d.Weight.Value, again.Weight.Value) || !slices.Equal(d.Bias.Value, again.Bias.Value) {
		t.Error("two layers from the same seed differ")
	}
}

func TestPredictMatchesForward(t *testing.T) {
	net := newMLP(t, 1, "relu", 3, []int{5}, 2)
	n := predictChunk + 7
	x := randomAwayFromZero(rand.New(rand.NewPCG(2, 2)), n*3)
	got := net.Predict(x, n)
	for _, i := range []int{0, predictChunk - 1, predictChunk, n - 1} {
		want := net.Forward(x[i*3:(i+1)*3], 1)
		if !slices.Equal(got[i*2:(i+1)*2], want) {
			t.Errorf("sample %d: Predict %v, Forward %v", i, got[i*2:(i+1)*2], want)
		}
	}
}

func TestNetworkWeightsRoundTrip(t *testing.T) {
	net := newMLP(t, 1, "tanh", 4, []int{6, 5}, 3)
	data, err := net.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	other := newMLP(t, 2, "tanh", 4, []int{6, 5}, 3)
	if err := other.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	for i, p := range net.Params() {
		if !slices.Equal(p.Value, other.Params()[i].Value) {
			t.Errorf("tensor %d differs after the round trip", i)
		}
	}

	wrongShape := newMLP(t, 2, "tanh", 4, []int{6, 4}, 3)
	before, _ := wrongShape.MarshalBinary()
	if err := wrongShape.UnmarshalBinary(data); err == nil || !strings.Contains(err.Error(), "shape") {
		t.Errorf("loading into another architecture: error %v, want a shape mismatch", err)
	}
	if after, _ := wrongShape.MarshalBinary(); !slices.Equal(before, after) {
		t.Error("a failed load changed the weights")
	}
	if err := other.UnmarshalBinary(data[:len(data)-1]); !errors.Is(err, ErrFormat) {
		t.Errorf("truncated data: error %v, want ErrFormat", err)
	}
	if err := other.UnmarshalBinary(append(slices.Clone(data), 0)); !errors.Is(err, ErrFormat) {
		t.Errorf("trailing byte: error %v, want ErrFormat", err)
	}
	adamState, _ := NewAdam(net, 0.1).MarshalBinary()
	if err := other.UnmarshalBinary(adamState); !errors.Is(err, ErrFormat) {
		t.Errorf("adam state read as weights: error %v, want ErrFormat", err)
	}
}

func TestAdamStateRoundTrip(t *testing.T) {
	net := newMLP(t, 1, "relu", 2, []int{4}, 1)
	x := []float32{0.5, -1, 1, 2}
	y := []float32{1, -1}
	opt := NewAdam(net, 0.01)
	step := trainingStep(net, MSELoss{}, opt, x, y, 2)
	step()
	step()
	state, err := opt.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	weights, _ := net.MarshalBinary()

	// Continue twice: once with the original optimiser, once with a copy
	// restored from the state, and expect identical weights.
	step()
	want, _ := net.MarshalBinary()
	if err := net.UnmarshalBinary(weights); err != nil {
		t.Fatal(err)
	}
	restored := NewAdam(net, 0.01)
	if err := restored.UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	if restored.Steps() != 2 {
		t.Errorf("restored step count %d, want 2", restored.Steps())
	}
	trainingStep(net, MSELoss{}, restored, x, y, 2)()
	if got, _ := net.MarshalBinary(); !slices.Equal(got, want) {
		t.Error("a step after restoring the state differs from the uninterrupted step")
	}

	other := NewAdam(newMLP(t, 1, "relu", 2, []int{5}, 1), 0.01)
	if err := other.UnmarshalBinary(state); err == nil {
		t.Error("restoring into an optimiser over other sizes succeeded")
	}
}

// trainingStep returns one minibatch step: forward, loss, backward, update.
func trainingStep(net *Network, loss Loss, opt *Adam, x, y []float32, n int) func() {
	grad := make([]float32, n*net.OutSize())
	return func() {
		out := net.Forward(x, n)
		loss.Compute(out, y, n, net.OutSize(), grad)
		net.Backward(grad, n)
		opt.Step()
	}
}

func TestTrainingStepAllocatesNothing(t *testing.T) {
	for _, c := range []struct {
		name   string
		in     int
		hidden []int
		out    int
		loss   Loss
	}{
		{"small_mse", 2, []int{4, 4, 4, 4}, 1, MSELoss{}},
		{"medium_cross_entropy", 64, []int{32, 32}, 10, CrossEntropyLoss{}},
		{"large_mse", 64, []int{256, 256, 256}, 1, MSELoss{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			const n = 64
			net := newMLP(t, 1, "relu", c.in, c.hidden, c.out)
			rng := rand.New(rand.NewPCG(1, 2))
			x := randomAwayFromZero(rng, n*c.in)
			y := make([]float32, n*c.out)
			if c.loss.ClassTargets() {
				y = y[:n]
				for i := range y {
					y[i] = float32(rng.IntN(c.out))
				}
			}
			step := trainingStep(net, c.loss, NewAdam(net, 1e-3), x, y, n)
			step()
			if allocs := testing.AllocsPerRun(20, step); allocs != 0 {
				t.Errorf("%g allocations per training step, want 0", allocs)
			}
		})
	}
}
