package builtin

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/mosaic-go/mosaic/stage"
)

// The generators of the synthetic data stages, one class each.
var generators = map[string]struct {
	doc    string
	params []stage.Param
	noise  float64
}{
	"logic": {
		doc: "boolean truth table: inputs of 0 and 1 (plus noise) labelled by a gate over all of them",
		params: []stage.Param{
			{Name: "gate", Type: stage.String, Default: "XOR", Choices: []string{"OR", "AND", "XOR"},
				Doc: "OR (any input is 1), AND (all are 1) or XOR (an odd number are 1)"},
			{Name: "nb_inputs", Type: stage.Int, Default: 2, Doc: "number of boolean inputs, from 1 to 30"},
		},
	},
	"function": {
		doc: "regression of a 1-D or 2-D function of inputs drawn uniformly from [-1, 1]",
		params: []stage.Param{
			{Name: "function", Type: stage.String, Default: "sin", Choices: functionNames(),
				Doc: "the target function: sin, cube and abs take one input, gaussian, saddle and ripple two"},
		},
		noise: 0.1,
	},
	"blobs": {
		doc: "isotropic Gaussian clusters, one class per cluster, centres drawn uniformly from [-10, 10]",
		params: []stage.Param{
			{Name: "nb_classes", Type: stage.Int, Default: 3, Doc: "number of clusters and classes, at least 2"},
			{Name: "nb_features", Type: stage.Int, Default: 2, Doc: "dimension of the samples, at least 1"},
		},
		noise: 1,
	},
	"moons": {
		doc:   "two interleaving half circles, as scikit-learn's make_moons",
		noise: 0.1,
	},
	"spirals": {
		doc: "interleaved spiral arms in the plane, one class per arm",
		params: []stage.Param{
			{Name: "nb_classes", Type: stage.Int, Default: 2, Doc: "number of arms and classes, at least 2"},
			{Name: "turns", Type: stage.Float, Default: 1.0, Doc: "turns of each arm around the centre, greater than 0"},
		},
		noise: 0.05,
	},
}

func init() {
	for name, g := range generators {
		params := []stage.Param{
			{Name: "data_size", Type: stage.Int, Default: 1000, Doc: "number of samples drawn, split into the training and test sets"},
			{Name: "train_prop", Type: stage.Float, Default: 0.8, Doc: "fraction of the samples in the training set, in (0, 1)"},
			{Name: "batch_size", Type: stage.Int, Default: 32, Doc: "minibatch size for training, at least 1"},
			{Name: "seed", Type: stage.Int, Doc: "seed of the samples and the split; default derived from the data seed, shared by the pipelines of one data scheme and replica"},
			{Name: "noise", Type: stage.Float, Default: g.noise, Doc: "standard deviation of the Gaussian noise, at least 0"},
		}
		stage.Register(&stage.Component{
			Name:   name,
			Kind:   stage.KindData,
			Doc:    g.doc,
			Params: append(params, g.params...),
			New:    func(p stage.Params) (any, error) { return NewSynthetic(name, p) },
		})
	}
}

// Synthetic is the data stage of the generators logic, function, blobs,
// moons and spirals. It draws DataSize samples and splits them like the csv
// stage: a classification split keeps each class's proportion. Samples and
// split are reproducible from the seed.
type Synthetic struct {
	// Class is the generator: logic, function, blobs, moons or spirals.
	Class string
	// DataSize is the number of samples, at least 2.
	DataSize int
	// TrainProp is the fraction of samples in the training set, in (0, 1).
	TrainProp float64
	// BatchSize is the minibatch size training will use.
	BatchSize int
	// Seed seeds samples and split; nil derives it from Env.Seed.
	Seed *uint64
	// Noise is the standard deviation of Gaussian noise: added to the
	// inputs of logic, blobs (the cluster spread), moons and spirals, and
	// to the target of function.
	Noise float64
	// Gate and Inputs configure logic.
	Gate   string
	Inputs int
	// Function names the function of the function generator.
	Function string
	// Classes is the class count of blobs and spirals; Features the
	// dimension of blobs; Turns the turns of each spiral arm.
	Classes, Features int
	Turns             float64
}

