package builtin

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/mosaic-go/mosaic/engine"
	"github.com/mosaic-go/mosaic/stage"
	"github.com/mosaic-go/mosaic/training"
)

// digitsData reads examples/data/digits.csv through the csv stage.
func digitsData(t *testing.T) *stage.Data {
	t.Helper()
	data, _ := applyClass(t, "csv", stage.Params{"path": "../../examples/data/digits.csv", "train_prop": 0.7}, nil, 1)
	return data
}

func TestImageDigits(t *testing.T) {
	data, info := applyClass(t, "image", stage.Params{"pixel_max": 16.0}, digitsData(t), 1)
	if !slices.Equal(data.Train.Shape, []int{1, 8, 8}) || !slices.Equal(data.Test.Shape, []int{1, 8, 8}) {
		t.Errorf("shapes %v and %v, want [1 8 8]", data.Train.Shape, data.Test.Shape)
	}
	if got := info["input_shape"]; !slices.Equal(got.([]int), []int{1, 8, 8}) {
		t.Errorf("info input_shape = %v, want [1 8 8]", got)
	}
	if data.Train.N+data.Test.N != 1797 || data.Train.Classes != 10 {
		t.Errorf("%d samples of %d classes, want 1797 of 10", data.Train.N+data.Test.N, data.Train.Classes)
	}
	maxValue := slices.Max(data.Train.X)
	if maxValue != 1 || slices.Min(data.Train.X) != 0 {
		t.Errorf("pixels span [%g, %g], want [0, 1] after dividing by pixel_max 16", slices.Min(data.Train.X), maxValue)
	}
}

func TestImageSize(t *testing.T) {
	cases := []struct {
		image         Image
		values        int
		height, width int
		err           string
	}{
		{Image{Channels: 1}, 64, 8, 8, ""},
		{Image{Channels: 3}, 48, 4, 4, ""},
		{Image{Channels: 1, Height: 2}, 12, 2, 6, ""},
		{Image{Channels: 1, Width: 3}, 12, 4, 3, ""},
		{Image{Channels: 1}, 12, 0, 0, "set height and width"},
		{Image{Channels: 5}, 12, 0, 0, "do not divide into 5 channels"},
	}
	for _, c := range cases {
		h, w, err := c.image.Size(c.values)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%+v of %d values: error %v, want one containing %q", c.image, c.values, err, c.err)
			}
			continue
		}
		if err != nil || h != c.height || w != c.width {
			t.Errorf("%+v of %d values: %d×%d, %v, want %d×%d", c.image, c.values, h, w, err, c.height, c.width)
		}
	}
}

func TestAugmentKeepsTestSet(t *testing.T) {
	in, _ := applyClass(t, "moons", stage.Params{"data_size": 100}, nil, 1)
	out, info := applyClass(t, "augment", stage.Params{"data_size": 50, "noise": 0.01}, in, 1)
	if out.Test != in.Test {
		t.Error("augment replaced the test set")
	}
	if out.Train.N != in.Train.N+50 || len(out.Train.X) != out.Train.N*2 || len(out.Train.Y) != out.Train.N {
		t.Fatalf("training set of %d samples (%d values, %d targets), want %d", out.Train.N, len(out.Train.X), len(out.Train.Y), in.Train.N+50)
	}
	if !slices.Equal(out.Train.X[:len(in.Train.X)], in.Train.X) {
		t.Error("augment changed the original training samples")
	}
	// Each copy lies within 0.1 (10 standard deviations) of an original
	// sample of the same class.
	for i := in.Train.N; i < out.Train.N; i++ {
		x, y := out.Train.X[2*i], out.Train.X[2*i+1]
		found := false
		for j := 0; j < in.Train.N && !found; j++ {
			found = in.Train.Y[j] == out.Train.Y[i] &&
				math.Abs(float64(x-in.Train.X[2*j])) < 0.1 && math.Abs(float64(y-in.Train.X[2*j+1])) < 0.1
		}
		if !found {
			t.Errorf("copy %d (%g, %g) of class %v is near no original of its class", i, x, y, out.Train.Y[i])
		}
	}
	if info["train_size"] != out.Train.N {
		t.Errorf("info train_size = %v, want %d", info["train_size"], out.Train.N)
	}
}

