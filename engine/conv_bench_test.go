package engine

import (
	"math/rand/v2"
	"testing"
)

// newDigitsCNN builds the CNN of case (c) of bench/run.sh for 1×8×8
// samples. It has two blocks of a 3×3 convolution with padding 1, ReLU and
// a max pool of 2, with 16 then 32 channels. A flatten, a dense layer of 64
// with ReLU and a dense layer of 10 follow.
func newDigitsCNN(t testing.TB) *Network {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 5))
	net := NewNetwork([]int{1, 8, 8})
	add := func(l Layer, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if err := net.Add(l); err != nil {
			t.Fatal(err)
		}
	}
	for _, channels := range []int{16, 32} {
		conv, err := NewConv2D(net.OutShape(), channels, 3, 1, 1, rng)
		add(conv, err)
		add(NewActivation("relu"))
		add(NewMaxPool2D(net.OutShape(), 2))
	}
	add(Flatten{}, nil)
	add(NewDense(net.OutSize(), 64, rng), nil)
	add(NewActivation("relu"))
	add(NewDense(64, 10, rng), nil)
	return net
}

// digitsStep returns one cross-entropy training step of the digits CNN on a
// random batch of n samples.
func digitsStep(t testing.TB, n int) func() {
	net := newDigitsCNN(t)
	rng := rand.New(rand.NewPCG(7, 9))
	x := randomAwayFromZero(rng, n*net.InSize())
	y := make([]float32, n)
	for i := range y {
		y[i] = float32(rng.IntN(10))
	}
	return trainingStep(net, CrossEntropyLoss{}, NewAdam(net, 1e-2), x, y, n)
}

func TestCNNStepAllocatesNothing(t *testing.T) {
	step := digitsStep(t, 64)
	step()
	if allocs := testing.AllocsPerRun(20, step); allocs != 0 {
		t.Errorf("%g allocations per training step of the digits CNN, want 0", allocs)
	}
}

// BenchmarkStepCNN measures one Adam training step of the digits CNN on a
// batch of 64 samples.
func BenchmarkStepCNN(b *testing.B) {
	step := digitsStep(b, 64)
	step()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		step()
	}
}