var _ stage.DataStage = (*Synthetic)(nil)

// NewSynthetic builds the generator stage of the given class from its
// parameters; unset parameters keep the registered defaults.
func NewSynthetic(class string, p stage.Params) (*Synthetic, error) {
	g, ok := generators[class]
	if !ok {
		return nil, fmt.Errorf("unknown synthetic data class %q", class)
	}
	s := &Synthetic{Class: class, DataSize: 1000, TrainProp: 0.8, BatchSize: 32, Noise: g.noise,
		Gate: "XOR", Inputs: 2, Function: "sin", Classes: 3, Features: 2, Turns: 1}
	if class == "spirals" {
		s.Classes = 2
	}
	r := &paramReader{class: class, params: p}
	r.int("data_size", &s.DataSize, 2)
	r.float("train_prop", &s.TrainProp, isFraction, "a fraction strictly between 0 and 1")
	r.int("batch_size", &s.BatchSize, 1)
	r.seed(&s.Seed)
	r.float("noise", &s.Noise, isNonNegative, "a standard deviation of at least 0")
	r.choice("gate", &s.Gate, []string{"OR", "AND", "XOR"})
	r.int("nb_inputs", &s.Inputs, 1)
	r.choice("function", &s.Function, functionNames())
	r.int("nb_classes", &s.Classes, 2)
	r.int("nb_features", &s.Features, 1)
	r.float("turns", &s.Turns, func(f float64) bool { return f > 0 && !math.IsInf(f, 0) }, "a number of turns greater than 0")
	if r.err != nil {
		return nil, r.err
	}
	if s.Inputs > 30 {
		return nil, fmt.Errorf("logic: invalid nb_inputs %d: expected at most 30", s.Inputs)
	}
	return s, nil
}

// sample is a generated set before the split.
type sample struct {
	x        []float32
	y        []float32
	features int
	task     stage.Task
	classes  int
}

// generate draws the samples of the stage's class.
func (s *Synthetic) generate(rng *rand.Rand) *sample {
	switch s.Class {
	case "logic":
		return s.logic(rng)
	case "function":
		return s.function(rng)
	case "blobs":
		return s.blobs(rng)
	case "moons":
		return s.moons(rng)
	default:
		return s.spirals(rng)
	}
}

