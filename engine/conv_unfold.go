package engine

// This file holds the batched im2col (unfold) of Conv2D and its adjoint,
// col2im (fold). Both go through a copy of one channel plane with Padding
// zeros on every side, so that each kernel cell reads its OutH·OutW values
// with one gather through a precomputed index table and no test for the
// padding.

// buildGatherIndex fills c.gatherIndex: entry r·OutH·OutW + q is the index,
// in a padded channel plane, of the value that kernel cell r (row-major over
// Kernel × Kernel) reads at output position q. It also allocates the padded
// plane buffers.
func (c *Conv2D) buildGatherIndex() {
	paddedW := c.InW + 2*c.Padding
	positions := c.OutH * c.OutW
	c.gatherIndex = make([]int32, 0, c.Kernel*c.Kernel*positions)
	for ki := 0; ki < c.Kernel; ki++ {
		for kj := 0; kj < c.Kernel; kj++ {
			for oh := 0; oh < c.OutH; oh++ {
				for ow := 0; ow < c.OutW; ow++ {
					c.gatherIndex = append(c.gatherIndex, int32((oh*c.Stride+ki)*paddedW+ow*c.Stride+kj))
				}
			}
		}
	}
	if c.Padding > 0 {
		size := (c.InH + 2*c.Padding) * paddedW
		c.padded = make([]float32, size)
		c.paddedGrad = make([]float32, size)
	}
}

// unfold fills c.col with the im2col matrix of the n samples in x. Row
// (ch, ki, kj) and column s·OutH·OutW + oh·OutW + ow holds the value of
// sample s, channel ch, under kernel cell (ki, kj) at output position
// (oh, ow), or 0 where that cell falls in the padding.
func (c *Conv2D) unfold(x []float32, n int) {
	if c.gatherIndex == nil {
		c.buildGatherIndex()
	}
	positions := c.OutH * c.OutW
	cols := n * positions
	cells := c.Kernel * c.Kernel
	col := growScratch(&c.col, c.InC*cells*cols)
	planeSize := c.InH * c.InW
	x = x[:n*c.InC*planeSize]
	for s := 0; s < n; s++ {
		for ch := 0; ch < c.InC; ch++ {
			src := x[(s*c.InC+ch)*planeSize : (s*c.InC+ch+1)*planeSize]
			if c.Padding > 0 {
				c.pad(src)
				src = c.padded
			}
			for r := 0; r < cells; r++ {
				start := (ch*cells+r)*cols + s*positions
				dst := col[start : start+positions]
				index := c.gatherIndex[r*positions : (r+1)*positions]
				dst = dst[:len(index)]
				for q, k := range index {
					dst[q] = src[k]
				}
			}
		}
	}
	c.colInput, c.colRows = &x[0], n
}

// fold writes to dx the gradient of the n input samples from c.dCol: each
// input value gets the sum of the dCol entries that unfold copied it to. It
// is the adjoint of unfold.
func (c *Conv2D) fold(dx []float32, n int) {
	if c.gatherIndex == nil {
		c.buildGatherIndex()
	}
	positions := c.OutH * c.OutW
	cols := n * positions
	cells := c.Kernel * c.Kernel
	dCol := c.dCol[:c.InC*cells*cols]
	planeSize := c.InH * c.InW
	dx = dx[:n*c.InC*planeSize]
	for s := 0; s < n; s++ {
		for ch := 0; ch < c.InC; ch++ {
			plane := dx[(s*c.InC+ch)*planeSize : (s*c.InC+ch+1)*planeSize]
			acc := plane
			if c.Padding > 0 {
				acc = c.paddedGrad
			}
			clear(acc)
			for r := 0; r < cells; r++ {
				start := (ch*cells+r)*cols + s*positions
				src := dCol[start : start+positions]
				index := c.gatherIndex[r*positions : (r+1)*positions]
				src = src[:len(index)]
				for q, k := range index {
					acc[k] += src[q]
				}
			}
			if c.Padding > 0 {
				c.unpad(plane)
			}
		}
	}
}

// pad copies one channel plane into the middle of c.padded, whose border
// stays zero.
func (c *Conv2D) pad(plane []float32) {
	paddedW := c.InW + 2*c.Padding
	for h := 0; h < c.InH; h++ {
		start := (h+c.Padding)*paddedW + c.Padding
		copy(c.padded[start:start+c.InW], plane[h*c.InW:(h+1)*c.InW])
	}
}

// unpad copies the middle of c.paddedGrad, the gradient of one padded
// channel plane, to plane. The border, the gradient of the padding, is
// dropped.
func (c *Conv2D) unpad(plane []float32) {
	paddedW := c.InW + 2*c.Padding
	for h := 0; h < c.InH; h++ {
		start := (h+c.Padding)*paddedW + c.Padding
		copy(plane[h*c.InW:(h+1)*c.InW], c.paddedGrad[start:start+c.InW])
	}
}
