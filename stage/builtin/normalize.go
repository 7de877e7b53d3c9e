package builtin

import (
	"context"
	"fmt"
	"math"

	"github.com/mosaic-go/mosaic/stage"
)

// Style is the rescaling a normalize stage applies to each feature.
type Style string

// Rescaling styles. The config also accepts the American spellings
// "normalization" and "standardization".
const (
	// Normalisation maps each feature's training range to [0, 1].
	Normalisation Style = "normalisation"
	// Standardisation gives each feature zero mean and unit variance on the
	// training set.
	Standardisation Style = "standardisation"
)

func init() {
	stage.Register(&stage.Component{
		Name: "normalize",
		Kind: stage.KindData,
		Doc:  "rescales every feature with statistics of the training set; targets are left as they are",
		Params: []stage.Param{
			{Name: "style", Type: stage.String, Default: string(Standardisation),
				Choices: []string{"standardisation", "normalisation", "standardization", "normalization"},
				Doc:     "standardisation (zero mean, unit variance) or normalisation (min-max to [0, 1])"},
		},
		Label: func(p stage.Params) string {
			style, err := parseStyle(p)
			if err == nil && style == Normalisation {
				return "normalize"
			}
			return "standardize"
		},
		LabelParams: []string{"style"},
		New:         func(p stage.Params) (any, error) { return NewNormalize(p) },
	})
}

// Normalize is the `normalize` data stage. It fits one affine transform per
// feature on the training set only and applies it to both sets, so nothing
// about the test set leaks into training. Targets are not changed, for
// regression too. A feature that is constant on the training set is only
// shifted: it becomes 0 on the training set instead of NaN.
type Normalize struct {
	Style Style
}

var _ stage.DataStage = (*Normalize)(nil)

// NewNormalize builds a normalize stage from its parameters; a missing style
// means standardisation.
func NewNormalize(p stage.Params) (*Normalize, error) {
	style, err := parseStyle(p)
	if err != nil {
		return nil, err
	}
	return &Normalize{Style: style}, nil
}

// parseStyle reads the style parameter in either spelling.
func parseStyle(p stage.Params) (Style, error) {
	v, ok := optionalParam(p, "style")
	if !ok {
		return Standardisation, nil
	}
	switch s := stage.ToString(v); s {
	case "standardisation", "standardization":
		return Standardisation, nil
	case "normalisation", "normalization":
		return Normalisation, nil
	default:
		return "", fmt.Errorf("normalize: invalid style %q: expected standardisation or normalisation (American spellings accepted)", s)
	}
}

// Apply returns rescaled copies of both sets. The returned sets share their
// Y slices with the input.
func (n *Normalize) Apply(_ context.Context, _ stage.Env, in *stage.Data, _ stage.Info) (*stage.Data, stage.Info, error) {
	if in == nil || in.Train == nil || in.Test == nil {
		return nil, nil, fmt.Errorf("normalize: no training and test sets to rescale: a data stage such as csv must come first")
	}
	width := in.Train.Features()
	if in.Train.N == 0 {
		return nil, nil, fmt.Errorf("normalize: training set is empty, so there is nothing to fit the %s on", n.Style)
	}
	if got := in.Test.Features(); got != width {
		return nil, nil, fmt.Errorf("normalize: test samples have %d features but training samples have %d", got, width)
	}

	var offset, scale []float64
	switch n.Style {
	case Normalisation:
		offset, scale = fitMinMax(in.Train.X, width)
	case Standardisation:
		offset, scale = fitMeanStd(in.Train.X, width)
	default:
		return nil, nil, fmt.Errorf("normalize: invalid style %q: expected %s or %s", n.Style, Standardisation, Normalisation)
	}

	out := &stage.Data{
		Train:     rescaled(in.Train, offset, scale),
		Test:      rescaled(in.Test, offset, scale),
		BatchSize: in.BatchSize,
	}
	return out, stage.Info{"normalisation": string(n.Style)}, nil
}

// fitMinMax returns per-feature offsets and scales mapping [min, max] of
// the rows of x to [0, 1].
func fitMinMax(x []float32, width int) (offset, scale []float64) {
	lo := make([]float64, width)
	hi := make([]float64, width)
	for j := range width {
		lo[j], hi[j] = math.Inf(1), math.Inf(-1)
	}
	for i := 0; i < len(x); i += width {
		for j, v := range x[i : i+width] {
			lo[j] = math.Min(lo[j], float64(v))
			hi[j] = math.Max(hi[j], float64(v))
		}
	}
	scale = make([]float64, width)
	for j := range width {
		scale[j] = usableScale(hi[j] - lo[j])
	}
	return lo, scale
}

// fitMeanStd returns per-feature means and population standard deviations
// of the rows of x.
func fitMeanStd(x []float32, width int) (mean, std []float64) {
	rows := float64(len(x) / width)
	mean = make([]float64, width)
	for i := 0; i < len(x); i += width {
		for j, v := range x[i : i+width] {
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= rows
	}

	// Two passes over the data: the sum of squared deviations from the mean
	// does not cancel catastrophically as E[x²]-E[x]² can.
	std = make([]float64, width)
	for i := 0; i < len(x); i += width {
		for j, v := range x[i : i+width] {
			d := float64(v) - mean[j]
			std[j] += d * d
		}
	}
	for j := range std {
		std[j] = usableScale(math.Sqrt(std[j] / rows))
	}
	return mean, std
}

// usableScale returns s, or 1 when s cannot divide (a constant feature).
func usableScale(s float64) float64 {
	if s == 0 || math.IsNaN(s) || math.IsInf(s, 0) {
		return 1
	}
	return s
}

// rescaled returns a copy of d with each feature j mapped to
// (x - offset[j]) / scale[j].
func rescaled(d *stage.Dataset, offset, scale []float64) *stage.Dataset {
	out := *d
	out.Shape = append([]int(nil), d.Shape...)
	out.X = make([]float32, len(d.X))
	width := len(offset)
	for i := 0; i < len(d.X); i += width {
		for j, v := range d.X[i : i+width] {
			out.X[i+j] = float32((float64(v) - offset[j]) / scale[j])
		}
	}
	return &out
}
