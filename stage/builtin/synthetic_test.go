package builtin

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/mosaic-go/mosaic/stage"
)

// applyClass builds a data stage from the registry with the defaults filled
// in, as the job runner does, and applies it to in.
func applyClass(t *testing.T, class string, params stage.Params, in *stage.Data, seed uint64) (*stage.Data, stage.Info) {
	t.Helper()
	c, err := stage.Lookup(class)
	if err != nil {
		t.Fatal(err)
	}
	full := stage.Params{}
	for _, p := range c.Params {
		if p.Default != nil {
			full[p.Name] = p.Default
		}
	}
	for k, v := range params {
		full[k] = v
	}
	s, err := c.New(full)
	if err != nil {
		t.Fatal(err)
	}
	data, info, err := s.(stage.DataStage).Apply(context.Background(), stage.Env{Seed: seed}, in, stage.Info{})
	if err != nil {
		t.Fatal(err)
	}
	return data, info
}

// classCountsBoth returns the number of samples of each class in both sets.
func classCountsBoth(d *stage.Data) []int {
	counts := make([]int, d.Train.Classes)
	for _, set := range []*stage.Dataset{d.Train, d.Test} {
		for _, y := range set.Y {
			counts[int(y)]++
		}
	}
	return counts
}

func TestGenerators(t *testing.T) {
	cases := []struct {
		class    string
		params   stage.Params
		features int
		task     stage.Task
		// counts is the expected number of samples per class.
		counts []int
	}{
		{"logic", stage.Params{"gate": "XOR", "nb_inputs": 2, "data_size": 400}, 2, stage.Classification, []int{200, 200}},
		{"logic", stage.Params{"gate": "OR", "nb_inputs": 2, "data_size": 400}, 2, stage.Classification, []int{100, 300}},
		{"logic", stage.Params{"gate": "AND", "nb_inputs": 3, "data_size": 800}, 3, stage.Classification, []int{700, 100}},
		{"logic", stage.Params{"gate": "XOR", "nb_inputs": 5, "data_size": 320, "noise": 0.1}, 5, stage.Classification, []int{160, 160}},
		{"function", stage.Params{"function": "sin", "data_size": 300}, 1, stage.Regression, nil},
		{"function", stage.Params{"function": "ripple", "data_size": 300}, 2, stage.Regression, nil},
		{"blobs", stage.Params{"nb_classes": 4, "nb_features": 3, "data_size": 402}, 3, stage.Classification, []int{101, 101, 100, 100}},
		{"moons", stage.Params{"data_size": 301}, 2, stage.Classification, []int{151, 150}},
		{"spirals", stage.Params{"nb_classes": 3, "data_size": 300, "turns": 1.5}, 2, stage.Classification, []int{100, 100, 100}},
	}
	for _, c := range cases {
		t.Run(c.class, func(t *testing.T) {
			data, info := applyClass(t, c.class, c.params, nil, 7)
			size, _ := stage.ToInt(c.params["data_size"])
			if got := data.Train.N + data.Test.N; got != size {
				t.Errorf("%d samples in all, want %d", got, size)
			}
			if want := int(math.Round(0.8 * float64(size))); data.Train.N < want-len(c.counts) || data.Train.N > want+len(c.counts) {
				t.Errorf("%d training samples, want about %d (train_prop 0.8)", data.Train.N, want)
			}
			for _, set := range []*stage.Dataset{data.Train, data.Test} {
				if !slices.Equal(set.Shape, []int{c.features}) || len(set.X) != set.N*c.features || len(set.Y) != set.N {
					t.Errorf("set of %d samples has shape %v, %d values and %d targets, want shape [%d]", set.N, set.Shape, len(set.X), len(set.Y), c.features)
				}
				if set.Task != c.task {
					t.Errorf("task %s, want %s", set.Task, c.task)
				}
			}
			if c.counts != nil && !slices.Equal(classCountsBoth(data), c.counts) {
				t.Errorf("class counts %v, want %v", classCountsBoth(data), c.counts)
			}
			if got := info["data_size"]; got != size {
				t.Errorf("info data_size = %v, want %d", got, size)
			}

			again, _ := applyClass(t, c.class, c.params, nil, 7)
			if !slices.Equal(again.Train.X, data.Train.X) || !slices.Equal(again.Test.Y, data.Test.Y) {
				t.Error("the same run seed drew different samples")
			}
			other, _ := applyClass(t, c.class, c.params, nil, 8)
			if slices.Equal(other.Train.X, data.Train.X) {
				t.Error("another run seed drew the same samples")
			}
			withSeed := stage.Params{"seed": 3}
			for k, v := range c.params {
				withSeed[k] = v
			}
			a, _ := applyClass(t, c.class, withSeed, nil, 7)
			b, _ := applyClass(t, c.class, withSeed, nil, 99)
			if !slices.Equal(a.Train.X, b.Train.X) {
				t.Error("the seed parameter does not override the run seed")
			}
		})
	}
}

// TestLogicLabels checks every noiseless sample against its gate.
func TestLogicLabels(t *testing.T) {
	for _, gate := range []string{"OR", "AND", "XOR"} {
		data, _ := applyClass(t, "logic", stage.Params{"gate": gate, "nb_inputs": 3, "data_size": 64, "noise": 0.0}, nil, 1)
		set := data.Train
		for i := 0; i < set.N; i++ {
			ones := 0
			for _, v := range set.X[i*3 : (i+1)*3] {
				if v != 0 && v != 1 {
					t.Fatalf("%s: noiseless input %v is not 0 or 1", gate, v)
				}
				ones += int(v)
			}
			want := map[string]bool{"OR": ones > 0, "AND": ones == 3, "XOR": ones%2 == 1}[gate]
			if got := set.Y[i] == 1; got != want {
				t.Errorf("%s of %v: class %v, want %v", gate, set.X[i*3:(i+1)*3], set.Y[i], want)
			}
		}
	}
}

func TestFunctionTargets(t *testing.T) {
	data, _ := applyClass(t, "function", stage.Params{"function": "saddle", "noise": 0.0, "data_size": 50}, nil, 1)
	set := data.Train
	for i := 0; i < set.N; i++ {
		x, y := float64(set.X[2*i]), float64(set.X[2*i+1])
		if x < -1 || x > 1 || y < -1 || y > 1 {
			t.Fatalf("input (%g, %g) is outside [-1, 1]²", x, y)
		}
		if want := x*x - y*y; math.Abs(float64(set.Y[i])-want) > 1e-6 {
			t.Errorf("saddle(%g, %g) = %g, want %g", x, y, set.Y[i], want)
		}
	}
}

func TestGeneratorInvalidParams(t *testing.T) {
	cases := []struct {
		class  string
		params stage.Params
		want   string
	}{
		{"logic", stage.Params{"gate": "NAND"}, `invalid gate "NAND"`},
		{"logic", stage.Params{"nb_inputs": 0}, "nb_inputs 0"},
		{"moons", stage.Params{"noise": -1.0}, "invalid noise -1"},
		{"blobs", stage.Params{"train_prop": 1.0}, "train_prop 1"},
		{"spirals", stage.Params{"nb_classes": 1}, "nb_classes 1"},
		{"function", stage.Params{"data_size": 1}, "data_size 1"},
	}
	for _, c := range cases {
		comp, err := stage.Lookup(c.class)
		if err != nil {
			t.Fatal(err)
		}
		_, err = comp.New(c.params)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), c.class+": ") {
			t.Errorf("%s %v: error %v, want one starting with %q and containing %q", c.class, c.params, err, c.class, c.want)
		}
	}
}