func TestOneHot(t *testing.T) {
	set := func(x []float32, n int) *stage.Dataset {
		return &stage.Dataset{X: x, Y: make([]float32, n), N: n, Shape: []int{3}, Task: stage.Regression, TargetDim: 1}
	}
	in := &stage.Data{
		Train:     set([]float32{0, 0.5, 2, 1, 1.5, 0, 2, 2.5, 2}, 3),
		Test:      set([]float32{1, 9, 3}, 1),
		BatchSize: 2,
	}
	out, info := applyClass(t, "onehot", stage.Params{}, in, 1)
	// Column 0 has categories 0, 1, 2, column 1 is not integral, column 2
	// has categories 0, 2.
	wantTrain := []float32{1, 0, 0, 0.5, 0, 1, 0, 1, 0, 1.5, 1, 0, 0, 0, 1, 2.5, 0, 1}
	if !slices.Equal(out.Train.X, wantTrain) {
		t.Errorf("training set %v, want %v", out.Train.X, wantTrain)
	}
	if want := []float32{0, 1, 0, 9, 0, 0}; !slices.Equal(out.Test.X, want) {
		t.Errorf("test set %v, want %v: an unseen category encodes as zeros", out.Test.X, want)
	}
	if !slices.Equal(out.Train.Shape, []int{6}) || !slices.Equal(info["onehot_columns"].([]int), []int{0, 2}) {
		t.Errorf("shape %v, columns %v, want [6] and [0 2]", out.Train.Shape, info["onehot_columns"])
	}

	picked, _ := applyClass(t, "onehot", stage.Params{"columns": "2"}, in, 1)
	if !slices.Equal(picked.Train.Shape, []int{4}) {
		t.Errorf("columns 2: shape %v, want [4]", picked.Train.Shape)
	}
	comp, _ := stage.Lookup("onehot")
	s, err := comp.New(stage.Params{"columns": "1", "max_categories": 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.(stage.DataStage).Apply(context.Background(), stage.Env{}, in, stage.Info{}); err == nil || !strings.Contains(err.Error(), "max_categories") {
		t.Errorf("column with 3 values and max_categories 2: error %v, want one naming max_categories", err)
	}
}

// buildModel builds the model stages of classes in order on a network of
// the given input shape, the last one ending with outputs outputs.
func buildModel(t *testing.T, inShape []int, outputs int, classes []string, params []stage.Params) (*engine.Network, []stage.Info) {
	t.Helper()
	net := engine.NewNetwork(inShape)
	rng := rand.New(rand.NewPCG(1, 2))
	var infos []stage.Info
	for i, class := range classes {
		c, err := stage.Lookup(class)
		if err != nil {
			t.Fatal(err)
		}
		s, err := c.New(params[i])
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.(stage.ModelStage).Build(&stage.BuildContext{
			Net: net, Info: stage.Info{}, Last: i == len(classes)-1, OutputSize: outputs, Rand: rng,
		})
		if err != nil {
			t.Fatal(err)
		}
		infos = append(infos, info)
	}
	return net, infos
}

func TestConvolutionReadoutLayers(t *testing.T) {
	net, infos := buildModel(t, []int{1, 8, 8}, 10,
		[]string{"convolution", "readout", "mlp_brick"},
		[]stage.Params{{"channels": "4, 6", "kernel": 3}, {"kind": "global_average"}, {"width": 5, "length": 1, "dropout": 0.2}})
	want := []string{"conv2d(1→4, k3 s1 p1)", "relu", "maxpool(2)", "conv2d(4→6, k3 s1 p1)", "relu", "maxpool(2)",
		"global_avg_pool", "dense(6→5)", "relu", "dropout(0.2)", "dense(5→10)"}
	if got := layerSummary(net); !slices.Equal(got, want) {
		t.Errorf("layers %v, want %v", got, want)
	}
	if got := infos[0]["conv_out_shape"]; !slices.Equal(got.([]int), []int{6, 2, 2}) {
		t.Errorf("conv_out_shape = %v, want [6 2 2]", got)
	}
	if got, want := infos[0]["nb_params_stage"], (1*9*4+4)+(4*9*6+6); got != want {
		t.Errorf("convolution nb_params_stage = %v, want %d", got, want)
	}

	last, _ := buildModel(t, []int{1, 8, 8}, 3, []string{"convolution"},
		[]stage.Params{{"nb_convolution": 1, "channels": "2", "pooling": false, "stride": 2}})
	want = []string{"conv2d(1→2, k3 s2 p1)", "relu", "flatten", "dense(32→3)"}
	if got := layerSummary(last); !slices.Equal(got, want) {
		t.Errorf("convolution as last stage: layers %v, want %v", got, want)
	}

	none, infos := buildModel(t, []int{1, 8, 8}, 10, []string{"convolution", "readout", "mlp_brick"},
		[]stage.Params{{"nb_convolution": 0, "channels": "16"}, {}, {"width": 32, "length": 1}})
	want = []string{"flatten", "dense(64→32)", "relu", "dense(32→10)"}
	if got := layerSummary(none); !slices.Equal(got, want) || infos[0]["nb_params_stage"] != 0 {
		t.Errorf("nb_convolution 0: layers %v and %v parameters, want %v and none", got, infos[0]["nb_params_stage"], want)
	}

	nll, _ := buildModel(t, []int{2, 3, 3}, 4, []string{"readout"}, []stage.Params{{"output": "log_softmax"}})
	want = []string{"flatten", "dense(18→4)", "log_softmax"}
	if got := layerSummary(nll); !slices.Equal(got, want) {
		t.Errorf("readout with log_softmax: layers %v, want %v", got, want)
	}
}

func TestConvolutionInvalid(t *testing.T) {
	comp, _ := stage.Lookup("convolution")
	if _, err := comp.New(stage.Params{"channels": "4, 8", "nb_convolution": 3}); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("3 layers with 2 channel counts: error %v, want a mismatch", err)
	}
	if _, err := comp.New(stage.Params{"channels": "four"}); err == nil || !strings.Contains(err.Error(), `invalid channels "four"`) {
		t.Errorf("channels four: error %v", err)
	}
	s, err := comp.New(stage.Params{"nb_convolution": 4})
	if err != nil {
		t.Fatal(err)
	}
	ctx := &stage.BuildContext{Net: engine.NewNetwork([]int{1, 8, 8}), Info: stage.Info{}, OutputSize: 10, Rand: rand.New(rand.NewPCG(1, 2))}
	if _, err := s.(stage.ModelStage).Build(ctx); err == nil || !strings.Contains(err.Error(), "pooling = False") {
		t.Errorf("4 pooled layers on 8×8: error %v, want one suggesting pooling = False", err)
	}
	ctx.Net = engine.NewNetwork([]int{64})
	if _, err := s.(stage.ModelStage).Build(ctx); err == nil || !strings.Contains(err.Error(), "image data stage") {
		t.Errorf("flat samples: error %v, want one naming the image stage", err)
	}
}

// TestDigitsCNNLearns trains a small CNN on the digits for a few epochs and
// checks that it classifies most test images.
func TestDigitsCNNLearns(t *testing.T) {
	data, _ := applyClass(t, "image", stage.Params{"pixel_max": 16.0}, digitsData(t), 1)
	net, _ := buildModel(t, []int{1, 8, 8}, 10, []string{"convolution", "readout", "mlp_brick"},
		[]stage.Params{{"channels": "8"}, {}, {"width": 32, "length": 1, "dropout": 0.1}})
	out, err := training.Train(context.Background(), net, data, training.Options{Epochs: 4, LR: 1e-2, Loss: "CrossEntropyLoss", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	acc := out.Curves.TestAccuracy[len(out.Curves.TestAccuracy)-1]
	t.Logf("digits CNN test accuracy after 4 epochs: %.3f", acc)
	if acc < 0.9 {
		t.Errorf("test accuracy after 4 epochs %.3f, want at least 0.9", acc)
	}

	// Training leaves the network in evaluation mode, so dropout is off and
	// two predictions agree.
	first := net.Predict(data.Test.X, data.Test.N)
	if second := net.Predict(data.Test.X, data.Test.N); !slices.Equal(first, second) {
		t.Error("two predictions after training differ: dropout is still in training mode")
	}
}

// TestLogicMSEOneHot trains an MLP on XOR with MSELoss, which the training
// loop feeds one-hot targets.
func TestLogicMSEOneHot(t *testing.T) {
	data, _ := applyClass(t, "logic", stage.Params{"gate": "XOR", "data_size": 400, "noise": 0.05}, nil, 1)
	net, _ := buildModel(t, []int{2}, 2, []string{"mlp_brick"}, []stage.Params{{"width": 8, "length": 2, "activation": "tanh"}})
	out, err := training.Train(context.Background(), net, data, training.Options{Epochs: 40, LR: 2e-2, Loss: "MSELoss", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if acc := out.Curves.TestAccuracy[len(out.Curves.TestAccuracy)-1]; acc < 0.95 {
		t.Errorf("XOR test accuracy %.3f, want at least 0.95", acc)
	}
}
