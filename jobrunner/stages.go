package jobrunner

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"

	"github.com/mosaic-go/mosaic/engine"
	"github.com/mosaic-go/mosaic/pipeline"
	"github.com/mosaic-go/mosaic/result"
	"github.com/mosaic-go/mosaic/stage"
)

// modelStream is the PCG stream of the weight initialisation, so that it
// draws numbers unrelated to other generators seeded with the run seed.
const modelStream = 0x6d6f64656c // "model"

// applyDataStages applies the data stages in pipeline order, the first one
// receiving nil, and returns the last stage's data with the merged info.
func (r *runner) applyDataStages(ctx context.Context) (*stage.Data, stage.Info, error) {
	// The data seed, not the run seed, so runs sharing a data scheme share
	// their split; see DataSeed.
	env := stage.Env{BaseDir: r.spec.Pipeline.BaseDir, Seed: DataSeed(r.spec)}
	info := stage.Info{}
	var data *stage.Data
	for i, st := range r.spec.Pipeline.Data {
		obj, params, err := newStage(st, stage.KindData, r.opts.LocalFiles)
		r.recordParams(i, st, params)
		if err != nil {
			return nil, nil, fmt.Errorf("data stage %s: %w", describe(st), err)
		}
		ds, ok := obj.(stage.DataStage)
		if !ok {
			return nil, nil, fmt.Errorf("data stage %s: class built a %T, which is not a stage.DataStage", describe(st), obj)
		}

		r.log.Info("data stage", "stage", i, "section", st.Section, "class", st.Class, "label", st.Label)
		out, added, err := ds.Apply(ctx, env, data, info.Clone())
		if err != nil {
			return nil, nil, fmt.Errorf("data stage %s: %w", describe(st), err)
		}
		if out == nil {
			return nil, nil, fmt.Errorf("data stage %s returned no data", describe(st))
		}
		data = out
		r.mergeInfo(info, added, i, st)
	}

	if data == nil {
		return nil, nil, fmt.Errorf("pipeline %s has no data stage", r.spec.Pipeline.ID)
	}
	if data.Train == nil || data.Test == nil || data.Train.N == 0 {
		return nil, nil, fmt.Errorf("the last data stage did not produce both a non-empty training set and a test set")
	}
	return data, info, nil
}

// buildModel builds the network from the model stages in pipeline order.
func (r *runner) buildModel(data *stage.Data, info stage.Info) (*engine.Network, error) {
	model := r.spec.Pipeline.Model
	if len(model) == 0 {
		return nil, fmt.Errorf("pipeline %s has no model stage", r.spec.Pipeline.ID)
	}
	train := data.Train
	outSize := train.TargetDim
	if train.Task == stage.Classification {
		outSize = train.Classes
	}

	net := engine.NewNetwork(train.Shape)
	rng := rand.New(rand.NewPCG(r.spec.Seed, modelStream))
	first := len(r.spec.Pipeline.Data)
	for j, st := range model {
		obj, params, err := newStage(st, stage.KindModel, nil)
		r.recordParams(first+j, st, params)
		if err != nil {
			return nil, fmt.Errorf("model stage %s: %w", describe(st), err)
		}
		ms, ok := obj.(stage.ModelStage)
		if !ok {
			return nil, fmt.Errorf("model stage %s: class built a %T, which is not a stage.ModelStage", describe(st), obj)
		}

		r.log.Info("model stage", "stage", first+j, "section", st.Section, "class", st.Class, "label", st.Label)
		added, err := ms.Build(&stage.BuildContext{
			Net:        net,
			Info:       info.Clone(),
			Last:       j == len(model)-1,
			OutputSize: outSize,
			Rand:       rng,
		})
		if err != nil {
			return nil, fmt.Errorf("model stage %s: %w", describe(st), err)
		}
		r.mergeInfo(info, added, first+j, st)
	}

	if got := net.OutSize(); got != outSize {
		return nil, fmt.Errorf("the network has %d outputs, but the %s data needs %d", got, train.Task, outSize)
	}
	r.log.Info("model built", "nb_params", net.NumParams(), "out_shape", fmt.Sprint(net.OutShape()))
	return net, nil
}

// newStage resolves a configured stage through the registry and builds it,
// with string parameters found in local replaced by their local value (see
// Options.LocalFiles). It returns the configured parameters with the class
// defaults filled in, or the configured ones when the class is unknown.
func newStage(st pipeline.Stage, kind stage.Kind, local map[string]string) (any, stage.Params, error) {
	comp, err := stage.Lookup(st.Class)
	if err != nil {
		return nil, st.Params, err
	}
	if comp.Kind != kind {
		return nil, st.Params, fmt.Errorf("class %s is a %s stage, not a %s stage", st.Class, comp.Kind, kind)
	}

	params := make(stage.Params, len(st.Params))
	for k, v := range st.Params {
		params[k] = v
	}
	for _, p := range comp.Params {
		if _, set := params[p.Name]; set {
			continue
		}
		if p.Required {
			return nil, params, fmt.Errorf("parameter %s is required but not set", p.Name)
		}
		if p.Default != nil {
			params[p.Name] = p.Default
		}
	}

	built := params
	if len(local) > 0 {
		built = make(stage.Params, len(params))
		for k, v := range params {
			if text, ok := v.(string); ok {
				if path, found := local[text]; found {
					v = path
				}
			}
			built[k] = v
		}
	}
	obj, err := comp.New(built)
	return obj, params, err
}

// describe names a configured stage in errors, for example "[model] mlp".
func describe(st pipeline.Stage) string {
	if st.Section == "" {
		return st.Class
	}
	return "[" + st.Section + "] " + st.Class
}

// recordParams adds a stage's parameters to the result, sorted by name.
func (r *runner) recordParams(index int, st pipeline.Stage, params stage.Params) {
	for _, name := range sortedKeys(params) {
		r.res.Params = append(r.res.Params, result.Param{
			Stage: index, StageType: st.Type, Class: st.Class, Kind: "param", Name: name, Value: params[name],
		})
	}
}

// mergeInfo merges the info a stage added into info, later keys overriding
// earlier ones, and records every added value in the result and the log.
func (r *runner) mergeInfo(info, added stage.Info, index int, st pipeline.Stage) {
	for _, name := range sortedKeys(added) {
		v := added[name]
		info[name] = v
		r.res.Params = append(r.res.Params, result.Param{
			Stage: index, StageType: st.Type, Class: st.Class, Kind: "info", Name: name, Value: v,
		})
		r.log.Info("info", "stage", index, "name", name, "value", fmt.Sprint(v))
	}
}

// recordProcess adds the training hyperparameters to the result, as stage
// -1 of type "process".
func (r *runner) recordProcess() {
	proc := r.spec.Pipeline.Process
	values := []struct {
		name  string
		value any
	}{
		{"lr", proc.LR},
		{"epochs", proc.Epochs},
		{"loss_function", proc.LossFunction},
		{"seed", proc.Seed},
	}
	for _, v := range values {
		r.res.Params = append(r.res.Params, result.Param{
			Stage: -1, StageType: "process", Kind: "param", Name: v.name, Value: v.value,
		})
	}
	r.log.Info("process", "lr", proc.LR, "epochs", proc.Epochs, "loss_function", proc.LossFunction, "seed", proc.Seed)
}

// sortedKeys returns the keys of m in increasing order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
