package engine

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

// goldenTorch is the document testdata/golden_torch.py writes.
type goldenTorch struct {
	TorchVersion string      `json:"torch_version"`
	Sizes        [][2]int    `json:"sizes"`
	Batch        int         `json:"batch"`
	Epochs       int         `json:"epochs"`
	LR           float64     `json:"lr"`
	X            [][]float64 `json:"x"`
	MSETarget    [][]float64 `json:"mse_target"`
	Classes      []int       `json:"classes"`
	Weights      []struct {
		Weight [][]float64 `json:"weight"`
		Bias   []float64   `json:"bias"`
	} `json:"weights"`
	Cases []struct {
		Loss        string        `json:"loss"`
		StepLosses  []float64     `json:"step_losses"`
		FinalParams [][][]float64 `json:"final_params"`
	} `json:"cases"`
}

func flatten32(rows [][]float64) []float32 {
	var out []float32
	for _, row := range rows {
		for _, v := range row {
			out = append(out, float32(v))
		}
	}
	return out
}

// buildGoldenNetwork rebuilds the PyTorch network with its fixed weights.
func buildGoldenNetwork(t *testing.T, doc *goldenTorch) *Network {
	t.Helper()
	net := NewNetwork([]int{doc.Sizes[0][0]})
	rng := rand.New(rand.NewPCG(0, 0))
	for i, size := range doc.Sizes {
		d := NewDense(size[0], size[1], rng)
		copy(d.Weight.Value, flatten32(doc.Weights[i].Weight))
		copy(d.Bias.Value, flatten32([][]float64{doc.Weights[i].Bias}))
		if err := net.Add(d); err != nil {
			t.Fatal(err)
		}
		if i < len(doc.Sizes)-1 {
			tanh, err := NewActivation("tanh")
			if err != nil {
				t.Fatal(err)
			}
			if err := net.Add(tanh); err != nil {
				t.Fatal(err)
			}
		}
	}
	return net
}

// TestGoldenTorch trains the network of testdata/golden_torch.py with both
// losses and compares every minibatch loss and the final weights with the
// values PyTorch computed. Both sides compute in float32, so they agree to
// rounding, which grows slowly over the 10 Adam steps.
func TestGoldenTorch(t *testing.T) {
	raw, err := os.ReadFile("testdata/golden_torch.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc goldenTorch
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("decode testdata/golden_torch.json: %v", err)
	}
	x := flatten32(doc.X)
	n := len(doc.X)
	targets := map[string][]float32{"MSELoss": flatten32(doc.MSETarget)}
	for _, c := range doc.Classes {
		targets["CrossEntropyLoss"] = append(targets["CrossEntropyLoss"], float32(c))
	}

	for _, golden := range doc.Cases {
		t.Run(golden.Loss, func(t *testing.T) {
			net := buildGoldenNetwork(t, &doc)
			loss, err := NewLoss(golden.Loss)
			if err != nil {
				t.Fatal(err)
			}
			target := targets[golden.Loss]
			targetWidth := len(target) / n
			opt := NewAdam(net, doc.LR)
			dim := net.OutSize()
			grad := make([]float32, doc.Batch*dim)

			var losses []float64
			for epoch := 0; epoch < doc.Epochs; epoch++ {
				for start := 0; start < n; start += doc.Batch {
					rows := min(doc.Batch, n-start)
					in := x[start*net.InSize() : (start+rows)*net.InSize()]
					out := net.Forward(in, rows)
					tb := target[start*targetWidth : (start+rows)*targetWidth]
					losses = append(losses, loss.Compute(out, tb, rows, dim, grad))
					net.Backward(grad, rows)
					opt.Step()
				}
			}

			checkAgainstTorch(t, losses, golden.StepLosses, golden.FinalParams, net)
		})
	}
}

// checkAgainstTorch compares the minibatch losses and the final parameters
// of net with those PyTorch computed for the same training.
func checkAgainstTorch(t *testing.T, losses, torchLosses []float64, torchParams [][][]float64, net *Network) {
	t.Helper()
	if len(losses) != len(torchLosses) {
		t.Fatalf("%d minibatch losses, PyTorch has %d", len(losses), len(torchLosses))
	}
	for i, want := range torchLosses {
		if math.Abs(losses[i]-want) > 1e-5*math.Abs(want)+1e-6 {
			t.Errorf("step %d: loss %.9g, PyTorch %.9g", i+1, losses[i], want)
		}
	}

	var final []float64
	for _, layer := range torchParams {
		for _, tensor := range layer {
			final = append(final, tensor...)
		}
	}
	var got []float32
	for _, p := range net.Params() {
		got = append(got, p.Value...)
	}
	if len(got) != len(final) {
		t.Fatalf("%d parameters, PyTorch has %d", len(got), len(final))
	}
	for i, want := range final {
		if math.Abs(float64(got[i])-want) > 1e-5 {
			t.Errorf("final parameter %d: %.9g, PyTorch %.9g", i, got[i], want)
		}
	}
}
