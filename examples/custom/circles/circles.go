// Package circles is a worked example of a stage MOSAIC does not ship: the
// `circles` data stage, two concentric noisy circles as scikit-learn's
// make_circles draws them. Importing the package registers the class, so a
// `mosaic` built with a blank import of it accepts `class = circles`.
package circles

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/mosaic-go/mosaic/stage"
)

// init registers the class when a program imports the package, the way
// database/sql drivers register. Register panics on a duplicate name, so a
// clash with a built-in class shows at start-up.
func init() {
	stage.Register(&stage.Component{
		Name: "circles",
		Kind: stage.KindData,
		Doc:  "two concentric circles in the plane, class 0 outside and class 1 inside",
		Params: []stage.Param{
			{Name: "data_size", Type: stage.Int, Default: 500, Doc: "number of samples, at least 4"},
			{Name: "factor", Type: stage.Float, Default: 0.5, Doc: "radius of the inner circle relative to the outer one, in (0, 1)"},
			{Name: "noise", Type: stage.Float, Default: 0.05, Doc: "standard deviation of the Gaussian noise added to each coordinate"},
			{Name: "train_prop", Type: stage.Float, Default: 0.8, Doc: "fraction of the samples in the training set, in (0, 1)"},
			{Name: "batch_size", Type: stage.Int, Default: 32, Doc: "minibatch size for training, at least 1"},
		},
		New: func(p stage.Params) (any, error) { return New(p) },
	})
}

// Circles is the data stage. The registry fills in the defaults of the
// parameters a config leaves out before it calls New.
type Circles struct {
	DataSize  int
	Factor    float64
	Noise     float64
	TrainProp float64
	BatchSize int
}

var _ stage.DataStage = (*Circles)(nil)

// New builds the stage from its parameters and checks their ranges.
func New(p stage.Params) (*Circles, error) {
	c := &Circles{}
	var err error
	if c.DataSize, err = p.Int("data_size"); err != nil || c.DataSize < 4 {
		return nil, fmt.Errorf("circles: invalid data_size %v: expected an integer of at least 4", p["data_size"])
	}
	if c.Factor, err = p.Float("factor"); err != nil || !(c.Factor > 0 && c.Factor < 1) {
		return nil, fmt.Errorf("circles: invalid factor %v: expected a number strictly between 0 and 1", p["factor"])
	}
	if c.Noise, err = p.Float("noise"); err != nil || !(c.Noise >= 0) {
		return nil, fmt.Errorf("circles: invalid noise %v: expected a standard deviation of at least 0", p["noise"])
	}
	if c.TrainProp, err = p.Float("train_prop"); err != nil || !(c.TrainProp > 0 && c.TrainProp < 1) {
		return nil, fmt.Errorf("circles: invalid train_prop %v: expected a fraction strictly between 0 and 1", p["train_prop"])
	}
	if c.BatchSize, err = p.Int("batch_size"); err != nil || c.BatchSize < 1 {
		return nil, fmt.Errorf("circles: invalid batch_size %v: expected an integer of at least 1", p["batch_size"])
	}
	return c, nil
}

// Apply draws the training and test sets from the run seed, so every
// replica of a pipeline gets its own sample and a rerun gets the same one.
// As the first data stage it receives no data.
func (c *Circles) Apply(ctx context.Context, env stage.Env, in *stage.Data, _ stage.Info) (*stage.Data, stage.Info, error) {
	if in != nil {
		return nil, nil, fmt.Errorf("circles: it must be the first data stage, but it received data from an earlier stage")
	}
	rng := rand.New(rand.NewPCG(env.Seed, 0x636972636c6573)) // the stream "circles"
	train := int(math.Round(c.TrainProp * float64(c.DataSize)))
	train = min(max(train, 2), c.DataSize-2)

	data := &stage.Data{
		Train:     c.draw(rng, train),
		Test:      c.draw(rng, c.DataSize-train),
		BatchSize: c.BatchSize,
	}
	info := stage.Info{"input_shape": []int{2}, "nb_classes": 2, "train_size": train, "test_size": c.DataSize - train}
	return data, info, nil
}

// draw returns n samples, alternating between the outer circle (class 0)
// and the inner one (class 1), each at a uniform angle.
func (c *Circles) draw(rng *rand.Rand, n int) *stage.Dataset {
	d := &stage.Dataset{N: n, Shape: []int{2}, Task: stage.Classification, Classes: 2, TargetDim: 1}
	for i := 0; i < n; i++ {
		class, radius := i%2, 1.0
		if class == 1 {
			radius = c.Factor
		}
		angle := 2 * math.Pi * rng.Float64()
		d.X = append(d.X,
			float32(radius*math.Cos(angle)+c.Noise*rng.NormFloat64()),
			float32(radius*math.Sin(angle)+c.Noise*rng.NormFloat64()))
		d.Y = append(d.Y, float32(class))
	}
	return d
}
