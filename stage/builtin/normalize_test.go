package builtin

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/mosaic-go/mosaic/stage"
)

// smallData returns a two-feature regression set whose second feature is
// constant on the training set.
func smallData() *stage.Data {
	return &stage.Data{
		Train: &stage.Dataset{
			X: []float32{1, 5, 2, 5, 3, 5, 6, 5}, Y: []float32{10, 20, 30, 40},
			N: 4, Shape: []int{2}, Task: stage.Regression, TargetDim: 1,
		},
		Test: &stage.Dataset{
			X: []float32{11, 7, -4, 5}, Y: []float32{50, 60},
			N: 2, Shape: []int{2}, Task: stage.Regression, TargetDim: 1,
		},
		BatchSize: 8,
	}
}

// applyNormalize builds a normalize stage with the given style and applies it.
func applyNormalize(t *testing.T, style any, in *stage.Data) (*stage.Data, stage.Info) {
	t.Helper()
	params := stage.Params{}
	if style != nil {
		params["style"] = style
	}
	n, err := NewNormalize(params)
	if err != nil {
		t.Fatal(err)
	}
	out, info, err := n.Apply(context.Background(), stage.Env{}, in, stage.Info{})
	if err != nil {
		t.Fatal(err)
	}
	return out, info
}

// assertClose fails when got and want differ by more than 1e-5 anywhere.
func assertClose(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s has %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i])-want[i]) > 1e-5 || math.IsNaN(float64(got[i])) {
			t.Errorf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

func TestNormalizeStandardisationFitsTrainOnly(t *testing.T) {
	in := smallData()
	out, info := applyNormalize(t, nil, in)

	// Feature 0 on train: mean 3, population std sqrt(14/4). Feature 1 is
	// constant 5, so it is only centred.
	std := math.Sqrt(3.5)
	assertClose(t, "train X", out.Train.X, []float64{-2 / std, 0, -1 / std, 0, 0, 0, 3 / std, 0})
	assertClose(t, "test X", out.Test.X, []float64{8 / std, 2, -7 / std, 0})

	if info["normalisation"] != "standardisation" {
		t.Errorf("info normalisation = %v, want standardisation", info["normalisation"])
	}
	if !slices.Equal(out.Train.Y, []float32{10, 20, 30, 40}) || !slices.Equal(out.Test.Y, []float32{50, 60}) {
		t.Errorf("regression targets changed: train %v test %v", out.Train.Y, out.Test.Y)
	}
	if out.BatchSize != 8 || out.Test.N != 2 || !slices.Equal(out.Test.Shape, []int{2}) {
		t.Errorf("batch size %d, test N %d shape %v not carried over", out.BatchSize, out.Test.N, out.Test.Shape)
	}
	if !slices.Equal(in.Train.X, []float32{1, 5, 2, 5, 3, 5, 6, 5}) {
		t.Errorf("input train X changed to %v", in.Train.X)
	}
}

func TestNormalizeMinMaxFitsTrainOnly(t *testing.T) {
	for _, style := range []string{"normalisation", "normalization"} {
		out, info := applyNormalize(t, style, smallData())

		// Feature 0 on train spans [1, 6]; test values outside it map outside [0, 1].
		assertClose(t, style+" train X", out.Train.X, []float64{0, 0, 0.2, 0, 0.4, 0, 1, 0})
		assertClose(t, style+" test X", out.Test.X, []float64{2, 2, -1, 0})
		if info["normalisation"] != "normalisation" {
			t.Errorf("%s: info normalisation = %v, want normalisation", style, info["normalisation"])
		}
	}
}

func TestNormalizeIrisStatistics(t *testing.T) {
	data, _, err := applyCSV(t, stage.Env{BaseDir: examplesDir, Seed: 3}, stage.Params{"path": "iris.csv"})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := applyNormalize(t, "standardization", data)
	mean, std := fitMeanStd(out.Train.X, 4)
	for j := range 4 {
		if math.Abs(mean[j]) > 1e-5 || math.Abs(std[j]-1) > 1e-5 {
			t.Errorf("feature %d after standardisation: mean %v std %v", j, mean[j], std[j])
		}
	}
	// The test set was not used to fit, so its statistics are not exactly 0 and 1.
	testMean, _ := fitMeanStd(out.Test.X, 4)
	if testMean[0] == 0 {
		t.Error("test feature 0 has mean exactly 0, as if fitted on the test set")
	}
	if !slices.Equal(out.Train.Y, data.Train.Y) || out.Train.Classes != 3 {
		t.Error("class labels changed")
	}
}

func TestNormalizeErrors(t *testing.T) {
	if _, err := NewNormalize(stage.Params{"style": "zscore"}); err == nil || !strings.Contains(err.Error(), `invalid style "zscore"`) {
		t.Errorf("style zscore: error %v", err)
	}
	n, _ := NewNormalize(nil)
	if _, _, err := n.Apply(context.Background(), stage.Env{}, nil, nil); err == nil || !strings.Contains(err.Error(), "must come first") {
		t.Errorf("nil input: error %v", err)
	}
	bad := smallData()
	bad.Test.Shape = []int{3}
	if _, _, err := n.Apply(context.Background(), stage.Env{}, bad, nil); err == nil || !strings.Contains(err.Error(), "3 features") {
		t.Errorf("feature mismatch: error %v", err)
	}
	empty := smallData()
	empty.Train.N, empty.Train.X, empty.Train.Y = 0, nil, nil
	if _, _, err := n.Apply(context.Background(), stage.Env{}, empty, nil); err == nil || !strings.Contains(err.Error(), "training set is empty") {
		t.Errorf("empty train: error %v", err)
	}
}

func TestNormalizeRegisteredLabel(t *testing.T) {
	c, err := stage.Lookup("normalize")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{"standardisation": "standardize", "standardization": "standardize", "normalisation": "normalize", "normalization": "normalize"}
	for style, want := range cases {
		if got := c.Label(stage.Params{"style": style}); got != want {
			t.Errorf("label for %s = %q, want %q", style, got, want)
		}
	}
}
