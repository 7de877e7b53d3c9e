package builtin

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/mosaic-go/mosaic/stage"
)

func init() {
	stage.Register(&stage.Component{
		Name: "onehot",
		Kind: stage.KindData,
		Doc:  "replaces categorical feature columns by one 0/1 column per category; targets are left as they are",
		Params: []stage.Param{
			{Name: "columns", Type: stage.String,
				Doc: `0-based feature columns to encode, quoted and comma-separated ("0, 3"); default every integer-valued column`},
			{Name: "max_categories", Type: stage.Int, Default: 10,
				Doc: "most categories a column may have, at least 2; in automatic selection, columns with more are left as they are"},
		},
		New: func(p stage.Params) (any, error) { return NewOneHot(p) },
	})
}

// OneHot is the `onehot` data stage. It learns the categories of each
// selected feature column from the training set (its distinct values,
// sorted) and replaces the column by one column per category, 1 where the
// sample has that value and 0 elsewhere. A test value the training set
// lacks encodes as all zeros. Other columns keep their place and value.
//
// Targets need no stage: the training loop already turns class indices
// into one-hot vectors for losses that take float targets (MSELoss,
// L1Loss, SmoothL1Loss, HuberLoss, BCEWithLogitsLoss).
type OneHot struct {
	// Columns are the 0-based feature columns to encode; nil selects every
	// column whose training values are integers with at most MaxCategories
	// distinct values.
	Columns []int
	// MaxCategories is the largest number of categories of a column.
	MaxCategories int
}

var _ stage.DataStage = (*OneHot)(nil)

// NewOneHot builds a onehot stage from its parameters.
func NewOneHot(p stage.Params) (*OneHot, error) {
	o := &OneHot{MaxCategories: 10}
	r := &paramReader{class: "onehot", params: p}
	r.int("max_categories", &o.MaxCategories, 2)
	if r.err != nil {
		return nil, r.err
	}
	if v, ok := optionalParam(p, "columns"); ok {
		for _, field := range strings.FieldsFunc(stage.ToString(v), func(r rune) bool { return r == ',' || r == ' ' }) {
			col, err := strconv.Atoi(field)
			if err != nil || col < 0 {
				return nil, fmt.Errorf("onehot: invalid column %q in columns %q: expected 0-based column indices separated by commas", field, stage.ToString(v))
			}
			o.Columns = append(o.Columns, col)
		}
	}
	return o, nil
}

// Apply returns both sets with the selected columns encoded.
func (o *OneHot) Apply(_ context.Context, _ stage.Env, in *stage.Data, _ stage.Info) (*stage.Data, stage.Info, error) {
	if in == nil || in.Train == nil || in.Test == nil || in.Train.N == 0 {
		return nil, nil, fmt.Errorf("onehot: no training set to learn categories from: a data stage such as csv must come first")
	}
	if len(in.Train.Shape) != 1 {
		return nil, nil, fmt.Errorf("onehot: samples of shape %v are not table rows: put onehot before stages that reshape them", in.Train.Shape)
	}
	width := in.Train.Shape[0]
	categories, err := o.fit(in.Train.X, width)
	if err != nil {
		return nil, nil, err
	}

	var encoded []int
	outWidth := 0
	for col, cats := range categories {
		if cats != nil {
			encoded = append(encoded, col)
		}
		outWidth += max(len(cats), 1)
	}
	out := &stage.Data{
		Train:     encodeSet(in.Train, categories, outWidth),
		Test:      encodeSet(in.Test, categories, outWidth),
		BatchSize: in.BatchSize,
	}
	info := stage.Info{"onehot_columns": encoded, "nb_features": outWidth, "input_shape": []int{outWidth}}
	return out, info, nil
}

// fit returns, per column, the sorted categories to encode it with, or nil
// for a column left as it is.
func (o *OneHot) fit(x []float32, width int) ([][]float32, error) {
	categories := make([][]float32, width)
	distinct := func(col int) []float32 {
		var values []float32
		for i := col; i < len(x); i += width {
			if !slices.Contains(values, x[i]) {
				values = append(values, x[i])
				if len(values) > o.MaxCategories {
					return values
				}
			}
		}
		slices.Sort(values)
		return values
	}

	if o.Columns == nil {
		for col := range width {
			values := distinct(col)
			integral := true
			for _, v := range values {
				integral = integral && float64(v) == math.Trunc(float64(v))
			}
			if integral && len(values) <= o.MaxCategories {
				categories[col] = values
			}
		}
		return categories, nil
	}

	for _, col := range o.Columns {
		if col >= width {
			return nil, fmt.Errorf("onehot: column %d is out of range: samples have %d features", col, width)
		}
		values := distinct(col)
		if len(values) > o.MaxCategories {
			return nil, fmt.Errorf("onehot: column %d has more than max_categories = %d distinct training values: raise max_categories or leave the column out", col, o.MaxCategories)
		}
		categories[col] = values
	}
	return categories, nil
}

// encodeSet returns a copy of d with the columns that have categories
// replaced by their one-hot columns.
func encodeSet(d *stage.Dataset, categories [][]float32, outWidth int) *stage.Dataset {
	out := *d
	out.Shape = []int{outWidth}
	out.X = make([]float32, 0, d.N*outWidth)
	width := len(categories)
	for i := 0; i < d.N; i++ {
		for col, v := range d.X[i*width : (i+1)*width] {
			cats := categories[col]
			if cats == nil {
				out.X = append(out.X, v)
				continue
			}
			for _, c := range cats {
				out.X = append(out.X, boolClass(v == c))
			}
		}
	}
	return &out
}
