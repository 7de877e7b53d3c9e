package engine

import (
	"fmt"
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
}

var _ Layer = (*MaxPool2D)(nil)

// NewMaxPool2D returns a max pool of windows of size×size over samples of
// shape inShape (channels, height, width). It returns an error if the shape
// is not 3-D or the window is larger than the input.
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

// argmax returns the index in plane of the first maximum of window (oh, ow).
// A NaN wins over any number, so NaN propagates as in PyTorch.
func (p *MaxPool2D) argmax(plane []float32, oh, ow int) int {
	best := oh*p.Size*p.W + ow*p.Size
	for i := 0; i < p.Size; i++ {
		for j := 0; j < p.Size; j++ {
			k := (oh*p.Size+i)*p.W + ow*p.Size + j
			v := plane[k]
			if v > plane[best] || (v != v && plane[best] == plane[best]) {
				best = k
			}
		}
	}
	return best
}

// Forward writes the maximum of each window.
func (p *MaxPool2D) Forward(in, out []float32, n int) {
	inPlane, outPlane := p.H*p.W, p.OutH*p.OutW
	for c := 0; c < n*p.C; c++ {
		plane := in[c*inPlane : (c+1)*inPlane]
		dst := out[c*outPlane : (c+1)*outPlane]
		for oh := 0; oh < p.OutH; oh++ {
			for ow := 0; ow < p.OutW; ow++ {
				dst[oh*p.OutW+ow] = plane[p.argmax(plane, oh, ow)]
			}
		}
	}
}

// Backward routes each output gradient to the input that was the window's
// maximum; every other input gets 0.
func (p *MaxPool2D) Backward(in, out, dOut, dIn []float32, n int) {
	if dIn == nil {
		return
	}
	inPlane, outPlane := p.H*p.W, p.OutH*p.OutW
	clear(dIn[:n*p.C*inPlane])
	for c := 0; c < n*p.C; c++ {
		plane := in[c*inPlane : (c+1)*inPlane]
		dPlane := dIn[c*inPlane : (c+1)*inPlane]
		for oh := 0; oh < p.OutH; oh++ {
			for ow := 0; ow < p.OutW; ow++ {
				dPlane[p.argmax(plane, oh, ow)] += dOut[c*outPlane+oh*p.OutW+ow]
			}
		}
	}
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
