package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// Conv2D is a 2-D convolution over samples of shape channels × height ×
// width, computed as PyTorch's nn.Conv2d computes it (cross-correlation,
// square kernel, zero padding, no dilation or groups). Each sample is
// unfolded into a column matrix (im2col) of InC·Kernel² rows and one column
// per output position, so the convolution becomes one matrix product with
// the weights.
type Conv2D struct {
	// InC, InH and InW are the channels, height and width of an input sample.
	InC, InH, InW int
	// OutC is the number of output channels (filters).
	OutC int
	// Kernel is the side of the square kernel, Stride the step between two
	// output positions and Padding the number of zero rows and columns added
	// on each side of the input.
	Kernel, Stride, Padding int
	// OutH and OutW are the output height and width, derived from the above
	// as ⌊(in + 2·Padding - Kernel) / Stride⌋ + 1.
	OutH, OutW int
	// Weight has PyTorch's shape OutC × InC × Kernel × Kernel, and Bias OutC values.
	Weight *Param
	Bias   *Param

	// col and dCol are scratch matrices of one sample, reused by every call,
	// so Forward and Backward allocate nothing.
	col, dCol []float32
}

var _ Layer = (*Conv2D)(nil)

// NewConv2D returns a convolution of input samples of shape inShape
// (channels, height, width) into outC channels, with PyTorch's default
// nn.Conv2d initialisation: weights then bias drawn from U(-1/√fanIn,
// 1/√fanIn) with fanIn = channels·kernel². It returns an error if the shape
// is not 3-D or the kernel, once padded, does not fit the input.
func NewConv2D(inShape []int, outC, kernel, stride, padding int, rng *rand.Rand) (*Conv2D, error) {
	if len(inShape) != 3 {
		return nil, fmt.Errorf("convolution needs samples of shape channels×height×width, got shape %v", inShape)
	}
	if outC < 1 || kernel < 1 || stride < 1 || padding < 0 {
		return nil, fmt.Errorf("invalid convolution: %d channels, kernel %d, stride %d, padding %d: expected channels, kernel and stride of at least 1 and padding of at least 0",
			outC, kernel, stride, padding)
	}
	c := &Conv2D{InC: inShape[0], InH: inShape[1], InW: inShape[2], OutC: outC, Kernel: kernel, Stride: stride, Padding: padding}
	if c.InC < 1 || c.InH < 1 || c.InW < 1 {
		return nil, fmt.Errorf("convolution input shape %v has an empty dimension", inShape)
	}
	if c.InH+2*padding < kernel || c.InW+2*padding < kernel {
		return nil, fmt.Errorf("convolution kernel %d does not fit input %d×%d with padding %d", kernel, c.InH, c.InW, padding)
	}
	c.OutH = (c.InH+2*padding-kernel)/stride + 1
	c.OutW = (c.InW+2*padding-kernel)/stride + 1

	fanIn := c.InC * kernel * kernel
	c.Weight = newParam("weight", outC, c.InC, kernel, kernel)
	c.Bias = newParam("bias", outC)
	bound := 1 / math.Sqrt(float64(fanIn))
	for i := range c.Weight.Value {
		c.Weight.Value[i] = float32((2*rng.Float64() - 1) * bound)
	}
	for i := range c.Bias.Value {
		c.Bias.Value[i] = float32((2*rng.Float64() - 1) * bound)
	}
	c.col = make([]float32, fanIn*c.OutH*c.OutW)
	c.dCol = make([]float32, fanIn*c.OutH*c.OutW)
	return c, nil
}

// OutShape accepts only the input shape given to NewConv2D.
func (c *Conv2D) OutShape(in []int) ([]int, error) {
	if want := []int{c.InC, c.InH, c.InW}; !slices.Equal(in, want) {
		return nil, fmt.Errorf("convolution takes samples of shape %v, got %v", want, in)
	}
	return []int{c.OutC, c.OutH, c.OutW}, nil
}

// Forward computes, for each sample, out = W·im2col(in) + b.
func (c *Conv2D) Forward(in, out []float32, n int) {
	inSize, outSize := c.InC*c.InH*c.InW, c.OutC*c.OutH*c.OutW
	positions := c.OutH * c.OutW
	w := c.weightMatrix()
	col := blas32.General{Rows: len(c.col) / positions, Cols: positions, Stride: positions, Data: c.col}
	for s := 0; s < n; s++ {
		c.im2col(in[s*inSize : (s+1)*inSize])
		y := out[s*outSize : (s+1)*outSize]
		for o := 0; o < c.OutC; o++ {
			row := y[o*positions : (o+1)*positions]
			for i := range row {
				row[i] = c.Bias.Value[o]
			}
		}
		gemm(blas.NoTrans, blas.NoTrans, 1, w, col, 1, blas32.General{Rows: c.OutC, Cols: positions, Stride: positions, Data: y})
	}
}

