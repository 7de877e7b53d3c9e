package config

import (
	"github.com/mosaic-go/mosaic/stage"
)

// The test components stand in for the built-in classes, which live in
// another package. Their constructors are never called by config.
func init() {
	stage.Register(&stage.Component{
		Name: "test_data",
		Kind: stage.KindData,
		Doc:  "reads a test table",
		Params: []stage.Param{
			{Name: "path", Type: stage.String, Required: true, Doc: "file to read"},
			{Name: "rows", Type: stage.Int, Default: 10},
			{Name: "train_prop", Type: stage.Float, Default: 0.8},
			{Name: "shuffle", Type: stage.Bool, Default: false},
		},
		New: func(stage.Params) (any, error) { return nil, nil },
	})
	stage.Register(&stage.Component{
		Name: "test_norm",
		Kind: stage.KindData,
		Params: []stage.Param{
			{Name: "style", Type: stage.String, Default: "standard", Choices: []string{"standard", "minmax"}},
		},
		New: func(stage.Params) (any, error) { return nil, nil },
	})
	stage.Register(&stage.Component{
		Name: "test_mlp",
		Kind: stage.KindModel,
		Params: []stage.Param{
			{Name: "width", Type: stage.Int, Default: 8},
			{Name: "length", Type: stage.Int, Default: 1},
			{Name: "dropout", Type: stage.Float, Default: 0},
			{Name: "activation", Type: stage.String, Default: "relu", Choices: []string{"relu", "tanh"}},
		},
		New: func(stage.Params) (any, error) { return nil, nil },
	})
}
