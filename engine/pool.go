package engine

import (
	"fmt"
	"math"
	"slices"
)

// MaxPool2D takes the maximum over non-overlapping Size×Size windows of each
// channel, as PyTorch's nn.MaxPool2d(Size) does: the stride is the window
// size, there is no padding, and rows or columns left over at the bottom or
// right edge are dropped. The gradient goes to the first maximum of each
// window in row-major order.
type MaxPool2D struct {
	// C, H and W are the input channels, height and width.
	C, H, W int
	// Size is the side of the window and the stride, at least 1.
	Size int
	// OutH and OutW are ⌊H/Size⌋ and ⌊W/Size⌋.
	OutH, OutW int

	// argmax holds, for each output value of the last Forward, the index of
	// its maximum within the input channel plane. It grows to the largest
	// batch seen, so calls after the first allocate nothing.
	argmax []int32
	// argmaxInput and argmaxRows identify the batch of the last Forward: the
	// address of its first value and its number of samples.
	argmaxInput *float32
	argmaxRows  int
}

var _ Layer = (*MaxPool2D)(nil)

// NewMaxPool2D returns a max pool of windows of size×size over samples of
// shape inShape (channels, height, width). It returns an error if the shape
// is not 3-D, the window is larger than the input, or a channel plane holds
// more values than an int32 indexes.
func NewMaxPool2D(inShape []int, size int) (*MaxPool2D, error) {
	if len(inShape) != 3 {
		return nil, fmt.Errorf("max pool needs samples of shape channels×height×width, got shape %v", inShape)
	}
	if size < 1 {
		return nil, fmt.Errorf("invalid max pool window %d: expected at least 1", size)
	}
	p := &MaxPool2D{C: inShape[0], H: inShape[1], W: inShape[2], Size: size}
	if p.H < size || p.W < size {
		return nil, fmt.Errorf("max pool window %d×%d does not fit input %d×%d", size, size, p.H, p.W)
	}
	if p.H > math.MaxInt32/p.W {
		return nil, fmt.Errorf("max pool input planes of %d×%d are too large: expected at most %d values", p.H, p.W, math.MaxInt32)
	}
	p.OutH, p.OutW = p.H/size, p.W/size
	return p, nil
}

// OutShape accepts only the input shape given to NewMaxPool2D.
func (p *MaxPool2D) OutShape(in []int) ([]int, error) {
	if want := []int{p.C, p.H, p.W}; !slices.Equal(in, want) {
		return nil, fmt.Errorf("max pool takes samples of shape %v, got %v", want, in)
	}
	return []int{p.C, p.OutH, p.OutW}, nil
}

// Forward writes the maximum of each window and records where it was, so
// that Backward routes the gradient without searching the windows again.
func (p *MaxPool2D) Forward(in, out []float32, n int) {
	if n == 0 {
		return
	}
	p.findMaxima(in, out, n)
}

// Backward routes each output gradient to the input that was the window's
// maximum; every other input gets 0. It reuses the maxima that Forward
// recorded when in is the batch that Forward received, as the Layer contract
// requires, and searches the windows of in again otherwise.
func (p *MaxPool2D) Backward(in, out, dOut, dIn []float32, n int) {
	if dIn == nil || n == 0 {
		return
	}
	if p.argmaxRows != n || p.argmaxInput != &in[0] {
		p.findMaxima(in, nil, n)
	}
	inPlane, outPlane := p.H*p.W, p.OutH*p.OutW
	dIn = dIn[:n*p.C*inPlane]
	clear(dIn)
	for c := 0; c < n*p.C; c++ {
		dPlane := dIn[c*inPlane : (c+1)*inPlane]
		idx := p.argmax[c*outPlane : (c+1)*outPlane]
		grad := dOut[c*outPlane : (c+1)*outPlane]
		grad = grad[:len(idx)]
		for i, k := range idx {
			dPlane[k] += grad[i]
		}
	}
}

// findMaxima fills p.argmax with the index, within its channel plane, of
// the first maximum of every window of the n samples in `in`, and writes the
// maxima to out unless out is nil. A NaN wins over any number, so NaN
// propagates as in PyTorch.
func (p *MaxPool2D) findMaxima(in, out []float32, n int) {
	inPlane, outPlane := p.H*p.W, p.OutH*p.OutW
	if size := n * p.C * outPlane; len(p.argmax) < size {
		p.argmax = make([]int32, size)
	}
	for c := 0; c < n*p.C; c++ {
		plane := in[c*inPlane : (c+1)*inPlane]
		idx := p.argmax[c*outPlane : (c+1)*outPlane]
		for oh := 0; oh < p.OutH; oh++ {
			line := idx[oh*p.OutW : (oh+1)*p.OutW]
			if p.Size == 2 {
				p.findMaxima2(plane, oh, line)
				continue
			}
			for ow := range line {
				line[ow] = int32(p.windowArgmax(plane, oh, ow))
			}
		}
		if out != nil {
			dst := out[c*outPlane : (c+1)*outPlane]
			dst = dst[:len(idx)]
			for i, k := range idx {
				dst[i] = plane[k]
			}
		}
	}
	p.argmaxInput, p.argmaxRows = &in[0], n
}

