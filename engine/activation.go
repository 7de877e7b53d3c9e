package engine

import (
	"fmt"
	"math"
	"strings"
)

// LeakyReLUSlope is the slope of leaky_relu for negative inputs, PyTorch's
// default negative_slope.
const LeakyReLUSlope = 0.01

// activationFuncs maps each activation name to its element-wise function and
// derivative. The derivative receives the input x and the output y = f(x) so
// each activation can use whichever is cheaper.
var activationFuncs = map[string]struct {
	f  func(x float32) float32
	df func(x, y float32) float32
}{
	"relu": {
		f: func(x float32) float32 {
			if x > 0 {
				return x
			}
			return 0
		},
		// PyTorch's relu has gradient 0 at x = 0.
		df: func(x, y float32) float32 {
			if x > 0 {
				return 1
			}
			return 0
		},
	},
	"leaky_relu": {
		f: func(x float32) float32 {
			if x > 0 {
				return x
			}
			return LeakyReLUSlope * x
		},
		df: func(x, y float32) float32 {
			if x > 0 {
				return 1
			}
			return LeakyReLUSlope
		},
	},
	"tanh": {
		f:  func(x float32) float32 { return float32(math.Tanh(float64(x))) },
		df: func(x, y float32) float32 { return 1 - y*y },
	},
	"sigmoid": {
		f:  func(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) },
		df: func(x, y float32) float32 { return y * (1 - y) },
	},
	// gelu is the exact form x·Φ(x), PyTorch's default (approximate='none').
	"gelu": {
		f: func(x float32) float32 {
			v := float64(x)
			return float32(0.5 * v * (1 + math.Erf(v/math.Sqrt2)))
		},
		df: func(x, y float32) float32 {
			v := float64(x)
			cdf := 0.5 * (1 + math.Erf(v/math.Sqrt2))
			pdf := math.Exp(-0.5*v*v) / math.Sqrt(2*math.Pi)
			return float32(cdf + v*pdf)
		},
	},
}

// Activations returns the names NewActivation accepts, sorted.
func Activations() []string {
	return []string{"gelu", "leaky_relu", "relu", "sigmoid", "tanh"}
}

// Activation is an element-wise nonlinearity that keeps the shape of its input.
type Activation struct {
	name string
	f    func(x float32) float32
	df   func(x, y float32) float32
}

var _ Layer = (*Activation)(nil)

// NewActivation returns the activation layer of the given name, one of
// Activations().
func NewActivation(name string) (Layer, error) {
	fn, ok := activationFuncs[name]
	if !ok {
		return nil, fmt.Errorf("unknown activation %q: known activations are %s", name, strings.Join(Activations(), ", "))
	}
	return &Activation{name: name, f: fn.f, df: fn.df}, nil
}

// Name returns the activation's name, for example "relu".
func (a *Activation) Name() string { return a.name }

// String returns the activation's name.
func (a *Activation) String() string { return a.name }

// OutShape returns a copy of in.
func (a *Activation) OutShape(in []int) ([]int, error) {
	return append([]int(nil), in...), nil
}

// Forward applies the function to every value. relu and leaky_relu run
// loops of their own, because calling a.f per value costs more than the
// function itself.
func (a *Activation) Forward(in, out []float32, n int) {
	out = out[:len(in)]
	switch a.name {
	case "relu":
		reluForward(in, out)
	case "leaky_relu":
		for i, x := range in {
			if x > 0 {
				out[i] = x
			} else {
				out[i] = LeakyReLUSlope * x
			}
		}
	default:
		for i, x := range in {
			out[i] = a.f(x)
		}
	}
}

// Backward multiplies dOut by the derivative at each input. relu masks dOut
// instead, so an inactive unit passes back 0 even for a NaN or infinite dOut.
func (a *Activation) Backward(in, out, dOut, dIn []float32, n int) {
	if dIn == nil {
		return
	}
	out = out[:len(in)]
	dOut = dOut[:len(in)]
	dIn = dIn[:len(in)]
	switch a.name {
	case "relu":
		reluBackward(in, dOut, dIn)
	case "leaky_relu":
		for i, x := range in {
			if x > 0 {
				dIn[i] = dOut[i]
			} else {
				dIn[i] = LeakyReLUSlope * dOut[i]
			}
		}
	default:
		for i, x := range in {
			dIn[i] = dOut[i] * a.df(x, out[i])
		}
	}
}

// reluForwardGeneric is the relu of activationFuncs over a slice.
func reluForwardGeneric(in, out []float32) {
	out = out[:len(in)]
	for i, x := range in {
		if x > 0 {
			out[i] = x
		} else {
			out[i] = 0
		}
	}
}

// reluBackwardGeneric sets dIn[i] = dOut[i] where in[i] > 0 and 0
// elsewhere: the relu derivative is 0 at 0, as in PyTorch, and a NaN or
// infinite dOut does not leak through an inactive unit.
func reluBackwardGeneric(in, dOut, dIn []float32) {
	dOut, dIn = dOut[:len(in)], dIn[:len(in)]
	for i, x := range in {
		if x > 0 {
			dIn[i] = dOut[i]
		} else {
			dIn[i] = 0
		}
	}
}

// Params returns nil: activations have no parameters.
func (a *Activation) Params() []*Param { return nil }
