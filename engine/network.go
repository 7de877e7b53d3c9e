// Package engine is MOSAIC's training engine: float32 tensors, layers,
// losses and the Adam optimiser, in pure Go over gonum's BLAS. It knows no
// files, configs or databases.
package engine

// Layer is one differentiable step of a network.
// TODO(engine): the engine helper defines the real contract.
type Layer interface {
	// OutShape returns the shape of one output sample given one input sample's shape.
	OutShape(in []int) ([]int, error)
}

// Network is a sequence of layers applied to samples of a fixed shape.
type Network struct {
	inShape []int
	layers  []Layer
}

// NewNetwork starts an empty network whose samples have the given shape.
func NewNetwork(inShape []int) *Network {
	return &Network{inShape: append([]int(nil), inShape...)}
}
