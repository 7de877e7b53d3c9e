package engine

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Adam is the Adam optimiser with PyTorch's defaults and update order
// (torch.optim.Adam, single-tensor path of PyTorch 1.13): betas 0.9 and
// 0.999, eps 1e-8 added after dividing √v by √(1-β₂ᵗ), bias correction, no
// weight decay and no amsgrad. Moments are float32, like the parameters.
type Adam struct {
	// LR is the learning rate.
	LR float64
	// Beta1, Beta2 and Eps default to 0.9, 0.999 and 1e-8.
	Beta1, Beta2, Eps float64

	params []*Param
	// m and v are the first and second moment estimates, one per parameter.
	m, v [][]float32
	step int64
}

// NewAdam returns an Adam optimiser over every parameter of net, with zero
// moments and step count.
func NewAdam(net *Network, lr float64) *Adam {
	a := &Adam{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, params: net.Params()}
	a.m = make([][]float32, len(a.params))
	a.v = make([][]float32, len(a.params))
	for i, p := range a.params {
		a.m[i] = make([]float32, len(p.Value))
		a.v[i] = make([]float32, len(p.Value))
	}
	return a
}

// Steps returns the number of updates done so far.
func (a *Adam) Steps() int64 { return a.step }

// Step updates every parameter from its current gradient.
func (a *Adam) Step() {
	a.step++
	t := float64(a.step)
	c := adamCoefficients{
		beta1:               float32(a.Beta1),
		oneMinusBeta1:       float32(1 - a.Beta1),
		beta2:               float32(a.Beta2),
		oneMinusBeta2:       float32(1 - a.Beta2),
		biasCorrection2Sqrt: float32(math.Sqrt(1 - math.Pow(a.Beta2, t))),
		stepSize:            float32(a.LR / (1 - math.Pow(a.Beta1, t))),
		eps:                 float32(a.Eps),
	}
	for i, p := range a.params {
		adamUpdate(p.Value, a.m[i], a.v[i], p.Grad, &c)
	}
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// adamMagic starts every serialised Adam state.
var adamMagic = [8]byte{'M', 'O', 'S', 'A', 'I', 'C', 'O', 'P'}

// adamVersion is the version of the Adam state format this build writes.
const adamVersion = 1

// MarshalBinary encodes the optimiser state: the magic "MOSAICOP", the format
// version (uint32), the step count (int64), the number of tensors (uint32),
// then for each tensor its length (uint32), its first moments and its second
// moments as float32, all little-endian. The learning rate and betas are not
// stored because they come from the run's configuration.
func (a *Adam) MarshalBinary() ([]byte, error) {
	size := 8 + 4 + 8 + 4
	for _, m := range a.m {
		size += 4 + 8*len(m)
	}
	buf := make([]byte, 0, size)
	buf = append(buf, adamMagic[:]...)
	buf = binary.LittleEndian.AppendUint32(buf, adamVersion)
	buf = binary.LittleEndian.AppendUint64(buf, uint64(a.step))
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(a.m)))
	for i := range a.m {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(len(a.m[i])))
		buf = appendFloats(buf, a.m[i])
		buf = appendFloats(buf, a.v[i])
	}
	return buf, nil
}

// UnmarshalBinary restores a state written by MarshalBinary for an optimiser
// over parameters of the same sizes.
func (a *Adam) UnmarshalBinary(data []byte) error {
	r := &reader{data: data}
	if err := r.header(adamMagic, adamVersion); err != nil {
		return fmt.Errorf("decode adam state: %w", err)
	}
	step := int64(r.uint64())
	count := int(r.uint32())
	if r.err == nil && count != len(a.m) {
		return fmt.Errorf("decode adam state: it has %d tensors, the optimiser has %d", count, len(a.m))
	}

	// Decode into new slices so that a truncated state leaves a unchanged.
	m := make([][]float32, len(a.m))
	v := make([][]float32, len(a.v))
	for i := 0; i < count && r.err == nil; i++ {
		if length := int(r.uint32()); r.err == nil && length != len(a.m[i]) {
			return fmt.Errorf("decode adam state: tensor %d has %d values, the optimiser has %d", i, length, len(a.m[i]))
		}
		m[i] = r.floats(len(a.m[i]))
		v[i] = r.floats(len(a.v[i]))
	}
	if err := r.finish(); err != nil {
		return fmt.Errorf("decode adam state: %w", err)
	}
	a.m, a.v = m, v
	a.step = step
	return nil
}
