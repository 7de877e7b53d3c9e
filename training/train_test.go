package training

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/mosaic-go/mosaic/engine"
	"github.com/mosaic-go/mosaic/result"
	"github.com/mosaic-go/mosaic/stage"
)

// blobs returns n samples of 2 features in 3 classes, each class a Gaussian
// blob of standard deviation 0.5 around a corner of a triangle of side ~3.
func blobs(n int, seed uint64) *stage.Dataset {
	rng := rand.New(rand.NewPCG(seed, 1))
	centres := [3][2]float64{{0, 0}, {3, 0}, {1.5, 2.6}}
	set := &stage.Dataset{N: n, Shape: []int{2}, Task: stage.Classification, Classes: 3, TargetDim: 1}
	for i := 0; i < n; i++ {
		class := i % 3
		set.X = append(set.X, float32(centres[class][0]+0.5*rng.NormFloat64()), float32(centres[class][1]+0.5*rng.NormFloat64()))
		set.Y = append(set.Y, float32(class))
	}
	return set
}

// waves returns n regression samples y = (sin x₁, x₁·x₂) for x uniform in [-2, 2]².
func waves(n int, seed uint64) *stage.Dataset {
	rng := rand.New(rand.NewPCG(seed, 2))
	set := &stage.Dataset{N: n, Shape: []int{2}, Task: stage.Regression, TargetDim: 2}
	for i := 0; i < n; i++ {
		a, b := 4*rng.Float64()-2, 4*rng.Float64()-2
		set.X = append(set.X, float32(a), float32(b))
		set.Y = append(set.Y, float32(math.Sin(a)), float32(a*b))
	}
	return set
}

// mlp returns in→16→16→out with tanh, initialised from seed.
func mlp(t *testing.T, seed uint64, in, out int) *engine.Network {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 3))
	net := engine.NewNetwork([]int{in})
	for _, width := range []int{16, 16} {
		act, err := engine.NewActivation("tanh")
		if err != nil {
			t.Fatal(err)
		}
		if err := net.Add(engine.NewDense(net.OutSize(), width, rng)); err != nil {
			t.Fatal(err)
		}
		if err := net.Add(act); err != nil {
			t.Fatal(err)
		}
	}
	if err := net.Add(engine.NewDense(net.OutSize(), out, rng)); err != nil {
		t.Fatal(err)
	}
	return net
}

func classificationData() *stage.Data {
	return &stage.Data{Train: blobs(150, 1), Test: blobs(60, 2), BatchSize: 16}
}

// sameCurves reports whether two curves are bit-identical, EpochSeconds aside.
func sameCurves(a, b result.Curves) bool {
	return slices.Equal(a.TrainLoss, b.TrainLoss) && slices.Equal(a.TestLoss, b.TestLoss) &&
		slices.Equal(a.TrainAccuracy, b.TrainAccuracy) && slices.Equal(a.TestAccuracy, b.TestAccuracy)
}

func TestTrainLearnsBlobs(t *testing.T) {
	for _, loss := range []string{"CrossEntropyLoss", "MSELoss"} {
		t.Run(loss, func(t *testing.T) {
			out, err := Train(context.Background(), mlp(t, 1, 2, 3), classificationData(),
				Options{Epochs: 20, LR: 0.01, Loss: loss, Seed: 5})
			if err != nil {
				t.Fatal(err)
			}
			c := out.Curves
			for name, curve := range map[string][]float64{"train_loss": c.TrainLoss, "test_loss": c.TestLoss,
				"train_accuracy": c.TrainAccuracy, "test_accuracy": c.TestAccuracy, "epoch_seconds": c.EpochSeconds} {
				if len(curve) != 20 {
					t.Errorf("%s has %d entries, want 20", name, len(curve))
				}
			}
			if c.TestLoss[19] >= c.TestLoss[0] {
				t.Errorf("test loss went from %g to %g, want a decrease", c.TestLoss[0], c.TestLoss[19])
			}
			if c.TestAccuracy[19] < 0.9 {
				t.Errorf("final test accuracy %g, want at least 0.9 on separated blobs", c.TestAccuracy[19])
			}
			if out.DivergedEpoch != 0 {
				t.Errorf("DivergedEpoch = %d, want 0", out.DivergedEpoch)
			}
		})
	}
}