// Apply draws the samples and returns the two sets. It must be the first
// data stage.
func (s *Synthetic) Apply(ctx context.Context, env stage.Env, in *stage.Data, _ stage.Info) (*stage.Data, stage.Info, error) {
	if in != nil {
		return nil, nil, fmt.Errorf("%s: a generator must be the first data stage, but it received data from an earlier stage", s.Class)
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	seed := deriveSeed(env.Seed, s.Class)
	if s.Seed != nil {
		seed = *s.Seed
	}
	rng := newRand(seed)
	g := s.generate(rng)

	lab := &labels{y: g.y, task: g.task, classes: g.classes}
	trainIdx, testIdx := splitRows(lab, s.DataSize, s.TrainProp, rng)
	if len(trainIdx) == 0 || len(testIdx) == 0 {
		return nil, nil, fmt.Errorf("%s: %d samples are too few to split with train_prop %v into two non-empty sets", s.Class, s.DataSize, s.TrainProp)
	}
	build := func(idx []int) *stage.Dataset {
		return &stage.Dataset{
			X: gather(g.x, g.features, idx), Y: gather(g.y, 1, idx), N: len(idx),
			Shape: []int{g.features}, Task: g.task, Classes: g.classes, TargetDim: 1,
		}
	}
	data := &stage.Data{Train: build(trainIdx), Test: build(testIdx), BatchSize: s.BatchSize}

	info := stage.Info{
		"input_shape": []int{g.features},
		"nb_features": g.features,
		"task":        string(g.task),
		"target_dim":  1,
		"train_size":  len(trainIdx),
		"test_size":   len(testIdx),
		"data_size":   s.DataSize,
		"dataset":     s.datasetName(),
	}
	if g.task == stage.Classification {
		info["nb_classes"] = g.classes
	}
	return data, info, nil
}

// datasetName returns a short name such as "logic_XOR_2" or "function_sin".
func (s *Synthetic) datasetName() string {
	switch s.Class {
	case "logic":
		return fmt.Sprintf("logic_%s_%d", s.Gate, s.Inputs)
	case "function":
		return "function_" + s.Function
	}
	return s.Class
}

// logic draws the rows of the truth table of Inputs inputs in equal numbers:
// ⌊DataSize / 2^Inputs⌋ copies of each row, and the remaining samples from
// rows drawn at random. The class proportions are therefore those
// of the truth table, for example 3/4 of class 1 for a 2-input OR.
func (s *Synthetic) logic(rng *rand.Rand) *sample {
	rows := uint64(1) << s.Inputs
	g := &sample{features: s.Inputs, task: stage.Classification, classes: 2}
	full := uint64(s.DataSize) / rows * rows
	for i := 0; i < s.DataSize; i++ {
		row := uint64(i) % rows
		if uint64(i) >= full {
			row = rng.Uint64N(rows)
		}
		ones := 0
		for bit := 0; bit < s.Inputs; bit++ {
			v := float64((row >> bit) & 1)
			ones += int(v)
			g.x = append(g.x, float32(v+s.Noise*rng.NormFloat64()))
		}
		var label bool
		switch s.Gate {
		case "OR":
			label = ones > 0
		case "AND":
			label = ones == s.Inputs
		default:
			label = ones%2 == 1
		}
		g.y = append(g.y, boolClass(label))
	}
	return g
}

func boolClass(b bool) float32 {
	if b {
		return 1
	}
	return 0
}

// classOf returns the class of sample i when n samples are dealt to k
// classes in turn, which gives each class ⌊n/k⌋ or ⌈n/k⌉ samples.
func classOf(i, k int) int { return i % k }

// blobs draws one centre per class uniformly from [-10, 10]^Features, then
// the samples of each class around it with standard deviation Noise.
func (s *Synthetic) blobs(rng *rand.Rand) *sample {
	centres := make([]float64, s.Classes*s.Features)
	for i := range centres {
		centres[i] = 20*rng.Float64() - 10
	}
	g := &sample{features: s.Features, task: stage.Classification, classes: s.Classes}
	for i := 0; i < s.DataSize; i++ {
		class := classOf(i, s.Classes)
		for j := 0; j < s.Features; j++ {
			g.x = append(g.x, float32(centres[class*s.Features+j]+s.Noise*rng.NormFloat64()))
		}
		g.y = append(g.y, float32(class))
	}
	return g
}

// moons draws make_moons' two half circles: class 0 on (cos t, sin t) and
// class 1 on (1 - cos t, 0.5 - sin t), for t uniform in [0, π]. Gaussian
// noise of standard deviation Noise then moves each point.
func (s *Synthetic) moons(rng *rand.Rand) *sample {
	g := &sample{features: 2, task: stage.Classification, classes: 2}
	for i := 0; i < s.DataSize; i++ {
		class := classOf(i, 2)
		t := math.Pi * rng.Float64()
		x, y := math.Cos(t), math.Sin(t)
		if class == 1 {
			x, y = 1-x, 0.5-y
		}
		g.x = append(g.x, float32(x+s.Noise*rng.NormFloat64()), float32(y+s.Noise*rng.NormFloat64()))
		g.y = append(g.y, float32(class))
	}
	return g
}

// spirals draws, for arm k of Classes, points at radius r uniform in
// [0.05, 1] and angle 2π·(k/Classes + Turns·r), each moved by Gaussian
// noise of standard deviation Noise.
func (s *Synthetic) spirals(rng *rand.Rand) *sample {
	g := &sample{features: 2, task: stage.Classification, classes: s.Classes}
	for i := 0; i < s.DataSize; i++ {
		class := classOf(i, s.Classes)
		r := 0.05 + 0.95*rng.Float64()
		angle := 2 * math.Pi * (float64(class)/float64(s.Classes) + s.Turns*r)
		g.x = append(g.x,
			float32(r*math.Cos(angle)+s.Noise*rng.NormFloat64()),
			float32(r*math.Sin(angle)+s.Noise*rng.NormFloat64()))
		g.y = append(g.y, float32(class))
	}
	return g
}
