package engine

import (
	"fmt"
)

// predictChunk is the number of samples Predict runs through the network at
// once, which bounds the memory of the activation buffers.
const predictChunk = 512

// Network is a sequence of layers applied to samples of a fixed shape. It
// owns the activation and gradient buffers of every layer and grows them to
// the largest batch seen, so steps after the first allocate nothing.
// A Network is not safe for concurrent use.
type Network struct {
	inShape []int
	layers  []Layer
	// shapes[i] is the output shape of layers[i], and sizes[i] its value count.
	shapes [][]int
	sizes  []int
	params []*Param

	// rows is the batch size the buffers below can hold.
	rows int
	// acts[i] holds the outputs of layers[i], and deltas[i] the gradient of
	// the loss with respect to them.
	acts   [][]float32
	deltas [][]float32
	// input is the batch of the last Forward, kept for Backward.
	input []float32
}

// NewNetwork starts an empty network whose samples have the given shape.
func NewNetwork(inShape []int) *Network {
	return &Network{inShape: append([]int(nil), inShape...)}
}

// Add appends a layer after checking that it accepts the network's current
// output shape.
func (net *Network) Add(l Layer) error {
	out, err := l.OutShape(net.OutShape())
	if err != nil {
		return fmt.Errorf("add layer %d: %w", len(net.layers)+1, err)
	}
	net.layers = append(net.layers, l)
	net.shapes = append(net.shapes, out)
	net.sizes = append(net.sizes, shapeSize(out))
	net.params = append(net.params, l.Params()...)

	// Buffers are sized for the new layer list at the next Forward.
	net.rows = 0
	net.acts, net.deltas = nil, nil
	return nil
}

// InShape returns the shape of one input sample.
func (net *Network) InShape() []int { return append([]int(nil), net.inShape...) }

// OutShape returns the shape of one output sample: the input shape while the
// network has no layers.
func (net *Network) OutShape() []int {
	if len(net.layers) == 0 {
		return append([]int(nil), net.inShape...)
	}
	return append([]int(nil), net.shapes[len(net.shapes)-1]...)
}

// InSize returns the number of values in one input sample.
func (net *Network) InSize() int { return shapeSize(net.inShape) }

// OutSize returns the number of values in one output sample.
func (net *Network) OutSize() int {
	if len(net.layers) == 0 {
		return net.InSize()
	}
	return net.sizes[len(net.sizes)-1]
}

// NumParams returns the number of trainable scalars.
func (net *Network) NumParams() int {
	n := 0
	for _, p := range net.params {
		n += len(p.Value)
	}
	return n
}

// Layers returns the layers in order. The slice is the network's own, so
// callers must not modify it.
func (net *Network) Layers() []Layer { return net.layers }

// Params returns every trainable tensor, layer by layer. The slice is the
// network's own, so callers must not modify it.
func (net *Network) Params() []*Param { return net.params }

// reserve grows the buffers to hold n samples.
func (net *Network) reserve(n int) {
	if n <= net.rows {
		return
	}
	net.acts = make([][]float32, len(net.layers))
	net.deltas = make([][]float32, len(net.layers))
	for i, size := range net.sizes {
		net.acts[i] = make([]float32, n*size)
		net.deltas[i] = make([]float32, n*size)
	}
	net.rows = n
}

// Forward runs n samples through the network and returns their outputs,
// n*OutSize() values. The returned slice belongs to the network and is
// overwritten by the next Forward. Forward panics if x holds fewer than
// n*InSize() values.
func (net *Network) Forward(x []float32, n int) []float32 {
	inSize := net.InSize()
	if len(x) < n*inSize {
		panic(fmt.Sprintf("engine: Forward of %d samples of %d values needs %d values, got %d", n, inSize, n*inSize, len(x)))
	}
	net.reserve(n)
	in := x[:n*inSize]
	net.input = in
	for i, l := range net.layers {
		out := net.acts[i][:n*net.sizes[i]]
		l.Forward(in, out, n)
		in = out
	}
	return in
}

// Backward propagates dOut, the gradient of the loss with respect to the
// outputs of the last Forward (n*OutSize() values), and sets the gradient of
// every parameter. It must follow a Forward of the same n samples.
func (net *Network) Backward(dOut []float32, n int) {
	for i := len(net.layers) - 1; i >= 0; i-- {
		in := net.input
		var dIn []float32
		if i > 0 {
			in = net.acts[i-1][:n*net.sizes[i-1]]
			dIn = net.deltas[i-1][:n*net.sizes[i-1]]
		}
		out := net.acts[i][:n*net.sizes[i]]
		net.layers[i].Backward(in, out, dOut[:n*net.sizes[i]], dIn, n)
		dOut = dIn
	}
}

// Predict returns the outputs of n samples in a new slice of n*OutSize()
// values. It runs the samples in chunks so that memory stays bounded for
// large n.
func (net *Network) Predict(x []float32, n int) []float32 {
	inSize, outSize := net.InSize(), net.OutSize()
	out := make([]float32, n*outSize)
	for start := 0; start < n; start += predictChunk {
		rows := min(predictChunk, n-start)
		y := net.Forward(x[start*inSize:(start+rows)*inSize], rows)
		copy(out[start*outSize:], y)
	}
	return out
}
