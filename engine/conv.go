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
// square kernel, zero padding, no dilation or groups). The whole minibatch is
// unfolded into one column matrix (im2col) of InC·Kernel² rows and one column
// per sample and output position, so the convolution of the batch is a
// single matrix product with the weights.
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

	// col, dCol and channelMajor are scratch matrices grown to the largest
	// batch seen, so that calls after the first allocate nothing. col holds
	// the im2col of the batch, dCol its gradient, and channelMajor the
	// output or its gradient in the GEMM's order (OutC rows of n·OutH·OutW).
	col, dCol, channelMajor []float32
	// colInput and colRows identify the batch unfolded in col: the address
	// of its first value and its number of samples. Backward reuses col when
	// it receives the same batch as the last Forward.
	colInput *float32
	colRows  int
	// gatherIndex maps each kernel cell and output position to the input
	// value it reads, in a plane padded on every side, and padded and
	// paddedGrad hold one such plane and its gradient. The first call of
	// unfold or fold builds them.
	gatherIndex        []int32
	padded, paddedGrad []float32
	// weightGradT is the transpose of Weight.Grad, as Backward computes it.
	weightGradT []float32
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
	return c, nil
}

// OutShape accepts only the input shape given to NewConv2D.
func (c *Conv2D) OutShape(in []int) ([]int, error) {
	if want := []int{c.InC, c.InH, c.InW}; !slices.Equal(in, want) {
		return nil, fmt.Errorf("convolution takes samples of shape %v, got %v", want, in)
	}
	return []int{c.OutC, c.OutH, c.OutW}, nil
}

// convChunkValues bounds the values of the im2col matrix, and of the output
// in channel-major order, that Forward and Backward hold at once: a batch is
// processed in chunks of as many samples as fit. 2^18 float32 values are
// 1 MiB, an estimate of a core's L2 cache, and hold 113 samples of the
// second convolution of the digits CNN, so minibatches of 64 go in one
// chunk.
const convChunkValues = 1 << 18

// chunkRows returns the number of samples of one chunk.
func (c *Conv2D) chunkRows() int {
	perSample := max(c.InC*c.Kernel*c.Kernel, c.OutC) * c.OutH * c.OutW
	return max(1, convChunkValues/perSample)
}

// Forward computes out = W·im2col(in) + b with one matrix product per chunk
// of samples, then writes each channel's row back sample by sample.
func (c *Conv2D) Forward(in, out []float32, n int) {
	inSize, outSize := c.InC*c.InH*c.InW, c.OutC*c.OutH*c.OutW
	chunk := c.chunkRows()
	for start := 0; start < n; start += chunk {
		m := min(chunk, n-start)
		c.forwardChunk(in[start*inSize:(start+m)*inSize], out[start*outSize:(start+m)*outSize], m)
	}
}

// forwardChunk is Forward on n samples that fit in one chunk.
func (c *Conv2D) forwardChunk(in, out []float32, n int) {
	positions := c.OutH * c.OutW
	cols := n * positions
	c.unfold(in, n)
	y := growScratch(&c.channelMajor, c.OutC*cols)
	gemm(blas.NoTrans, blas.NoTrans, 1, c.weightMatrix(), c.colMatrix(n), 0,
		blas32.General{Rows: c.OutC, Cols: cols, Stride: cols, Data: y})

	// Row o of y holds channel o of every sample, one after the other.
	outSize := c.OutC * positions
	out = out[:n*outSize]
	for o, bias := range c.Bias.Value[:c.OutC] {
		row := y[o*cols : (o+1)*cols]
		for s := 0; s < n; s++ {
			src := row[s*positions : (s+1)*positions]
			dst := out[s*outSize+o*positions : s*outSize+(o+1)*positions]
			dst = dst[:len(src)]
			for i, v := range src {
				dst[i] = v + bias
			}
		}
	}
}

