// Package training runs the training loop of one run: shuffled minibatches
// of Adam steps, a test-set evaluation after every epoch, divergence
// detection, checkpoints and resumption.
package training

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/mosaic-go/mosaic/engine"
	"github.com/mosaic-go/mosaic/result"
	"github.com/mosaic-go/mosaic/stage"
)

// Options configures Train.
type Options struct {
	// Epochs is the number of epochs the run trains in all, counting those
	// done before a resumed checkpoint. It must be at least 1.
	Epochs int
	// LR is Adam's learning rate, greater than 0.
	LR float64
	// Loss is a PyTorch loss class name, one of engine.Losses().
	Loss string
	// Seed determines the shuffling. Each epoch's permutation of the train
	// set is derived from (Seed, epoch) alone, so a resumed run shuffles
	// exactly as an uninterrupted one.
	Seed uint64
	// Resume, when not nil, restores the network, the optimiser and the
	// curves of a checkpoint and continues after Resume.Epoch. The network
	// passed to Train must have the checkpoint's architecture.
	Resume *Checkpoint
	// OnEpoch, when not nil, is called after every completed epoch that did
	// not diverge, with the full state, so that the caller can write
	// checkpoints and report progress. An error stops training and Train returns it.
	OnEpoch func(cp *Checkpoint) error
}

// Outcome is the result of one Train call.
type Outcome struct {
	// Curves has one entry per completed epoch, including those restored
	// from Options.Resume and the diverged epoch.
	Curves result.Curves
	// DivergedEpoch is the 1-based epoch whose train or test loss became NaN
	// or ±Inf, or 0 if none did.
	DivergedEpoch int
	// Duration is the wall time of this call. It excludes the epochs of a
	// resumed checkpoint, whose times remain in Curves.EpochSeconds.
	Duration time.Duration
}

// evalChunk is the number of test samples evaluated at once, which bounds
// the memory of the network's buffers.
const evalChunk = 1024

// Train trains net on data.Train with Adam and the given loss, and after
// every epoch measures the loss on the whole of data.Test.
//
// Per epoch, the train loss is the mean of the epoch's minibatch losses, and
// for classification the train accuracy is the fraction of train samples
// whose minibatch prediction (made before that minibatch's update) picked
// the right class. The last minibatch of an epoch may be smaller than
// data.BatchSize.
//
// With a loss that takes float targets (MSELoss, L1Loss, SmoothL1Loss,
// HuberLoss, BCEWithLogitsLoss) on a classification set, each class index
// becomes a one-hot target vector of data.Train.Classes values, as PyTorch
// users do by hand.
//
// If the context is cancelled, Train stops between minibatches, discards the
// partial epoch and returns ctx.Err() with the Outcome of the completed
// epochs. If a loss becomes NaN or ±Inf, Train stops after that epoch and
// returns a nil error with Outcome.DivergedEpoch set. Invalid options, data
// or checkpoints return a nil Outcome and an error.
func Train(ctx context.Context, net *engine.Network, data *stage.Data, opts Options) (*Outcome, error) {
	started := time.Now()
	tr, err := newTrainer(net, data, opts)
	if err != nil {
		return nil, err
	}

	outcome := &Outcome{}
	first := 1
	if cp := opts.Resume; cp != nil {
		if err := tr.restore(cp); err != nil {
			return nil, err
		}
		outcome.Curves = cloneCurves(cp.Curves)
		first = cp.Epoch + 1
	}

	for epoch := first; epoch <= opts.Epochs; epoch++ {
		epochStarted := time.Now()
		trainLoss, trainAccuracy, err := tr.trainEpoch(ctx, epoch)
		if err != nil {
			outcome.Duration = time.Since(started)
			return outcome, err
		}
		testLoss, testAccuracy := tr.evaluate()
		appendEpoch(&outcome.Curves, tr.classification, trainLoss, testLoss, trainAccuracy, testAccuracy, time.Since(epochStarted))

		if !finite(trainLoss) || !finite(testLoss) {
			outcome.DivergedEpoch = epoch
			break
		}
		if opts.OnEpoch != nil {
			cp, err := tr.checkpoint(epoch, outcome.Curves)
			if err != nil {
				return nil, err
			}
			if err := opts.OnEpoch(cp); err != nil {
				outcome.Duration = time.Since(started)
				return outcome, fmt.Errorf("after epoch %d: %w", epoch, err)
			}
		}
	}
	outcome.Duration = time.Since(started)
	return outcome, nil
}

func appendEpoch(c *result.Curves, classification bool, trainLoss, testLoss, trainAccuracy, testAccuracy float64, elapsed time.Duration) {
	c.TrainLoss = append(c.TrainLoss, trainLoss)
	c.TestLoss = append(c.TestLoss, testLoss)
	if classification {
		c.TrainAccuracy = append(c.TrainAccuracy, trainAccuracy)
		c.TestAccuracy = append(c.TestAccuracy, testAccuracy)
	}
	c.EpochSeconds = append(c.EpochSeconds, elapsed.Seconds())
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func cloneCurves(c result.Curves) result.Curves {
	clone := func(s []float64) []float64 {
		if s == nil {
			return nil
		}
		return append([]float64(nil), s...)
	}
	return result.Curves{
		TrainLoss:     clone(c.TrainLoss),
		TestLoss:      clone(c.TestLoss),
		TrainAccuracy: clone(c.TrainAccuracy),
		TestAccuracy:  clone(c.TestAccuracy),
		EpochSeconds:  clone(c.EpochSeconds),
	}
}