// Backward accumulates dW = Σ dOut·im2col(in)ᵀ and db = Σ dOut over samples
// and positions, and folds dCol = Wᵀ·dOut back onto the input (col2im).
func (c *Conv2D) Backward(in, out, dOut, dIn []float32, n int) {
	inSize, outSize := c.InC*c.InH*c.InW, c.OutC*c.OutH*c.OutW
	positions := c.OutH * c.OutW
	rows := len(c.col) / positions
	w := c.weightMatrix()
	col := blas32.General{Rows: rows, Cols: positions, Stride: positions, Data: c.col}
	dCol := blas32.General{Rows: rows, Cols: positions, Stride: positions, Data: c.dCol}
	dw := blas32.General{Rows: c.OutC, Cols: rows, Stride: rows, Data: c.Weight.Grad}
	clear(c.Weight.Grad)
	clear(c.Bias.Grad)

	for s := 0; s < n; s++ {
		dy := blas32.General{Rows: c.OutC, Cols: positions, Stride: positions, Data: dOut[s*outSize : (s+1)*outSize]}
		for o := 0; o < c.OutC; o++ {
			for _, v := range dy.Data[o*positions : (o+1)*positions] {
				c.Bias.Grad[o] += v
			}
		}
		c.im2col(in[s*inSize : (s+1)*inSize])
		gemm(blas.NoTrans, blas.Trans, 1, dy, col, 1, dw)
		if dIn != nil {
			gemm(blas.Trans, blas.NoTrans, 1, w, dy, 0, dCol)
			c.col2im(dIn[s*inSize : (s+1)*inSize])
		}
	}
}

// Params returns the weight then the bias.
func (c *Conv2D) Params() []*Param { return []*Param{c.Weight, c.Bias} }

// String describes the layer, for example "conv2d(1→8, k3 s1 p1)".
func (c *Conv2D) String() string {
	return fmt.Sprintf("conv2d(%d→%d, k%d s%d p%d)", c.InC, c.OutC, c.Kernel, c.Stride, c.Padding)
}

// weightMatrix views the weights as OutC rows of InC·Kernel² values.
func (c *Conv2D) weightMatrix() blas32.General {
	cols := c.InC * c.Kernel * c.Kernel
	return blas32.General{Rows: c.OutC, Cols: cols, Stride: cols, Data: c.Weight.Value}
}

// im2col fills c.col from one input sample: row (ch, ki, kj) contains, for each
// output position (oh, ow), the input value under kernel cell (ki, kj), or 0
// where that cell falls in the padding.
func (c *Conv2D) im2col(x []float32) {
	positions := c.OutH * c.OutW
	row := 0
	for ch := 0; ch < c.InC; ch++ {
		plane := x[ch*c.InH*c.InW : (ch+1)*c.InH*c.InW]
		for ki := 0; ki < c.Kernel; ki++ {
			for kj := 0; kj < c.Kernel; kj++ {
				dst := c.col[row*positions : (row+1)*positions]
				for oh := 0; oh < c.OutH; oh++ {
					ih := oh*c.Stride - c.Padding + ki
					line := dst[oh*c.OutW : (oh+1)*c.OutW]
					if ih < 0 || ih >= c.InH {
						clear(line)
						continue
					}
					for ow := range line {
						iw := ow*c.Stride - c.Padding + kj
						if iw < 0 || iw >= c.InW {
							line[ow] = 0
						} else {
							line[ow] = plane[ih*c.InW+iw]
						}
					}
				}
				row++
			}
		}
	}
}

// col2im writes to dx the sum, over every kernel cell and output position
// that read an input value, of the matching entry of c.dCol. It is the
// adjoint of im2col.
func (c *Conv2D) col2im(dx []float32) {
	clear(dx)
	positions := c.OutH * c.OutW
	row := 0
	for ch := 0; ch < c.InC; ch++ {
		plane := dx[ch*c.InH*c.InW : (ch+1)*c.InH*c.InW]
		for ki := 0; ki < c.Kernel; ki++ {
			for kj := 0; kj < c.Kernel; kj++ {
				src := c.dCol[row*positions : (row+1)*positions]
				for oh := 0; oh < c.OutH; oh++ {
					ih := oh*c.Stride - c.Padding + ki
					if ih < 0 || ih >= c.InH {
						continue
					}
					for ow, v := range src[oh*c.OutW : (oh+1)*c.OutW] {
						iw := ow*c.Stride - c.Padding + kj
						if iw >= 0 && iw < c.InW {
							plane[ih*c.InW+iw] += v
						}
					}
				}
				row++
			}
		}
	}
}