// Backward sets dW = dOut·im2col(in)ᵀ and db = Σ dOut over samples and
// positions, and folds dCol = Wᵀ·dOut back onto the input (col2im), with
// one matrix product each per chunk of samples. For the last chunk, which
// is the only one when the batch fits in a chunk, it reuses the im2col of
// the last Forward when in is the batch that Forward received, as the Layer
// contract requires. It unfolds the other chunks again.
func (c *Conv2D) Backward(in, out, dOut, dIn []float32, n int) {
	clear(c.Weight.Grad)
	clear(c.Bias.Grad)
	inSize, outSize := c.InC*c.InH*c.InW, c.OutC*c.OutH*c.OutW
	chunk := c.chunkRows()
	for start := 0; start < n; start += chunk {
		m := min(chunk, n-start)
		var dx []float32
		if dIn != nil {
			dx = dIn[start*inSize : (start+m)*inSize]
		}
		c.backwardChunk(in[start*inSize:(start+m)*inSize], dOut[start*outSize:(start+m)*outSize], dx, m)
	}
}

// backwardChunk adds the gradients of n samples that fit in one chunk to
// Weight.Grad and Bias.Grad, and writes their input gradient to dIn unless
// dIn is nil.
func (c *Conv2D) backwardChunk(in, dOut, dIn []float32, n int) {
	positions := c.OutH * c.OutW
	cols := n * positions
	if c.colRows != n || c.colInput != &in[0] {
		c.unfold(in, n)
	}

	// Gather dOut into channel-major order and sum the bias gradient.
	dy := growScratch(&c.channelMajor, c.OutC*cols)
	outSize := c.OutC * positions
	for o := range c.Bias.Grad[:c.OutC] {
		row := dy[o*cols : (o+1)*cols]
		var sum float32
		for s := 0; s < n; s++ {
			src := dOut[s*outSize+o*positions : s*outSize+(o+1)*positions]
			dst := row[s*positions : (s+1)*positions]
			dst = dst[:len(src)]
			for i, v := range src {
				dst[i] = v
				sum += v
			}
		}
		c.Bias.Grad[o] += sum
	}

	dyMatrix := blas32.General{Rows: c.OutC, Cols: cols, Stride: cols, Data: dy}
	rows := c.InC * c.Kernel * c.Kernel
	// dWᵀ = im2col(in)·dOutᵀ, then transposed, costs less than dW directly,
	// because gemm packs the large im2col matrix faster as the left operand
	// than transposed as the right one.
	dwT := growScratch(&c.weightGradT, rows*c.OutC)
	gemm(blas.NoTrans, blas.Trans, 1, c.colMatrix(n), dyMatrix, 0,
		blas32.General{Rows: rows, Cols: c.OutC, Stride: c.OutC, Data: dwT})
	for o := 0; o < c.OutC; o++ {
		dst := c.Weight.Grad[o*rows : (o+1)*rows]
		for r := range dst {
			dst[r] += dwT[r*c.OutC+o]
		}
	}
	if dIn == nil {
		return
	}
	dCol := growScratch(&c.dCol, rows*cols)
	gemm(blas.Trans, blas.NoTrans, 1, c.weightMatrix(), dyMatrix, 0,
		blas32.General{Rows: rows, Cols: cols, Stride: cols, Data: dCol})
	c.fold(dIn, n)
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

// colMatrix views c.col as the im2col matrix of a batch of n samples.
func (c *Conv2D) colMatrix(n int) blas32.General {
	rows, cols := c.InC*c.Kernel*c.Kernel, n*c.OutH*c.OutW
	return blas32.General{Rows: rows, Cols: cols, Stride: cols, Data: c.col[:rows*cols]}
}

// growScratch returns the first size values of *buf, after replacing *buf
// with a larger slice if it holds fewer.
func growScratch(buf *[]float32, size int) []float32 {
	if len(*buf) < size {
		*buf = make([]float32, size)
	}
	return (*buf)[:size]
}
