package builtin

import (
	"context"
	"fmt"

	"github.com/mosaic-go/mosaic/stage"
)

func init() {
	stage.Register(&stage.Component{
		Name: "augment",
		Kind: stage.KindData,
		Doc:  "adds jittered copies of training samples to the training set; the test set is left as it is",
		Params: []stage.Param{
			{Name: "data_size", Type: stage.Int, Required: true, Doc: "number of jittered copies added, at least 1"},
			{Name: "noise", Type: stage.Float, Default: 0.1, Doc: "standard deviation of the Gaussian noise added to each feature, at least 0"},
			{Name: "seed", Type: stage.Int, Doc: "seed of the copies; default derived from the data seed (see docs/run-manager.md)"},
		},
		New: func(p stage.Params) (any, error) { return NewAugment(p) },
	})
}

// Augment is the `augment` data stage. It appends DataSize samples to the
// training set, each a copy of a training sample drawn uniformly with
// replacement, with Gaussian noise of standard deviation Noise added to
// every feature and the target kept. The test set is returned unchanged,
// so the evaluation still measures unseen data.
type Augment struct {
	// DataSize is the number of copies added, at least 1.
	DataSize int
	// Noise is the standard deviation of the jitter, at least 0.
	Noise float64
	// Seed seeds the draws; nil derives it from Env.Seed.
	Seed *uint64
}

var _ stage.DataStage = (*Augment)(nil)

// NewAugment builds an augment stage from its parameters.
func NewAugment(p stage.Params) (*Augment, error) {
	a := &Augment{Noise: 0.1}
	if _, ok := optionalParam(p, "data_size"); !ok {
		return nil, fmt.Errorf("augment: parameter data_size is required: set it to the number of copies to add")
	}
	r := &paramReader{class: "augment", params: p}
	r.int("data_size", &a.DataSize, 1)
	r.float("noise", &a.Noise, isNonNegative, "a standard deviation of at least 0")
	r.seed(&a.Seed)
	if r.err != nil {
		return nil, r.err
	}
	return a, nil
}

// Apply returns the enlarged training set and the test set it received.
func (a *Augment) Apply(_ context.Context, env stage.Env, in *stage.Data, _ stage.Info) (*stage.Data, stage.Info, error) {
	if in == nil || in.Train == nil || in.Test == nil || in.Train.N == 0 {
		return nil, nil, fmt.Errorf("augment: no training set to copy from: a data stage such as csv must come first")
	}
	seed := deriveSeed(env.Seed, "augment")
	if a.Seed != nil {
		seed = *a.Seed
	}
	rng := newRand(seed)

	train := *in.Train
	features := train.Features()
	targetWidth := len(train.Y) / train.N
	train.Shape = append([]int(nil), in.Train.Shape...)
	train.X = append(make([]float32, 0, (train.N+a.DataSize)*features), in.Train.X...)
	train.Y = append(make([]float32, 0, (train.N+a.DataSize)*targetWidth), in.Train.Y...)
	for range a.DataSize {
		src := rng.IntN(in.Train.N)
		for _, v := range in.Train.X[src*features : (src+1)*features] {
			train.X = append(train.X, v+float32(a.Noise*rng.NormFloat64()))
		}
		train.Y = append(train.Y, in.Train.Y[src*targetWidth:(src+1)*targetWidth]...)
	}
	train.N += a.DataSize

	out := &stage.Data{Train: &train, Test: in.Test, BatchSize: in.BatchSize}
	return out, stage.Info{"augmented_size": a.DataSize, "train_size": train.N}, nil
}
