package training

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/mosaic-go/mosaic/engine"
	"github.com/mosaic-go/mosaic/result"
	"github.com/mosaic-go/mosaic/stage"
)

// trainer holds the state of one Train call and the buffers its minibatch
// steps reuse, so that a step allocates nothing.
type trainer struct {
	net  *engine.Network
	loss engine.Loss
	opt  *engine.Adam
	data *stage.Data
	seed uint64

	classification bool
	// oneHot is set when a float-target loss trains on class indices.
	oneHot bool
	// outDim is the number of network outputs per sample, and targetWidth
	// the number of target values per sample the loss receives.
	outDim, targetWidth int

	batchX, batchY, grad []float32
	// batchLabels holds the class indices of the minibatch for classification.
	batchLabels []float32
	// evalY holds one-hot test targets of evalChunk samples when oneHot.
	evalY []float32
	perm  []int
}

func newTrainer(net *engine.Network, data *stage.Data, opts Options) (*trainer, error) {
	if opts.Epochs < 1 {
		return nil, fmt.Errorf("invalid number of epochs %d: want at least 1", opts.Epochs)
	}
	if !(opts.LR > 0) || !finite(opts.LR) {
		return nil, fmt.Errorf("invalid learning rate %g: want a finite number greater than 0", opts.LR)
	}
	loss, err := engine.NewLoss(opts.Loss)
	if err != nil {
		return nil, err
	}
	if err := checkData(net, data, loss); err != nil {
		return nil, err
	}

	tr := &trainer{
		net:            net,
		loss:           loss,
		opt:            engine.NewAdam(net, opts.LR),
		data:           data,
		seed:           opts.Seed,
		classification: data.Train.Task == stage.Classification,
		outDim:         net.OutSize(),
	}
	tr.oneHot = tr.classification && !loss.ClassTargets()
	tr.targetWidth = tr.outDim
	if loss.ClassTargets() {
		tr.targetWidth = 1
	}

	batch := data.BatchSize
	tr.batchX = make([]float32, batch*net.InSize())
	tr.batchY = make([]float32, batch*tr.targetWidth)
	tr.grad = make([]float32, batch*tr.outDim)
	tr.batchLabels = make([]float32, batch)
	if tr.oneHot {
		tr.evalY = make([]float32, min(evalChunk, data.Test.N)*tr.outDim)
	}
	tr.perm = make([]int, data.Train.N)
	return tr, nil
}

// restore loads a checkpoint's weights and optimiser state.
func (tr *trainer) restore(cp *Checkpoint) error {
	if cp.Epoch < 0 || len(cp.Curves.TrainLoss) != cp.Epoch || len(cp.Curves.TestLoss) != cp.Epoch {
		return fmt.Errorf("resume from checkpoint: epoch %d with %d train and %d test losses: want one loss of each per epoch",
			cp.Epoch, len(cp.Curves.TrainLoss), len(cp.Curves.TestLoss))
	}
	if err := tr.net.UnmarshalBinary(cp.Network); err != nil {
		return fmt.Errorf("resume from checkpoint of epoch %d: %w", cp.Epoch, err)
	}
	if err := tr.opt.UnmarshalBinary(cp.Optimizer); err != nil {
		return fmt.Errorf("resume from checkpoint of epoch %d: %w", cp.Epoch, err)
	}
	return nil
}

// checkpoint captures the state after the given epoch.
func (tr *trainer) checkpoint(epoch int, curves result.Curves) (*Checkpoint, error) {
	weights, err := tr.net.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("checkpoint after epoch %d: %w", epoch, err)
	}
	state, err := tr.opt.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("checkpoint after epoch %d: %w", epoch, err)
	}
	return &Checkpoint{Epoch: epoch, Curves: cloneCurves(curves), Network: weights, Optimizer: state}, nil
}

// shuffle sets perm to the permutation of epoch, which depends only on the
// seed and the epoch number.
func (tr *trainer) shuffle(epoch int) {
	for i := range tr.perm {
		tr.perm[i] = i
	}
	rng := rand.New(rand.NewPCG(tr.seed, uint64(epoch)))
	rng.Shuffle(len(tr.perm), func(i, j int) { tr.perm[i], tr.perm[j] = tr.perm[j], tr.perm[i] })
}

// trainEpoch runs one epoch of minibatch steps and returns the mean
// minibatch loss and the train accuracy (0 for regression). It stops early
// after a minibatch whose loss is NaN or ±Inf, and returns ctx.Err() if the
// context ends between minibatches.
func (tr *trainer) trainEpoch(ctx context.Context, epoch int) (loss, accuracy float64, err error) {
	tr.shuffle(epoch)
	// Dropout masks, like the permutation, depend only on the seed and the
	// epoch, so a resumed run draws what an uninterrupted one does.
	tr.net.Reseed(tr.seed ^ uint64(epoch)<<32 ^ 0x5eed)
	// Layers such as dropout behave differently while training; evaluate
	// switches them back.
	tr.net.SetTraining(true)
	defer tr.net.SetTraining(false)
	var lossSum float64
	batches, seen, correct := 0, 0, 0
	for start := 0; start < len(tr.perm); start += tr.data.BatchSize {
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
		rows := tr.gather(tr.perm[start:min(start+tr.data.BatchSize, len(tr.perm))])
		batchLoss, batchCorrect := tr.step(rows)
		lossSum += batchLoss
		batches++
		seen += rows
		correct += batchCorrect
		if !finite(batchLoss) {
			break
		}
	}
	return lossSum / float64(batches), float64(correct) / float64(seen), nil
}

// gather copies the samples of the given indices into the batch buffers and
// returns their number.
func (tr *trainer) gather(indices []int) int {
	set := tr.data.Train
	features := set.Features()
	for row, idx := range indices {
		copy(tr.batchX[row*features:(row+1)*features], set.X[idx*features:(idx+1)*features])
		if tr.classification {
			tr.batchLabels[row] = set.Y[idx]
		}
		switch {
		case tr.oneHot:
			target := tr.batchY[row*tr.outDim : (row+1)*tr.outDim]
			clear(target)
			target[int(set.Y[idx])] = 1
		default:
			copy(tr.batchY[row*tr.targetWidth:(row+1)*tr.targetWidth], set.Y[idx*tr.targetWidth:(idx+1)*tr.targetWidth])
		}
	}
	return len(indices)
}

// step trains on the gathered minibatch of n samples and returns its loss
// and, for classification, the number of samples predicted right before
// the update.
func (tr *trainer) step(n int) (loss float64, correct int) {
	out := tr.net.Forward(tr.batchX[:n*tr.net.InSize()], n)
	if tr.classification {
		correct = countCorrect(out, tr.batchLabels, n, tr.outDim)
	}
	loss = tr.loss.Compute(out, tr.batchY, n, tr.outDim, tr.grad)
	tr.net.Backward(tr.grad, n)
	tr.opt.Step()
	return loss, correct
}
