package builtin

import (
	"context"
	"fmt"
	"math"

	"github.com/mosaic-go/mosaic/stage"
)

func init() {
	stage.Register(&stage.Component{
		Name: "image",
		Kind: stage.KindData,
		Doc:  "reads each table row as an image of channels × height × width pixels, for convolution stages",
		Params: []stage.Param{
			{Name: "channels", Type: stage.Int, Default: 1, Doc: "number of channels, at least 1"},
			{Name: "height", Type: stage.Int, Doc: "image height in pixels; default: the side of a square image"},
			{Name: "width", Type: stage.Int, Doc: "image width in pixels; default: the features per channel divided by the height"},
			{Name: "pixel_max", Type: stage.Float, Default: 0.0,
				Doc: "largest pixel value, by which every pixel is divided to lie in [0, 1]; 0 leaves the values as they are"},
		},
		New: func(p stage.Params) (any, error) { return NewImage(p) },
	})
}

// Image is the `image` data stage. It reshapes the samples of a table, row
// after row as the csv stage reads them, into images of Channels ×
// Height × Width values (channel-major, then row-major, as PyTorch stores
// them), and optionally divides every value by PixelMax. For the 8×8 digits
// table, whose columns are pixel_ROW_COL, the defaults give 1×8×8 images.
type Image struct {
	// Channels is the number of channels, at least 1.
	Channels int
	// Height and Width are the image size; 0 infers them as described at
	// Size.
	Height, Width int
	// PixelMax divides every value when greater than 0.
	PixelMax float64
}

var _ stage.DataStage = (*Image)(nil)

// NewImage builds an image stage from its parameters.
func NewImage(p stage.Params) (*Image, error) {
	m := &Image{Channels: 1}
	r := &paramReader{class: "image", params: p}
	r.int("channels", &m.Channels, 1)
	r.int("height", &m.Height, 1)
	r.int("width", &m.Width, 1)
	r.float("pixel_max", &m.PixelMax, isNonNegative, "a number of at least 0")
	if r.err != nil {
		return nil, r.err
	}
	return m, nil
}

// Size returns the height and width of images of the given number of
// values. An unset height makes the image square, or uses the set width; an
// unset width is the values per channel divided by the height. It returns
// an error when the sizes do not multiply to the number of values.
func (m *Image) Size(values int) (height, width int, err error) {
	if values%m.Channels != 0 {
		return 0, 0, fmt.Errorf("image: %d values per sample do not divide into %d channels", values, m.Channels)
	}
	plane := values / m.Channels
	height, width = m.Height, m.Width
	switch {
	case height == 0 && width == 0:
		side := int(math.Round(math.Sqrt(float64(plane))))
		height, width = side, side
	case height == 0:
		height = plane / width
	case width == 0:
		width = plane / height
	}
	if m.Channels*height*width != values {
		return 0, 0, fmt.Errorf("image: samples have %d values, which is not channels × height × width = %d × %d × %d: set height and width to match",
			values, m.Channels, height, width)
	}
	return height, width, nil
}

// Apply returns both sets with the image shape and, with PixelMax set,
// rescaled values. Targets are shared with the input.
func (m *Image) Apply(_ context.Context, _ stage.Env, in *stage.Data, _ stage.Info) (*stage.Data, stage.Info, error) {
	if in == nil || in.Train == nil || in.Test == nil {
		return nil, nil, fmt.Errorf("image: no samples to reshape: a data stage such as csv must come first")
	}
	features := in.Train.Features()
	if got := in.Test.Features(); got != features {
		return nil, nil, fmt.Errorf("image: test samples have %d values but training samples have %d", got, features)
	}
	height, width, err := m.Size(features)
	if err != nil {
		return nil, nil, err
	}
	shape := []int{m.Channels, height, width}
	reshape := func(d *stage.Dataset) *stage.Dataset {
		out := *d
		out.Shape = append([]int(nil), shape...)
		if m.PixelMax > 0 {
			out.X = make([]float32, len(d.X))
			for i, v := range d.X {
				out.X[i] = float32(float64(v) / m.PixelMax)
			}
		}
		return &out
	}
	out := &stage.Data{Train: reshape(in.Train), Test: reshape(in.Test), BatchSize: in.BatchSize}
	info := stage.Info{
		"input_shape":    shape,
		"image_channels": m.Channels,
		"image_height":   height,
		"image_width":    width,
	}
	return out, info, nil
}
