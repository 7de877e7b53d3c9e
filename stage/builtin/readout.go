package builtin

import (
	"fmt"

	"github.com/mosaic-go/mosaic/engine"
	"github.com/mosaic-go/mosaic/stage"
)

// Readout kinds.
const (
	readoutFlatten       = "flatten"
	readoutGlobalAverage = "global_average"
)

// Readout outputs.
const (
	outputLogits     = "logits"
	outputLogSoftmax = "log_softmax"
)

func init() {
	stage.Register(&stage.Component{
		Name: "readout",
		Kind: stage.KindModel,
		Doc:  "turns feature maps into a vector: flatten keeps every value, global_average keeps one mean per channel",
		Params: []stage.Param{
			{Name: "kind", Type: stage.String, Default: readoutFlatten, Choices: []string{readoutFlatten, readoutGlobalAverage},
				Doc: "flatten (channels × height × width values) or global_average (one value per channel)"},
			{Name: "output", Type: stage.String, Default: outputLogits, Choices: []string{outputLogits, outputLogSoftmax},
				Doc: "as the last model stage: logits (a dense output layer) or log_softmax (then a log-softmax, for NLLLoss)"},
		},
		New: func(p stage.Params) (any, error) { return NewReadout(p) },
	})
}

// Readout is the `readout` model stage, which goes between convolution and
// dense stages, as in `convolution, readout, mlp`. Kind flatten keeps every
// value of the feature maps. Kind global_average keeps one mean per
// channel, so the next layer's size does not depend on the image size. As the
// last model stage it also appends a dense layer of the network's output
// size and, with Output log_softmax, a log-softmax.
type Readout struct {
	// Kind is "flatten" or "global_average".
	Kind string
	// Output is "logits" or "log_softmax"; log_softmax needs the stage to
	// be last.
	Output string
}

var _ stage.ModelStage = (*Readout)(nil)

// NewReadout builds a readout stage from its parameters.
func NewReadout(p stage.Params) (*Readout, error) {
	ro := &Readout{Kind: readoutFlatten, Output: outputLogits}
	r := &paramReader{class: "readout", params: p}
	r.choice("kind", &ro.Kind, []string{readoutFlatten, readoutGlobalAverage})
	r.choice("output", &ro.Output, []string{outputLogits, outputLogSoftmax})
	if r.err != nil {
		return nil, r.err
	}
	return ro, nil
}

// Build appends the readout and, when last, the output layers. It returns
// the info keys readout_size (values per sample after the readout) and
// nb_params_stage.
func (ro *Readout) Build(ctx *stage.BuildContext) (stage.Info, error) {
	if ro.Output == outputLogSoftmax && !ctx.Last {
		return nil, fmt.Errorf("readout: output log_softmax is only valid in the last model stage: set output = logits, or move readout to the end of pipeline_scheme")
	}
	before := ctx.Net.NumParams()
	var layer engine.Layer = engine.Flatten{}
	if ro.Kind == readoutGlobalAverage {
		gap, err := engine.NewGlobalAvgPool(ctx.Net.OutShape())
		if err != nil {
			return nil, fmt.Errorf("readout: %w: global_average needs a convolution stage before it", err)
		}
		layer = gap
	}
	if err := ctx.Net.Add(layer); err != nil {
		return nil, fmt.Errorf("readout: %w", err)
	}
	info := stage.Info{"readout_size": ctx.Net.OutSize()}

	if ctx.Last {
		if ctx.Rand == nil {
			return nil, fmt.Errorf("readout: build: the build context has no random source to initialise weights")
		}
		if err := addOutputLayer(ctx); err != nil {
			return nil, fmt.Errorf("readout: %w", err)
		}
		if ro.Output == outputLogSoftmax {
			if err := ctx.Net.Add(engine.LogSoftmax{}); err != nil {
				return nil, fmt.Errorf("readout: %w", err)
			}
		}
	}
	info["nb_params_stage"] = ctx.Net.NumParams() - before
	return info, nil
}
