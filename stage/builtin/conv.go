package builtin

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/mosaic-go/mosaic/engine"
	"github.com/mosaic-go/mosaic/stage"
)

func init() {
	stage.Register(&stage.Component{
		Name: "convolution",
		Kind: stage.KindModel,
		Doc:  "convolution layers, each followed by the activation and optionally a 2×2 max pool",
		Params: []stage.Param{
			{Name: "nb_convolution", Type: stage.Int,
				Doc: "number of convolution layers; 0 adds none, a baseline without convolutions; default the length of channels"},
			{Name: "channels", Type: stage.String, Default: "8",
				Doc: `output channels: one count for every layer, or one per layer quoted and comma-separated ("8, 16")`},
			{Name: "kernel", Type: stage.Int, Default: 3, Doc: "side of the square kernel, at least 1"},
			{Name: "stride", Type: stage.Int, Default: 1, Doc: "step between two kernel positions, at least 1"},
			{Name: "padding", Type: stage.Int, Doc: "zero rows and columns added on each side; default kernel/2, which keeps the size for odd kernels and stride 1"},
			{Name: "pooling", Type: stage.Bool, Default: true, Doc: "True adds a 2×2 max pool after every convolution layer"},
			{Name: "activation", Type: stage.String, Default: "relu", Choices: engine.Activations(),
				Doc: "activation after every convolution layer"},
		},
		New: func(p stage.Params) (any, error) { return NewConvolution(p) },
	})
}

// Convolution is the `convolution` model stage: for each entry of Channels,
// a 2-D convolution, the activation and, with Pooling, a 2×2 max pool. It
// needs samples of shape channels × height × width, such as the image stage
// makes. As the last model stage it ends with a flatten and a dense layer of
// the network's output size. With no channels (nb_convolution = 0) it adds
// no convolution layers, so one pipeline scheme can compare CNNs with a
// dense baseline.
type Convolution struct {
	// Channels is the output channel count of each layer, one per layer;
	// empty adds no convolution layers.
	Channels []int
	// Kernel, Stride and Padding are those of every layer.
	Kernel, Stride, Padding int
	// Pooling adds a 2×2 max pool after each layer.
	Pooling bool
	// Activation is one of engine.Activations().
	Activation string
}

var _ stage.ModelStage = (*Convolution)(nil)

// NewConvolution builds a convolution stage from its parameters.
func NewConvolution(p stage.Params) (*Convolution, error) {
	c := &Convolution{Kernel: 3, Stride: 1, Pooling: true, Activation: "relu", Padding: -1}
	r := &paramReader{class: "convolution", params: p}
	r.int("kernel", &c.Kernel, 1)
	r.int("stride", &c.Stride, 1)
	r.int("padding", &c.Padding, 0)
	r.bool("pooling", &c.Pooling)
	r.choice("activation", &c.Activation, engine.Activations())
	layers := -1
	r.int("nb_convolution", &layers, 0)
	if r.err != nil {
		return nil, r.err
	}
	if c.Padding < 0 {
		c.Padding = c.Kernel / 2
	}

	text := "8"
	if v, ok := optionalParam(p, "channels"); ok {
		text = stage.ToString(v)
	}
	for _, field := range strings.Split(text, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("convolution: invalid channels %q: expected a channel count of at least 1, or a quoted comma-separated list of them", text)
		}
		c.Channels = append(c.Channels, n)
	}
	switch {
	case layers < 0:
	case layers == 0:
		c.Channels = nil
	case len(c.Channels) == 1:
		c.Channels = slices.Repeat(c.Channels, layers)
	case len(c.Channels) != layers:
		return nil, fmt.Errorf("convolution: nb_convolution %d does not match the %d channel counts of channels %q: set one of them only",
			layers, len(c.Channels), text)
	}
	return c, nil
}

// Build appends the layers. It returns the info keys conv_channels,
// conv_out_shape (the shape after the last convolution layer and pool) and
// nb_params_stage.
func (c *Convolution) Build(ctx *stage.BuildContext) (stage.Info, error) {
	if ctx.Rand == nil {
		return nil, fmt.Errorf("convolution: build: the build context has no random source to initialise weights")
	}
	if shape := ctx.Net.OutShape(); len(shape) != 3 {
		return nil, fmt.Errorf("convolution: samples of shape %v are not images of channels × height × width: add an image data stage, or put convolution before stages that flatten", shape)
	}
	before := ctx.Net.NumParams()

	for i, channels := range c.Channels {
		conv, err := engine.NewConv2D(ctx.Net.OutShape(), channels, c.Kernel, c.Stride, c.Padding, ctx.Rand)
		if err != nil {
			return nil, fmt.Errorf("convolution: layer %d: %w", i+1, err)
		}
		act, err := engine.NewActivation(c.Activation)
		if err != nil {
			return nil, fmt.Errorf("convolution: layer %d: %w", i+1, err)
		}
		layers := []engine.Layer{conv, act}
		if c.Pooling {
			pool, err := engine.NewMaxPool2D([]int{conv.OutC, conv.OutH, conv.OutW}, 2)
			if err != nil {
				return nil, fmt.Errorf("convolution: layer %d: %w: use fewer layers, a smaller stride or pooling = False", i+1, err)
			}
			layers = append(layers, pool)
		}
		for _, l := range layers {
			if err := ctx.Net.Add(l); err != nil {
				return nil, fmt.Errorf("convolution: layer %d: %w", i+1, err)
			}
		}
	}
	info := stage.Info{"conv_channels": c.Channels, "conv_out_shape": ctx.Net.OutShape()}

	if ctx.Last {
		if err := addOutputLayer(ctx, engine.Flatten{}); err != nil {
			return nil, fmt.Errorf("convolution: %w", err)
		}
	}
	info["nb_params_stage"] = ctx.Net.NumParams() - before
	return info, nil
}

// addOutputLayer appends the given readout layers and a dense layer of the
// network's output size.
func addOutputLayer(ctx *stage.BuildContext, readout ...engine.Layer) error {
	if ctx.OutputSize < 1 {
		return fmt.Errorf("output layer: invalid network output size %d: expected at least 1", ctx.OutputSize)
	}
	for _, l := range readout {
		if err := ctx.Net.Add(l); err != nil {
			return fmt.Errorf("output layer: %w", err)
		}
	}
	if err := ctx.Net.Add(engine.NewDense(ctx.Net.OutSize(), ctx.OutputSize, ctx.Rand)); err != nil {
		return fmt.Errorf("output layer: %w", err)
	}
	return nil
}
