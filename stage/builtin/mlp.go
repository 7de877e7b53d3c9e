package builtin

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/mosaic-go/mosaic/engine"
	"github.com/mosaic-go/mosaic/stage"
)

func init() {
	stage.Register(mlpComponent("mlp_brick", false,
		"multilayer perceptron whose hidden layers all have `width` units"))
	stage.Register(mlpComponent("mlp_funnel", true,
		"multilayer perceptron whose hidden widths shrink linearly from `width` towards the output size"))
}

func mlpComponent(name string, funnel bool, doc string) *stage.Component {
	widthDoc := "units of every hidden layer, at least 1"
	if funnel {
		widthDoc = "units of the first hidden layer, at least 1"
	}
	return &stage.Component{
		Name: name,
		Kind: stage.KindModel,
		Doc:  doc,
		Params: []stage.Param{
			{Name: "width", Type: stage.Int, Required: true, Doc: widthDoc},
			{Name: "length", Type: stage.Int, Required: true, Doc: "number of hidden layers, at least 1"},
			{Name: "activation", Type: stage.String, Default: "relu", Choices: engine.Activations(),
				Doc: "activation after every hidden layer"},
			{Name: "dropout", Type: stage.Float, Default: 0.0,
				Doc: "probability of dropping each hidden unit during training, in [0, 1); 0 adds no dropout layer"},
		},
		New: func(p stage.Params) (any, error) { return NewMLP(name, funnel, p) },
	}
}

// MLP is the model stage of `mlp_brick` and `mlp_funnel`: Length hidden
// layers, each a dense layer followed by the activation. As the last model
// stage it ends with a dense layer of the network's output size and no
// activation, because the losses take raw outputs (logits).
type MLP struct {
	// Class is "mlp_brick" or "mlp_funnel", the prefix of error messages.
	Class string
	// Funnel selects the funnel widths described at HiddenWidths.
	Funnel bool
	// Width is the number of units of the first hidden layer, at least 1.
	Width int
	// Length is the number of hidden layers, at least 1.
	Length int
	// Activation is one of engine.Activations().
	Activation string
	// Dropout is the probability, in [0, 1), with which a dropout layer
	// after each hidden activation drops a unit during training; 0 adds no
	// dropout layers.
	Dropout float64
}

var _ stage.ModelStage = (*MLP)(nil)

// NewMLP builds the stage of the given class from its parameters. Funnel
// selects mlp_funnel's widths.
func NewMLP(class string, funnel bool, p stage.Params) (*MLP, error) {
	m := &MLP{Class: class, Funnel: funnel, Activation: "relu"}
	for _, param := range []struct {
		name string
		dst  *int
	}{{"width", &m.Width}, {"length", &m.Length}} {
		v, err := p.Int(param.name)
		if err != nil {
			return nil, fmt.Errorf("%s: parameter %s: %w: set it to an integer of at least 1", class, param.name, err)
		}
		if v < 1 {
			return nil, fmt.Errorf("%s: invalid %s %d: expected an integer of at least 1", class, param.name, v)
		}
		*param.dst = v
	}
	if v, ok := optionalParam(p, "activation"); ok {
		m.Activation = stage.ToString(v)
	}
	if !slices.Contains(engine.Activations(), m.Activation) {
		return nil, fmt.Errorf("%s: invalid activation %q: expected one of %s", class, m.Activation, strings.Join(engine.Activations(), ", "))
	}
	r := &paramReader{class: class, params: p}
	r.float("dropout", &m.Dropout, func(f float64) bool { return f >= 0 && f < 1 }, "a probability in [0, 1)")
	if r.err != nil {
		return nil, r.err
	}
	return m, nil
}

// HiddenWidths returns the width of each hidden layer for a network of
// outputSize outputs. mlp_brick gives Width to every layer. mlp_funnel gives
// layer i (0-based) the width
//
//	w_i = max(Width - ⌊(Width - outputSize)·i / Length⌋, outputSize, 1)
//
// so the widths fall in equal steps from Width towards outputSize, which the
// final dense layer would reach at i = Length, and no width is below the
// output size or 1. For example width 64, length 3 and 3 outputs give
// [64 44 24]. When Width is below outputSize every width is outputSize.
func (m *MLP) HiddenWidths(outputSize int) []int {
	widths := make([]int, m.Length)
	for i := range widths {
		widths[i] = m.Width
		if m.Funnel {
			widths[i] = max(m.Width-(m.Width-outputSize)*i/m.Length, outputSize, 1)
		}
	}
	return widths
}

// Build appends the hidden layers and, when ctx.Last, the output layer. It
// returns the info keys hidden_widths ([]int) and nb_params_stage (the
// number of trainable scalars this stage added).
func (m *MLP) Build(ctx *stage.BuildContext) (stage.Info, error) {
	if ctx.Rand == nil {
		return nil, fmt.Errorf("%s: build: the build context has no random source to initialise weights", m.Class)
	}
	if ctx.Last && ctx.OutputSize < 1 {
		return nil, fmt.Errorf("%s: build: invalid network output size %d: expected at least 1", m.Class, ctx.OutputSize)
	}
	before := ctx.Net.NumParams()
	widths := m.HiddenWidths(ctx.OutputSize)

	for i, width := range widths {
		if err := ctx.Net.Add(engine.NewDense(ctx.Net.OutSize(), width, ctx.Rand)); err != nil {
			return nil, fmt.Errorf("%s: hidden layer %d: %w", m.Class, i+1, err)
		}
		act, err := engine.NewActivation(m.Activation)
		if err != nil {
			return nil, fmt.Errorf("%s: hidden layer %d: %w", m.Class, i+1, err)
		}
		if err := ctx.Net.Add(act); err != nil {
			return nil, fmt.Errorf("%s: hidden layer %d: %w", m.Class, i+1, err)
		}
		if m.Dropout > 0 {
			if err := m.addDropout(ctx.Net, ctx.Rand); err != nil {
				return nil, fmt.Errorf("%s: hidden layer %d: %w", m.Class, i+1, err)
			}
		}
	}
	if ctx.Last {
		if err := ctx.Net.Add(engine.NewDense(ctx.Net.OutSize(), ctx.OutputSize, ctx.Rand)); err != nil {
			return nil, fmt.Errorf("%s: output layer: %w", m.Class, err)
		}
	}

	return stage.Info{
		"hidden_widths":   widths,
		"nb_params_stage": ctx.Net.NumParams() - before,
	}, nil
}

// addDropout appends a dropout layer of probability m.Dropout.
func (m *MLP) addDropout(net *engine.Network, rng *rand.Rand) error {
	d, err := engine.NewDropout(m.Dropout, rng)
	if err != nil {
		return err
	}
	return net.Add(d)
}
