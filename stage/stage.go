// Package stage defines the components a pipeline is made of: data stages,
// which prepare the train and test sets, and model stages, which build
// consecutive parts of one network. Components register by class name, like
// database/sql drivers, and a config's `class` resolves through Lookup.
package stage

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/mosaic-go/mosaic/engine"
)

// Kind is the role of a component: preparing data or building part of a model.
type Kind string

// The two kinds of component.
const (
	KindData  Kind = "data"
	KindModel Kind = "model"
)

// Task is the learning task a dataset poses.
type Task string

// Tasks a dataset can pose.
const (
	Classification Task = "classification"
	Regression     Task = "regression"
)

// Info is the dictionary stages pass forward: input shape, class count and
// anything else a later stage or the analysis may need. Values are JSON
// scalars (int, float64, string, bool) or slices of int; every value is
// stored with the run and can be queried.
type Info map[string]any

// Clone returns a shallow copy of the info so a stage can add to it without
// changing what earlier stages saw.
func (i Info) Clone() Info {
	out := make(Info, len(i))
	for k, v := range i {
		out[k] = v
	}
	return out
}

// Dataset is a set of samples held in memory, row-major.
type Dataset struct {
	// X holds N rows of Features() values each.
	X []float32
	// Y holds N rows of TargetDim values for regression, or N class indices
	// (0 ≤ y < Classes, stored as float32) for classification.
	Y []float32
	// N is the number of samples.
	N int
	// Shape is the shape of one sample, for example [4] for a table row or
	// [1 8 8] for a one-channel 8×8 image (channels × height × width).
	Shape []int
	// Task is classification or regression.
	Task Task
	// Classes is the number of classes; 0 for regression.
	Classes int
	// TargetDim is the number of target values per sample: 1 for
	// classification (the class index), ≥ 1 for regression.
	TargetDim int
}

// Features returns the number of values in one sample.
func (d *Dataset) Features() int {
	n := 1
	for _, s := range d.Shape {
		n *= s
	}
	return n
}

// Data is the output of a data stage: the train and test sets, and the
// minibatch size training will use.
type Data struct {
	Train     *Dataset
	Test      *Dataset
	BatchSize int
}

// Env is the context of the run that executes a stage.
type Env struct {
	// BaseDir is the folder relative paths in parameters resolve against:
	// the folder of the config file.
	BaseDir string
	// Seed is the run's data seed (jobrunner.DataSeed), shared by the runs
	// of one replica whose data stages are equal. Stages without a `seed`
	// parameter derive their randomness from it.
	Seed uint64
}

// DataStage transforms the previous stage's output. The first data stage of a
// scheme receives nil and must produce both sets. A stage returns the info it
// adds; the caller merges it into the accumulated info.
type DataStage interface {
	Apply(ctx context.Context, env Env, in *Data, info Info) (*Data, Info, error)
}

// BuildContext is the input of a model stage: the network so far and what
// the stage needs to extend it.
type BuildContext struct {
	// Net is the network built so far; Net.OutShape() is the shape the next
	// layer receives.
	Net *engine.Network
	// Info is the accumulated info of the data stages and earlier model stages.
	Info Info
	// Last reports whether this stage is the last model stage, which must
	// end with OutputSize outputs.
	Last bool
	// OutputSize is the number of outputs the whole network must produce:
	// the class count for classification, the target dimension otherwise.
	OutputSize int
	// Rand initialises weights; it is seeded from the run seed.
	Rand *rand.Rand
}

// ModelStage appends layers to the network under construction and returns
// the info it adds.
type ModelStage interface {
	Build(ctx *BuildContext) (Info, error)
}

// ParamType is the type a class parameter's values must have.
type ParamType string

// Parameter types. Int values accept integral floats; Float values accept
// ints; String values accept any scalar and use its text.
const (
	Int    ParamType = "int"
	Float  ParamType = "float"
	Bool   ParamType = "bool"
	String ParamType = "string"
)

// Param describes one parameter a class takes.
type Param struct {
	Name string
	Type ParamType
	// Default is used when the section does not set the parameter; nil with
	// Required false means the component picks a value at run time.
	Default any
	// Required parameters have no default.
	Required bool
	// Choices, when set, are the only values a String parameter may take.
	Choices []string
	// Doc is one line of help shown by `mosaic classes`.
	Doc string
}

// Component is a registered class.
type Component struct {
	// Name is the class name used in configs, for example "mlp_funnel".
	Name string
	Kind Kind
	// Doc is one line of help.
	Doc    string
	Params []Param
	// Label, when set, returns the short label of a stage with these
	// parameters, such as "csv(iris)". Without it, the pipeline package
	// builds "class(v1,v2)" from the parameters that vary in the config.
	Label func(p Params) string
	// LabelParams names the parameters Label already shows, such as "path"
	// for csv(iris). The pipeline package appends the values of the other
	// parameters that vary in a config, so labels still tell pipelines
	// apart: csv(iris,16) when batch_size is swept.
	LabelParams []string
	// New builds the stage: a DataStage for KindData, a ModelStage for
	// KindModel. Parameters have been checked against Params and defaults
	// filled in before New is called.
	New func(p Params) (any, error)
}

// Param returns the description of the named parameter.
func (c *Component) Param(name string) (Param, bool) {
	for _, p := range c.Params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// ErrUnknownClass is returned by Lookup for a class that is not registered.
var ErrUnknownClass = fmt.Errorf("unknown class")