func TestTrainRegressionHasNoAccuracy(t *testing.T) {
	data := &stage.Data{Train: waves(200, 1), Test: waves(50, 2), BatchSize: 32}
	out, err := Train(context.Background(), mlp(t, 1, 2, 2), data, Options{Epochs: 15, LR: 0.01, Loss: "MSELoss", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if out.Curves.TrainAccuracy != nil || out.Curves.TestAccuracy != nil {
		t.Errorf("regression curves have accuracies %v and %v, want none", out.Curves.TrainAccuracy, out.Curves.TestAccuracy)
	}
	if last := out.Curves.TrainLoss[14]; last >= out.Curves.TrainLoss[0] {
		t.Errorf("train loss went from %g to %g, want a decrease", out.Curves.TrainLoss[0], last)
	}
}

// TestTestLossCoversWholeSet checks the chunked evaluation against one
// Predict over a test set larger than a chunk.
func TestTestLossCoversWholeSet(t *testing.T) {
	data := &stage.Data{Train: blobs(60, 1), Test: blobs(evalChunk+301, 2), BatchSize: 20}
	net := mlp(t, 1, 2, 3)
	out, err := Train(context.Background(), net, data, Options{Epochs: 2, LR: 0.01, Loss: "CrossEntropyLoss"})
	if err != nil {
		t.Fatal(err)
	}
	pred := net.Predict(data.Test.X, data.Test.N)
	want := engine.CrossEntropyLoss{}.Compute(pred, data.Test.Y, data.Test.N, 3, nil)
	if got := out.Curves.TestLoss[1]; math.Abs(got-want) > 1e-9*math.Abs(want) {
		t.Errorf("test loss %.12g, loss of one Predict over the set %.12g", got, want)
	}
	wantCorrect := countCorrect(pred, data.Test.Y, data.Test.N, 3)
	if got := out.Curves.TestAccuracy[1]; got != float64(wantCorrect)/float64(data.Test.N) {
		t.Errorf("test accuracy %g, want %d/%d", got, wantCorrect, data.Test.N)
	}
}

func TestTrainDeterministic(t *testing.T) {
	run := func(seed uint64) result.Curves {
		out, err := Train(context.Background(), mlp(t, 1, 2, 3), classificationData(),
			Options{Epochs: 4, LR: 0.01, Loss: "CrossEntropyLoss", Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		return out.Curves
	}
	first := run(7)
	if !sameCurves(first, run(7)) {
		t.Error("two runs with seed 7 differ")
	}
	if slices.Equal(first.TrainLoss, run(8).TrainLoss) {
		t.Error("runs with seeds 7 and 8 have the same train losses, so the seed does not drive shuffling")
	}
}

func TestResumeBitIdentical(t *testing.T) {
	const epochs, stopAfter = 6, 3
	opts := Options{Epochs: epochs, LR: 0.01, Loss: "CrossEntropyLoss", Seed: 11}

	var saved bytes.Buffer
	opts.OnEpoch = func(cp *Checkpoint) error {
		if cp.Epoch == stopAfter {
			return cp.Write(&saved)
		}
		return nil
	}
	whole, err := Train(context.Background(), mlp(t, 1, 2, 3), classificationData(), opts)
	if err != nil {
		t.Fatal(err)
	}

	cp, err := ReadCheckpoint(&saved)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Epoch != stopAfter {
		t.Fatalf("checkpoint epoch %d, want %d", cp.Epoch, stopAfter)
	}
	// A network initialised from another seed proves the weights come from
	// the checkpoint.
	opts.OnEpoch = nil
	opts.Resume = cp
	resumed, err := Train(context.Background(), mlp(t, 99, 2, 3), classificationData(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !sameCurves(whole.Curves, resumed.Curves) {
		t.Errorf("resumed curves differ from the uninterrupted run:\nwhole   %v\nresumed %v", whole.Curves.TrainLoss, resumed.Curves.TrainLoss)
	}
	if !slices.Equal(whole.Curves.EpochSeconds[:stopAfter], resumed.Curves.EpochSeconds[:stopAfter]) {
		t.Error("resumed run lost the epoch times of the checkpoint")
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	cp := &Checkpoint{
		Epoch:     2,
		Curves:    result.Curves{TrainLoss: []float64{1, math.NaN()}, TestLoss: []float64{2, math.Inf(1)}, EpochSeconds: []float64{0.5, 0.25}},
		Network:   []byte("weights"),
		Optimizer: []byte("adam"),
	}
	var buf bytes.Buffer
	if err := cp.Write(&buf); err != nil {
		t.Fatal(err)
	}
	encoded := slices.Clone(buf.Bytes())
	got, err := ReadCheckpoint(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got.Epoch != 2 || string(got.Network) != "weights" || string(got.Optimizer) != "adam" {
		t.Errorf("read back epoch %d, network %q, optimizer %q", got.Epoch, got.Network, got.Optimizer)
	}
	if !math.IsNaN(got.Curves.TrainLoss[1]) || !math.IsInf(got.Curves.TestLoss[1], 1) || got.Curves.EpochSeconds[1] != 0.25 {
		t.Errorf("curves read back as %+v", got.Curves)
	}
	if got.Curves.TrainAccuracy != nil {
		t.Errorf("empty accuracy curve read back as %v, want nil", got.Curves.TrainAccuracy)
	}
	for _, bad := range [][]byte{encoded[:len(encoded)-1], append(slices.Clone(encoded), 0), []byte("MOSAICNW")} {
		if _, err := ReadCheckpoint(bytes.NewReader(bad)); !errors.Is(err, ErrCheckpointFormat) {
			t.Errorf("reading %d corrupt bytes: error %v, want ErrCheckpointFormat", len(bad), err)
		}
	}
}

func TestDivergenceStopsTraining(t *testing.T) {
	data := &stage.Data{Train: waves(64, 1), Test: waves(16, 2), BatchSize: 16}
	callbacks := 0
	out, err := Train(context.Background(), mlp(t, 1, 2, 2), data, Options{
		Epochs: 50, LR: 1e25, Loss: "MSELoss",
		OnEpoch: func(cp *Checkpoint) error { callbacks++; return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.DivergedEpoch < 1 || out.DivergedEpoch >= 50 {
		t.Fatalf("DivergedEpoch = %d, want an early epoch", out.DivergedEpoch)
	}
	if n := len(out.Curves.TrainLoss); n != out.DivergedEpoch {
		t.Errorf("%d epochs of curves, want %d (up to and including the diverged one)", n, out.DivergedEpoch)
	}
	last := out.DivergedEpoch - 1
	if finite(out.Curves.TrainLoss[last]) && finite(out.Curves.TestLoss[last]) {
		t.Errorf("diverged epoch has finite losses %g and %g", out.Curves.TrainLoss[last], out.Curves.TestLoss[last])
	}
	if callbacks != out.DivergedEpoch-1 {
		t.Errorf("OnEpoch called %d times, want %d (not for the diverged epoch)", callbacks, out.DivergedEpoch-1)
	}
}

func TestCancelKeepsCompletedEpochs(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, err := Train(ctx, mlp(t, 1, 2, 3), classificationData(), Options{
		Epochs: 10, LR: 0.01, Loss: "CrossEntropyLoss",
		OnEpoch: func(cp *Checkpoint) error {
			if cp.Epoch == 2 {
				cancel()
			}
			return nil
		},
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if out == nil || len(out.Curves.TrainLoss) != 2 || len(out.Curves.TestAccuracy) != 2 {
		t.Fatalf("outcome %+v, want the curves of 2 epochs", out)
	}
}

func TestOnEpochErrorStops(t *testing.T) {
	stop := errors.New("disk full")
	out, err := Train(context.Background(), mlp(t, 1, 2, 3), classificationData(), Options{
		Epochs: 10, LR: 0.01, Loss: "CrossEntropyLoss",
		OnEpoch: func(cp *Checkpoint) error { return stop },
	})
	if !errors.Is(err, stop) || !strings.Contains(err.Error(), "epoch 1") {
		t.Errorf("error %v, want the callback's error after epoch 1", err)
	}
	if out == nil || len(out.Curves.TrainLoss) != 1 {
		t.Errorf("outcome %+v, want the curves of 1 epoch", out)
	}
}

func TestTrainRejectsBadInput(t *testing.T) {
	badLabel := blobs(30, 1)
	badLabel.Y[4] = 3
	cases := []struct {
		name string
		net  *engine.Network
		data *stage.Data
		opts Options
		want string
	}{
		{"zero epochs", mlp(t, 1, 2, 3), classificationData(), Options{LR: 0.1, Loss: "MSELoss"}, "epochs 0"},
		{"negative lr", mlp(t, 1, 2, 3), classificationData(), Options{Epochs: 1, LR: -1, Loss: "MSELoss"}, "learning rate -1"},
		{"unknown loss", mlp(t, 1, 2, 3), classificationData(), Options{Epochs: 1, LR: 0.1, Loss: "KLDivLoss"}, "known losses"},
		{"wrong outputs", mlp(t, 1, 2, 4), classificationData(), Options{Epochs: 1, LR: 0.1, Loss: "MSELoss"}, "3 classes"},
		{"wrong inputs", mlp(t, 1, 3, 3), classificationData(), Options{Epochs: 1, LR: 0.1, Loss: "MSELoss"}, "network takes 3"},
		{"class out of range", mlp(t, 1, 2, 3), &stage.Data{Train: badLabel, Test: blobs(9, 2), BatchSize: 4},
			Options{Epochs: 1, LR: 0.1, Loss: "CrossEntropyLoss"}, "sample 4 has class 3"},
		{"cross entropy regression", mlp(t, 1, 2, 2), &stage.Data{Train: waves(9, 1), Test: waves(9, 2), BatchSize: 4},
			Options{Epochs: 1, LR: 0.1, Loss: "CrossEntropyLoss"}, "use MSELoss"},
		{"zero batch", mlp(t, 1, 2, 3), &stage.Data{Train: blobs(9, 1), Test: blobs(9, 2)},
			Options{Epochs: 1, LR: 0.1, Loss: "MSELoss"}, "batch size 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Train(context.Background(), c.net, c.data, c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// dropoutMLP is mlp with a dropout layer of probability 0.3 after the first
// hidden layer.
func dropoutMLP(t *testing.T, seed uint64) *engine.Network {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 3))
	net := engine.NewNetwork([]int{2})
	act, err := engine.NewActivation("tanh")
	if err != nil {
		t.Fatal(err)
	}
	drop, err := engine.NewDropout(0.3, rng)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []engine.Layer{engine.NewDense(2, 16, rng), act, drop, engine.NewDense(16, 3, rng)} {
		if err := net.Add(l); err != nil {
			t.Fatal(err)
		}
	}
	return net
}

func TestResumeWithDropoutBitIdentical(t *testing.T) {
	const stopAfter = 2
	opts := Options{Epochs: 5, LR: 0.01, Loss: "CrossEntropyLoss", Seed: 5}
	var saved bytes.Buffer
	opts.OnEpoch = func(cp *Checkpoint) error {
		if cp.Epoch == stopAfter {
			return cp.Write(&saved)
		}
		return nil
	}
	whole, err := Train(context.Background(), dropoutMLP(t, 1), classificationData(), opts)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := ReadCheckpoint(&saved)
	if err != nil {
		t.Fatal(err)
	}

	// Another initial seed also gives the dropout layer another generator:
	// only reseeding per epoch makes the masks match.
	opts.OnEpoch = nil
	opts.Resume = cp
	resumed, err := Train(context.Background(), dropoutMLP(t, 77), classificationData(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !sameCurves(whole.Curves, resumed.Curves) {
		t.Errorf("resumed curves with dropout differ:\nwhole   %v\nresumed %v", whole.Curves.TrainLoss, resumed.Curves.TrainLoss)
	}
}
