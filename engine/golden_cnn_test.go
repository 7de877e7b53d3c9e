package engine

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"testing"
)

// goldenCNN is the document testdata/golden_cnn.py writes.
type goldenCNN struct {
	TorchVersion string      `json:"torch_version"`
	InShape      []int       `json:"in_shape"`
	Convs        [][5]int    `json:"convs"`
	Linear       [2]int      `json:"linear"`
	Batch        int         `json:"batch"`
	Epochs       int         `json:"epochs"`
	LR           float64     `json:"lr"`
	X            [][]float64 `json:"x"`
	FloatTarget  [][]float64 `json:"float_target"`
	Classes      []int       `json:"classes"`
	Weights      []struct {
		Weight []float64 `json:"weight"`
		Bias   []float64 `json:"bias"`
	} `json:"weights"`
	Cases []struct {
		Loss        string        `json:"loss"`
		StepLosses  []float64     `json:"step_losses"`
		FinalParams [][][]float64 `json:"final_params"`
	} `json:"cases"`
}

// addLayers adds the layers to net, failing the test on the first error.
func addLayers(t *testing.T, net *Network, layers ...Layer) {
	t.Helper()
	for _, l := range layers {
		if err := net.Add(l); err != nil {
			t.Fatal(err)
		}
	}
}

// buildGoldenCNN rebuilds the PyTorch CNN with its fixed weights, ending
// with a log-softmax for NLLLoss.
func buildGoldenCNN(t *testing.T, doc *goldenCNN, lossName string) *Network {
	t.Helper()
	rng := rand.New(rand.NewPCG(0, 0))
	net := NewNetwork(doc.InShape)
	var weighted []Layer
	for i, c := range doc.Convs {
		conv, err := NewConv2D(net.OutShape(), c[1], c[2], c[3], c[4], rng)
		if err != nil {
			t.Fatal(err)
		}
		weighted = append(weighted, conv)
		if i == 0 {
			relu, err := NewActivation("relu")
			if err != nil {
				t.Fatal(err)
			}
			addLayers(t, net, conv, relu)
			pool, err := NewMaxPool2D(net.OutShape(), 2)
			if err != nil {
				t.Fatal(err)
			}
			addLayers(t, net, pool)
			continue
		}
		tanh, err := NewActivation("tanh")
		if err != nil {
			t.Fatal(err)
		}
		addLayers(t, net, conv, tanh)
	}
	dense := NewDense(doc.Linear[0], doc.Linear[1], rng)
	weighted = append(weighted, dense)
	addLayers(t, net, Flatten{}, dense)
	if lossName == "NLLLoss" {
		addLayers(t, net, LogSoftmax{})
	}

	for i, l := range weighted {
		params := l.Params()
		if len(params[0].Value) != len(doc.Weights[i].Weight) || len(params[1].Value) != len(doc.Weights[i].Bias) {
			t.Fatalf("layer %d has %d weights and %d biases, PyTorch has %d and %d", i,
				len(params[0].Value), len(params[1].Value), len(doc.Weights[i].Weight), len(doc.Weights[i].Bias))
		}
		for j, v := range doc.Weights[i].Weight {
			params[0].Value[j] = float32(v)
		}
		for j, v := range doc.Weights[i].Bias {
			params[1].Value[j] = float32(v)
		}
	}
	return net
}

// goldenCNNTargets returns the targets the PyTorch script used for a loss:
// class indices, one-hot vectors for BCEWithLogitsLoss, or float values.
func goldenCNNTargets(doc *goldenCNN, lossName string) []float32 {
	var out []float32
	switch lossName {
	case "CrossEntropyLoss", "NLLLoss":
		for _, c := range doc.Classes {
			out = append(out, float32(c))
		}
	case "BCEWithLogitsLoss":
		for _, c := range doc.Classes {
			row := make([]float32, doc.Linear[1])
			row[c] = 1
			out = append(out, row...)
		}
	default:
		out = flatten32(doc.FloatTarget)
	}
	return out
}

// TestGoldenCNN trains the CNN of testdata/golden_cnn.py (convolution with
// padding and stride, max pool, flatten, dense) once per loss and compares
// every minibatch loss and the final weights with PyTorch's.
func TestGoldenCNN(t *testing.T) {
	raw, err := os.ReadFile("testdata/golden_cnn.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc goldenCNN
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("decode testdata/golden_cnn.json: %v", err)
	}
	x := flatten32(doc.X)
	n := len(doc.X)
	seen := map[string]bool{}

	for _, golden := range doc.Cases {
		seen[golden.Loss] = true
		t.Run(golden.Loss, func(t *testing.T) {
			net := buildGoldenCNN(t, &doc, golden.Loss)
			loss, err := NewLoss(golden.Loss)
			if err != nil {
				t.Fatal(err)
			}
			target := goldenCNNTargets(&doc, golden.Loss)
			targetWidth := len(target) / n
			opt := NewAdam(net, doc.LR)
			dim := net.OutSize()
			grad := make([]float32, doc.Batch*dim)

			var losses []float64
			for epoch := 0; epoch < doc.Epochs; epoch++ {
				for start := 0; start < n; start += doc.Batch {
					rows := min(doc.Batch, n-start)
					out := net.Forward(x[start*net.InSize():(start+rows)*net.InSize()], rows)
					losses = append(losses, loss.Compute(out, target[start*targetWidth:(start+rows)*targetWidth], rows, dim, grad))
					net.Backward(grad, rows)
					opt.Step()
				}
			}

			checkAgainstTorch(t, losses, golden.StepLosses, golden.FinalParams, net)
		})
	}
	for _, name := range Losses() {
		if !seen[name] {
			t.Errorf("testdata/golden_cnn.json has no case for %s: add it to golden_cnn.py", name)
		}
	}
}
