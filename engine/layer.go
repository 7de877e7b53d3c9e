// Package engine is MOSAIC's training engine: float32 dense layers,
// activations, losses and the Adam optimiser, in pure Go over gonum's BLAS.
// It reads no files, configs or databases.
//
// Data is batch-major and row-major: a batch of n samples of f features is a
// []float32 of n*f values, sample after sample.
package engine

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// Layer is one differentiable step of a network. The network owns every
// buffer and passes slices of exactly n*features values, so a layer keeps no
// per-batch state and a step allocates nothing.
type Layer interface {
	// OutShape returns the shape of one output sample given one input
	// sample's shape, or an error if the layer cannot take that input.
	OutShape(in []int) ([]int, error)
	// Forward writes the outputs of the n samples in `in` to out.
	Forward(in, out []float32, n int)
	// Backward receives the inputs and outputs of the last Forward and the
	// gradient of the loss with respect to the outputs (dOut). It sets the
	// gradients of the layer's parameters, overwriting earlier values, and
	// writes the gradient with respect to the inputs to dIn unless dIn is nil.
	Backward(in, out, dOut, dIn []float32, n int)
	// Params returns the trainable tensors of the layer in a fixed order,
	// or nil for a layer without parameters.
	Params() []*Param
}

// Param is one trainable tensor and the gradient of the loss with respect to it.
type Param struct {
	// Name is the tensor's role in its layer, "weight" or "bias".
	Name string
	// Shape is the tensor's shape, row-major. Value and Grad each hold the
	// product of Shape values.
	Shape []int
	Value []float32
	Grad  []float32
}

func newParam(name string, shape ...int) *Param {
	size := 1
	for _, s := range shape {
		size *= s
	}
	return &Param{Name: name, Shape: shape, Value: make([]float32, size), Grad: make([]float32, size)}
}

// Dense is a fully connected layer, y = x·Wᵀ + b, with W stored as PyTorch's
// nn.Linear stores it: Out rows of In values.
type Dense struct {
	In, Out int
	Weight  *Param
	Bias    *Param
}

var _ Layer = (*Dense)(nil)

// NewDense returns a dense layer with PyTorch's default nn.Linear
// initialisation: weights then bias, each drawn from U(-1/√in, 1/√in), which
// is what kaiming_uniform with a = √5 gives for the weights. NewDense panics
// if in or out is below 1.
func NewDense(in, out int, rng *rand.Rand) *Dense {
	if in < 1 || out < 1 {
		panic(fmt.Sprintf("engine: NewDense(%d, %d): sizes must be at least 1", in, out))
	}
	d := &Dense{In: in, Out: out, Weight: newParam("weight", out, in), Bias: newParam("bias", out)}
	bound := 1 / math.Sqrt(float64(in))
	for i := range d.Weight.Value {
		d.Weight.Value[i] = float32((2*rng.Float64() - 1) * bound)
	}
	for i := range d.Bias.Value {
		d.Bias.Value[i] = float32((2*rng.Float64() - 1) * bound)
	}
	return d
}

// OutShape accepts any input shape of In values in all, which it flattens.
func (d *Dense) OutShape(in []int) ([]int, error) {
	if size := shapeSize(in); size != d.In {
		return nil, fmt.Errorf("dense layer takes %d inputs, got shape %v (%d values)", d.In, in, size)
	}
	return []int{d.Out}, nil
}

// Forward computes out = in·Wᵀ + b.
func (d *Dense) Forward(in, out []float32, n int) {
	x := blas32.General{Rows: n, Cols: d.In, Stride: d.In, Data: in}
	w := blas32.General{Rows: d.Out, Cols: d.In, Stride: d.In, Data: d.Weight.Value}
	y := blas32.General{Rows: n, Cols: d.Out, Stride: d.Out, Data: out}
	for i := 0; i < n; i++ {
		copy(out[i*d.Out:(i+1)*d.Out], d.Bias.Value)
	}
	gemm(blas.NoTrans, blas.Trans, 1, x, w, 1, y)
}

// Backward computes dW = dOutᵀ·in, db = column sums of dOut and dIn = dOut·W.
func (d *Dense) Backward(in, out, dOut, dIn []float32, n int) {
	x := blas32.General{Rows: n, Cols: d.In, Stride: d.In, Data: in}
	w := blas32.General{Rows: d.Out, Cols: d.In, Stride: d.In, Data: d.Weight.Value}
	dy := blas32.General{Rows: n, Cols: d.Out, Stride: d.Out, Data: dOut}
	dw := blas32.General{Rows: d.Out, Cols: d.In, Stride: d.In, Data: d.Weight.Grad}
	gemm(blas.Trans, blas.NoTrans, 1, dy, x, 0, dw)

	db := d.Bias.Grad
	clear(db)
	for i := 0; i < n; i++ {
		row := dOut[i*d.Out : (i+1)*d.Out]
		for j, v := range row {
			db[j] += v
		}
	}

	if dIn != nil {
		dx := blas32.General{Rows: n, Cols: d.In, Stride: d.In, Data: dIn}
		gemm(blas.NoTrans, blas.NoTrans, 1, dy, w, 0, dx)
	}
}

// Params returns the weight then the bias.
func (d *Dense) Params() []*Param { return []*Param{d.Weight, d.Bias} }

// String describes the layer, for example "dense(64→256)".
func (d *Dense) String() string { return fmt.Sprintf("dense(%d→%d)", d.In, d.Out) }

func shapeSize(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}
