package builtin

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mosaic-go/mosaic/stage"
)

// examplesDir is the folder of the example tables, relative to this package.
const examplesDir = "../../examples/data"

// writeCSV writes content to name in a fresh temporary folder and returns
// the folder.
func writeCSV(t *testing.T, name, content string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// applyCSV builds a csv stage from params and applies it in env.
func applyCSV(t *testing.T, env stage.Env, params stage.Params) (*stage.Data, stage.Info, error) {
	t.Helper()
	c, err := NewCSV(params)
	if err != nil {
		t.Fatalf("NewCSV(%v): %v", params, err)
	}
	return c.Apply(context.Background(), env, nil, nil)
}

// classCounts returns the number of samples of each class in d.
func classCounts(d *stage.Dataset) []int {
	counts := make([]int, d.Classes)
	for _, y := range d.Y {
		counts[int(y)]++
	}
	return counts
}

func TestCSVIrisShapesAndStratification(t *testing.T) {
	data, info, err := applyCSV(t, stage.Env{BaseDir: examplesDir, Seed: 7}, stage.Params{"path": "iris.csv"})
	if err != nil {
		t.Fatal(err)
	}
	train, test := data.Train, data.Test
	if train.N != 120 || test.N != 30 {
		t.Fatalf("train/test sizes = %d/%d, want 120/30", train.N, test.N)
	}
	if len(train.X) != 120*4 || len(test.X) != 30*4 || len(train.Y) != 120 || len(test.Y) != 30 {
		t.Fatalf("slice lengths X %d/%d Y %d/%d do not match the sizes", len(train.X), len(test.X), len(train.Y), len(test.Y))
	}
	if !slices.Equal(train.Shape, []int{4}) || train.Task != stage.Classification || train.Classes != 3 || train.TargetDim != 1 {
		t.Fatalf("train set = shape %v task %s classes %d target dim %d", train.Shape, train.Task, train.Classes, train.TargetDim)
	}
	if data.BatchSize != 32 {
		t.Errorf("batch size = %d, want the default 32", data.BatchSize)
	}
	// Iris has 50 rows per class, so a stratified 0.8 split is exactly 40/10.
	if got := classCounts(train); !slices.Equal(got, []int{40, 40, 40}) {
		t.Errorf("train class counts = %v, want [40 40 40]", got)
	}
	if got := classCounts(test); !slices.Equal(got, []int{10, 10, 10}) {
		t.Errorf("test class counts = %v, want [10 10 10]", got)
	}

	want := stage.Info{
		"nb_features": 4, "task": "classification", "nb_classes": 3, "target_dim": 1,
		"train_size": 120, "test_size": 30, "data_size": 150, "dataset": "iris", "target_column": "class",
	}
	for k, v := range want {
		if info[k] != v {
			t.Errorf("info[%q] = %v, want %v", k, info[k], v)
		}
	}
	if shape, _ := info["input_shape"].([]int); !slices.Equal(shape, []int{4}) {
		t.Errorf("info[input_shape] = %v, want [4]", info["input_shape"])
	}
	if _, ok := info["class_names"]; ok {
		t.Errorf("info has class_names %v for numeric labels", info["class_names"])
	}
}

func TestCSVRowsKeepTheirValues(t *testing.T) {
	// Each row's features encode its label, so a row split apart from its
	// label would show.
	dir := writeCSV(t, "pairs.csv", "a,b,y\n0,0.5,0\n1,1.5,1\n0,0.5,0\n1,1.5,1\n0,0.5,0\n1,1.5,1\n")
	data, _, err := applyCSV(t, stage.Env{BaseDir: dir}, stage.Params{"path": "pairs.csv", "train_prop": 0.5})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []*stage.Dataset{data.Train, data.Test} {
		for i := range d.N {
			if d.X[2*i] != d.Y[i] || d.X[2*i+1] != d.Y[i]+0.5 {
				t.Errorf("row %d = %v with label %v", i, d.X[2*i:2*i+2], d.Y[i])
			}
		}
	}
}

func TestCSVDiabetesInfersRegression(t *testing.T) {
	data, info, err := applyCSV(t, stage.Env{BaseDir: examplesDir}, stage.Params{"path": "diabetes.csv", "batch_size": 16})
	if err != nil {
		t.Fatal(err)
	}
	if data.Train.Task != stage.Regression || data.Train.Classes != 0 {
		t.Fatalf("task = %s with %d classes, want regression", data.Train.Task, data.Train.Classes)
	}
	// round(0.8 × 442) = 354.
	if data.Train.N != 354 || data.Test.N != 88 {
		t.Errorf("train/test sizes = %d/%d, want 354/88", data.Train.N, data.Test.N)
	}
	if !slices.Equal(data.Test.Shape, []int{10}) || data.BatchSize != 16 {
		t.Errorf("test shape %v batch size %d, want [10] and 16", data.Test.Shape, data.BatchSize)
	}
	if _, ok := info["nb_classes"]; ok {
		t.Errorf("regression info has nb_classes %v", info["nb_classes"])
	}
	if info["task"] != "regression" || info["dataset"] != "diabetes" {
		t.Errorf("info task %v dataset %v", info["task"], info["dataset"])
	}
	// The first file row (age 59, target 151) must be in one of the sets.
	found := false
	for _, d := range []*stage.Dataset{data.Train, data.Test} {
		for i := range d.N {
			if d.X[i*10] == 59 && d.X[i*10+2] == 32.1 && d.Y[i] == 151 {
				found = true
			}
		}
	}
	if !found {
		t.Error("first row of diabetes.csv (age 59, bmi 32.1, target 151) is in neither set")
	}
}

func TestCSVSeedDeterminism(t *testing.T) {
	env := stage.Env{BaseDir: examplesDir, Seed: 11}
	first, _, err := applyCSV(t, env, stage.Params{"path": "iris.csv"})
	if err != nil {
		t.Fatal(err)
	}
	again, _, _ := applyCSV(t, env, stage.Params{"path": "iris.csv"})
	if !slices.Equal(first.Train.X, again.Train.X) || !slices.Equal(first.Test.Y, again.Test.Y) {
		t.Error("two splits with the same run seed differ")
	}
	other, _, _ := applyCSV(t, stage.Env{BaseDir: examplesDir, Seed: 12}, stage.Params{"path": "iris.csv"})
	if slices.Equal(first.Train.X, other.Train.X) {
		t.Error("splits with run seeds 11 and 12 are identical")
	}

	// An explicit seed wins over the run seed.
	a, _, _ := applyCSV(t, stage.Env{BaseDir: examplesDir, Seed: 1}, stage.Params{"path": "iris.csv", "seed": 5})
	b, _, _ := applyCSV(t, stage.Env{BaseDir: examplesDir, Seed: 2}, stage.Params{"path": "iris.csv", "seed": 5.0})
	if !slices.Equal(a.Train.X, b.Train.X) || !slices.Equal(a.Test.X, b.Test.X) {
		t.Error("splits with seed 5 differ between run seeds 1 and 2")
	}
}

func TestCSVTextLabels(t *testing.T) {
	dir := writeCSV(t, "t.csv", "x,kind\n1,dog\n2,cat\n3,dog\n4,cat\n5,emu\n6,emu\n")
	data, info, err := applyCSV(t, stage.Env{BaseDir: dir}, stage.Params{"path": "t.csv", "train_prop": 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if data.Train.Classes != 3 || data.Train.Task != stage.Classification {
		t.Fatalf("classes %d task %s, want 3 classification", data.Train.Classes, data.Train.Task)
	}
	if info["class_names"] != `["cat","dog","emu"]` {
		t.Errorf("class_names = %v", info["class_names"])
	}
	// Sorted names give cat=0 (x 2, 4), dog=1 (x 1, 3), emu=2 (x 5, 6).
	wantClass := map[float32]float32{1: 1, 2: 0, 3: 1, 4: 0, 5: 2, 6: 2}
	for _, d := range []*stage.Dataset{data.Train, data.Test} {
		for i := range d.N {
			if d.Y[i] != wantClass[d.X[i]] {
				t.Errorf("x=%v has class %v, want %v", d.X[i], d.Y[i], wantClass[d.X[i]])
			}
		}
		if got := classCounts(d); !slices.Equal(got, []int{1, 1, 1}) {
			t.Errorf("class counts = %v, want one of each", got)
		}
	}
}

func TestCSVTargetSelection(t *testing.T) {
	dir := writeCSV(t, "m.csv", "label,a,b\n0,1,2\n1,3,4\n0,5,6\n1,7,8\n")
	for _, target := range []any{"label", 0, "0", -3.0} {
		data, info, err := applyCSV(t, stage.Env{BaseDir: dir}, stage.Params{"path": "m.csv", "target": target, "train_prop": 0.5})
		if err != nil {
			t.Fatalf("target %v: %v", target, err)
		}
		if info["target_column"] != "label" || data.Train.Features() != 2 || data.Train.Classes != 2 {
			t.Errorf("target %v: column %v, %d features, %d classes", target, info["target_column"], data.Train.Features(), data.Train.Classes)
		}
		// Features a, b are (1,2), (3,4)... so b = a + 1 in every row.
		for i := range data.Train.N {
			if data.Train.X[2*i+1] != data.Train.X[2*i]+1 {
				t.Errorf("target %v: row %v mixes up columns", target, data.Train.X[2*i:2*i+2])
			}
		}
	}

	// Column b as a regression target, selected by a negative index.
	data, _, err := applyCSV(t, stage.Env{BaseDir: dir}, stage.Params{"path": "m.csv", "target": -1, "task": "regression"})
	if err != nil {
		t.Fatal(err)
	}
	if data.Train.Task != stage.Regression || data.Train.Features() != 2 {
		t.Errorf("task %s with %d features, want regression with 2", data.Train.Task, data.Train.Features())
	}
}

func TestCSVTaskInference(t *testing.T) {
	cases := []struct {
		name, content string
		want          stage.Task
	}{
		{"labels 0..2", "x,y\n1,0\n2,1\n3,2\n4,0\n5,1\n6,2\n", stage.Classification},
		{"labels 1..3", "x,y\n1,1\n2,2\n3,3\n4,1\n5,2\n6,3\n", stage.Regression},
		{"fractions", "x,y\n1,0.5\n2,1\n3,0\n4,1\n", stage.Regression},
		{"negative", "x,y\n1,-1\n2,0\n3,1\n4,0\n", stage.Regression},
	}
	for _, tc := range cases {
		dir := writeCSV(t, "d.csv", tc.content)
		data, _, err := applyCSV(t, stage.Env{BaseDir: dir}, stage.Params{"path": "d.csv", "train_prop": 0.5})
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if data.Train.Task != tc.want {
			t.Errorf("%s: task = %s, want %s", tc.name, data.Train.Task, tc.want)
		}
	}
}

func TestCSVErrors(t *testing.T) {
	cases := []struct {
		name, content string
		params        stage.Params
		// want lists fragments the error must contain.
		want []string
	}{
		{"missing file", "", stage.Params{"path": "absent.csv"}, []string{"absent.csv", "no such file"}},
		{"empty file", "", nil, []string{"d.csv", "empty"}},
		{"header only", "a,b\n", nil, []string{"d.csv", "no data rows"}},
		{"one column", "a\n1\n", nil, []string{"d.csv:1", "only one column"}},
		{"ragged row", "a,b,y\n1,2,0\n3,0\n", nil, []string{"d.csv:3", "2 fields", "header has 3"}},
		{"text feature", "a,b,y\n1,2,0\n3,x,1\n", nil, []string{"d.csv:3", "column 2", `"b"`, `"x" is not a finite number`}},
		{"empty feature", "a,b,y\n1,2,0\n3,,1\n", nil, []string{"d.csv:3", "column 2", `"" is not a finite number`}},
		{"nan feature", "a,b,y\n1,NaN,0\n3,4,1\n", nil, []string{"d.csv:2", "column 2"}},
		{"unknown target", "a,b,y\n1,2,0\n", stage.Params{"target": "z"}, []string{"d.csv", `"z" not found`, "a, b, y"}},
		{"target index", "a,b,y\n1,2,0\n", stage.Params{"target": 3}, []string{"d.csv", "index 3", "3 columns"}},
		{"single class", "a,y\n1,0\n2,0\n3,0\n", nil, []string{"d.csv", `"y"`, "single class"}},
		{"single text class", "a,y\n1,cat\n2,cat\n", nil, []string{"d.csv", "single class", `"cat"`}},
		{"text regression", "a,y\n1,2\n2,cat\n", stage.Params{"task": "regression"}, []string{"d.csv:3", "column 2", `"cat"`, "regression"}},
		{"class gap", "a,y\n1,1\n2,2\n", stage.Params{"task": "classification"}, []string{"d.csv", "no row of class 0"}},
		{"fractional class", "a,y\n1,0\n2,1.5\n", stage.Params{"task": "classification"}, []string{"d.csv:3", `"1.5"`, "0 to K-1"}},
		{"too few rows", "a,y\n1,0\n2,1\n", nil, []string{"d.csv", "2 rows are too few"}},
	}
	for _, tc := range cases {
		dir := writeCSV(t, "d.csv", tc.content)
		params := stage.Params{"path": "d.csv"}
		for k, v := range tc.params {
			params[k] = v
		}
		_, _, err := applyCSV(t, stage.Env{BaseDir: dir}, params)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		for _, frag := range tc.want {
			if !strings.Contains(err.Error(), frag) {
				t.Errorf("%s: error %q does not contain %q", tc.name, err, frag)
			}
		}
	}
}

func TestCSVParamErrors(t *testing.T) {
	cases := []struct {
		name   string
		params stage.Params
		want   string
	}{
		{"no path", stage.Params{}, "path is required"},
		{"train_prop 1", stage.Params{"path": "a.csv", "train_prop": 1.0}, "invalid train_prop 1"},
		{"train_prop 0", stage.Params{"path": "a.csv", "train_prop": 0}, "invalid train_prop 0"},
		{"batch_size 0", stage.Params{"path": "a.csv", "batch_size": 0}, "invalid batch_size 0"},
		{"batch_size text", stage.Params{"path": "a.csv", "batch_size": "many"}, "batch_size"},
		{"task", stage.Params{"path": "a.csv", "task": "ranking"}, `invalid task "ranking"`},
	}
	for _, tc := range cases {
		_, err := NewCSV(tc.params)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestCSVMustComeFirst(t *testing.T) {
	c, err := NewCSV(stage.Params{"path": "iris.csv"})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Apply(context.Background(), stage.Env{BaseDir: examplesDir}, &stage.Data{}, nil)
	if err == nil || !strings.Contains(err.Error(), "first data stage") {
		t.Errorf("error = %v, want one saying csv must be the first data stage", err)
	}
}

func TestCSVRegisteredLabel(t *testing.T) {
	c, err := stage.Lookup("csv")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Label(stage.Params{"path": "data/iris.csv"}); got != "csv(iris)" {
		t.Errorf("label = %q, want csv(iris)", got)
	}
	s, err := c.New(stage.Params{"path": "iris.csv", "train_prop": 0.8, "batch_size": 32})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(stage.DataStage); !ok {
		t.Errorf("New returned %T, which is not a stage.DataStage", s)
	}
}
