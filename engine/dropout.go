package engine

import (
	"fmt"
	"math/rand/v2"
)

// TrainModer is implemented by layers that behave differently in training
// and in evaluation, such as Dropout. Network.SetTraining switches them all.
type TrainModer interface {
	// SetTraining selects training (true) or evaluation (false) behaviour.
	SetTraining(training bool)
}

// Reseeder is implemented by layers that draw random numbers while they
// train, such as Dropout. The training loop reseeds them at the start of
// every epoch from the run seed and the epoch number, so a run resumed from
// a checkpoint draws the same numbers as an uninterrupted one.
type Reseeder interface {
	// Reseed restarts the layer's generator from seed.
	Reseed(seed uint64)
}

// Reseed restarts the generator of every layer that implements Reseeder,
// each from seed and its position in the network.
func (net *Network) Reseed(seed uint64) {
	for i, l := range net.layers {
		if r, ok := l.(Reseeder); ok {
			r.Reseed(seed ^ (uint64(i+1) * 0x9e3779b97f4a7c15))
		}
	}
}

// SetTraining switches every layer that implements TrainModer to training
// (true) or evaluation (false) behaviour. A new network is in evaluation
// mode, so Predict and any Forward outside a training loop are
// deterministic. The training loop sets training mode for its minibatch
// steps and evaluation mode for the test set.
func (net *Network) SetTraining(training bool) {
	for _, l := range net.layers {
		if m, ok := l.(TrainModer); ok {
			m.SetTraining(training)
		}
	}
}

// Dropout is inverted dropout, as nn.Dropout(P). In training mode it sets
// each value to 0 with probability P and multiplies the others by 1/(1-P),
// so the expected output equals the input. In evaluation mode it copies its
// input. A new Dropout is in evaluation mode.
//
// Unlike the other layers, Dropout keeps the mask of the last training
// Forward for Backward, so it must not run two batches between a Forward
// and its Backward.
type Dropout struct {
	// P is the probability of dropping a value, in [0, 1).
	P float64

	training bool
	rng      *rand.Rand
	// mask holds 0 or 1/(1-P) per value of the last training Forward.
	mask []float32
}

var (
	_ Layer      = (*Dropout)(nil)
	_ TrainModer = (*Dropout)(nil)
	_ Reseeder   = (*Dropout)(nil)
)

// NewDropout returns a dropout layer that draws its masks from a generator
// seeded from rng. It returns an error unless 0 ≤ p < 1.
func NewDropout(p float64, rng *rand.Rand) (*Dropout, error) {
	if !(p >= 0 && p < 1) {
		return nil, fmt.Errorf("invalid dropout probability %v: expected a number in [0, 1)", p)
	}
	return &Dropout{P: p, rng: rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))}, nil
}

// SetTraining selects whether Forward drops values.
func (d *Dropout) SetTraining(training bool) { d.training = training }

// Reseed restarts the mask generator from seed.
func (d *Dropout) Reseed(seed uint64) { d.rng = rand.New(rand.NewPCG(seed, dropoutStream)) }

// dropoutStream is the PCG stream of the mask generator.
const dropoutStream = 0x64726f706f7574 // "dropout"

// OutShape returns a copy of in.
func (d *Dropout) OutShape(in []int) ([]int, error) { return append([]int(nil), in...), nil }

// Forward copies in to out, dropping and rescaling values in training mode.
func (d *Dropout) Forward(in, out []float32, n int) {
	if !d.training || d.P == 0 {
		copy(out[:len(in)], in)
		return
	}
	if cap(d.mask) < len(in) {
		d.mask = make([]float32, len(in))
	}
	d.mask = d.mask[:len(in)]
	keep := float32(1 / (1 - d.P))
	for i, x := range in {
		if d.rng.Float64() < d.P {
			d.mask[i] = 0
		} else {
			d.mask[i] = keep
		}
		out[i] = x * d.mask[i]
	}
}

// Backward multiplies dOut by the mask of the last Forward, or copies it in
// evaluation mode.
func (d *Dropout) Backward(in, out, dOut, dIn []float32, n int) {
	if dIn == nil {
		return
	}
	if !d.training || d.P == 0 {
		copy(dIn[:len(in)], dOut[:len(in)])
		return
	}
	for i := range in {
		dIn[i] = dOut[i] * d.mask[i]
	}
}

// Params returns nil: dropout has no parameters.
func (d *Dropout) Params() []*Param { return nil }

// String describes the layer, for example "dropout(0.2)".
func (d *Dropout) String() string { return fmt.Sprintf("dropout(%g)", d.P) }
