package training

import (
	"context"
	"math"
	"testing"

	"github.com/mosaic-go/mosaic/stage"
)

func TestLastPartialBatchTrains(t *testing.T) {
	data := &stage.Data{Train: blobs(10, 1), Test: blobs(3, 2), BatchSize: 4}
	tr, err := newTrainer(mlp(t, 1, 2, 3), data, Options{Epochs: 1, LR: 0.01, Loss: "CrossEntropyLoss"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := tr.trainEpoch(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	// 10 samples in batches of 4 are 3 steps: 4, 4 and 2 samples.
	if steps := tr.opt.Steps(); steps != 3 {
		t.Errorf("%d Adam steps in an epoch of 10 samples in batches of 4, want 3", steps)
	}
}

func TestShuffleDependsOnEpochOnly(t *testing.T) {
	tr, err := newTrainer(mlp(t, 1, 2, 3), classificationData(), Options{Epochs: 1, LR: 0.01, Loss: "MSELoss", Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	tr.shuffle(2)
	want := append([]int(nil), tr.perm...)
	tr.shuffle(1)
	tr.shuffle(2)
	for i := range want {
		if tr.perm[i] != want[i] {
			t.Fatalf("permutation of epoch 2 changed after shuffling epoch 1: index %d is %d, was %d", i, tr.perm[i], want[i])
		}
	}
}

func TestMinibatchStepAllocatesNothing(t *testing.T) {
	for _, loss := range []string{"CrossEntropyLoss", "MSELoss"} {
		tr, err := newTrainer(mlp(t, 1, 2, 3), classificationData(), Options{Epochs: 1, LR: 0.01, Loss: loss})
		if err != nil {
			t.Fatal(err)
		}
		tr.shuffle(1)
		step := func() { tr.step(tr.gather(tr.perm[:16])) }
		step()
		if allocs := testing.AllocsPerRun(20, step); allocs != 0 {
			t.Errorf("%s: %g allocations per minibatch step, want 0", loss, allocs)
		}
	}
}

func TestCountCorrectTiesAndNaN(t *testing.T) {
	out := []float32{
		1, 3, 3, // tie between classes 1 and 2: the first wins
		2, float32(math.NaN()), 0, // NaN anywhere: wrong
		0, 0, 5,
	}
	if got := countCorrect(out, []float32{1, 0, 2}, 3, 3); got != 2 {
		t.Errorf("countCorrect = %d, want 2", got)
	}
	if got := countCorrect(out, []float32{2, 0, 2}, 3, 3); got != 1 {
		t.Errorf("countCorrect with the tie's second class = %d, want 1", got)
	}
}
