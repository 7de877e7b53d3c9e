package pipeline

import (
	"github.com/mosaic-go/mosaic/stage"
)

// The test components stand in for the built-in classes, which live in
// another package. Expand never calls their constructors.
func init() {
	stage.Register(&stage.Component{
		Name: "test_data",
		Kind: stage.KindData,
		Params: []stage.Param{
			{Name: "name", Type: stage.String, Required: true},
			{Name: "rows", Type: stage.Int, Default: 10},
			{Name: "shuffle", Type: stage.Bool, Default: false},
		},
		Label: func(p stage.Params) string {
			name, _ := p.String("name")
			rows, _ := p.Int("rows")
			return "data(" + name + "/" + stage.ToString(rows) + ")"
		},
		LabelParams: []string{"name", "rows"},
		New:         func(stage.Params) (any, error) { return nil, nil },
	})
	stage.Register(&stage.Component{
		Name:   "test_norm",
		Kind:   stage.KindData,
		Params: []stage.Param{{Name: "style", Type: stage.String, Default: "standard"}},
		New:    func(stage.Params) (any, error) { return nil, nil },
	})
	stage.Register(&stage.Component{
		Name: "test_mlp",
		Kind: stage.KindModel,
		Params: []stage.Param{
			{Name: "width", Type: stage.Int, Default: 8},
			{Name: "length", Type: stage.Int, Default: 1},
			{Name: "dropout", Type: stage.Float, Default: 0},
			{Name: "activation", Type: stage.String, Default: "relu"},
			{Name: "init", Type: stage.String},
		},
		New: func(stage.Params) (any, error) { return nil, nil },
	})
}