// findMaxima2 is findMaxima for output row oh of one plane and windows of
// 2×2, the common case. It picks the first maximum of each row of a window,
// then the bottom row's only if it is larger, which is the first maximum in
// row-major order. The comparisons become integers rather than branches,
// which random data would mispredict. Comparisons with NaN are false, so a
// row of windows whose sum is NaN, because it holds NaN or both +Inf and
// -Inf, is searched again with windowArgmax.
func (p *MaxPool2D) findMaxima2(plane []float32, oh int, line []int32) {
	topStart, bottomStart := 2*oh*p.W, (2*oh+1)*p.W
	top := plane[topStart : topStart+2*len(line)]
	bottom := plane[bottomStart : bottomStart+len(top)]
	var sum float32
	for ow := range line {
		pair, below := top[2*ow:2*ow+2], bottom[2*ow:2*ow+2]
		sum += pair[0] + pair[1] + below[0] + below[1]
		first := boolToInt(pair[1] > pair[0])
		second := boolToInt(below[1] > below[0])
		k := topStart + 2*ow + first
		if below[second] > pair[first] {
			k = bottomStart + 2*ow + second
		}
		line[ow] = int32(k)
	}
	if sum != sum {
		for ow := range line {
			line[ow] = int32(p.windowArgmax(plane, oh, ow))
		}
	}
}

// boolToInt returns 1 for true and 0 for false.
func boolToInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// greaterOrNaN reports whether v replaces best as a window's maximum: v is
// larger, or v is the window's first NaN.
func greaterOrNaN(v, best float32) bool {
	return v > best || (v != v && best == best)
}

// windowArgmax returns the index in plane of the first maximum of window
// (oh, ow).
func (p *MaxPool2D) windowArgmax(plane []float32, oh, ow int) int {
	best := oh*p.Size*p.W + ow*p.Size
	for i := 0; i < p.Size; i++ {
		row := (oh*p.Size+i)*p.W + ow*p.Size
		for j, v := range plane[row : row+p.Size] {
			if greaterOrNaN(v, plane[best]) {
				best = row + j
			}
		}
	}
	return best
}

// Params returns nil: pooling has no parameters.
func (p *MaxPool2D) Params() []*Param { return nil }

// String describes the layer, for example "maxpool(2)".
func (p *MaxPool2D) String() string { return fmt.Sprintf("maxpool(%d)", p.Size) }

// Flatten turns a sample of any shape into a vector of the same values, as
// nn.Flatten does. Samples are row-major, so the values keep their order.
type Flatten struct{}

var _ Layer = Flatten{}

// OutShape returns the one-dimensional shape of as many values as in contains.
func (Flatten) OutShape(in []int) ([]int, error) { return []int{shapeSize(in)}, nil }

// Forward copies in to out.
func (Flatten) Forward(in, out []float32, n int) { copy(out[:len(in)], in) }

// Backward copies dOut to dIn.
func (Flatten) Backward(in, out, dOut, dIn []float32, n int) {
	if dIn != nil {
		copy(dIn[:len(in)], dOut[:len(in)])
	}
}

// Params returns nil.
func (Flatten) Params() []*Param { return nil }

// String returns "flatten".
func (Flatten) String() string { return "flatten" }

// GlobalAvgPool averages each channel of a channels × height × width sample
// into one value, as nn.AdaptiveAvgPool2d(1) followed by a flatten does.
type GlobalAvgPool struct {
	// C is the number of channels and Area the height times the width.
	C, Area int
}

var _ Layer = (*GlobalAvgPool)(nil)

// NewGlobalAvgPool returns a global average pool over samples of shape
// inShape, which must have 3 dimensions.
func NewGlobalAvgPool(inShape []int) (*GlobalAvgPool, error) {
	if len(inShape) != 3 || shapeSize(inShape) < 1 {
		return nil, fmt.Errorf("global average pooling needs samples of shape channels×height×width, got shape %v", inShape)
	}
	return &GlobalAvgPool{C: inShape[0], Area: inShape[1] * inShape[2]}, nil
}

// OutShape returns [C] for an input of C channels and Area values each.
func (g *GlobalAvgPool) OutShape(in []int) ([]int, error) {
	if len(in) != 3 || in[0] != g.C || in[1]*in[2] != g.Area {
		return nil, fmt.Errorf("global average pooling takes %d channels of %d values, got shape %v", g.C, g.Area, in)
	}
	return []int{g.C}, nil
}

// Forward writes the mean of each channel.
func (g *GlobalAvgPool) Forward(in, out []float32, n int) {
	for c := 0; c < n*g.C; c++ {
		var sum float32
		for _, v := range in[c*g.Area : (c+1)*g.Area] {
			sum += v
		}
		out[c] = sum / float32(g.Area)
	}
}

// Backward spreads each channel's gradient evenly over its values.
func (g *GlobalAvgPool) Backward(in, out, dOut, dIn []float32, n int) {
	if dIn == nil {
		return
	}
	for c := 0; c < n*g.C; c++ {
		share := dOut[c] / float32(g.Area)
		dst := dIn[c*g.Area : (c+1)*g.Area]
		for i := range dst {
			dst[i] = share
		}
	}
}

// Params returns nil.
func (g *GlobalAvgPool) Params() []*Param { return nil }

// String returns "global_avg_pool".
func (g *GlobalAvgPool) String() string { return "global_avg_pool" }
