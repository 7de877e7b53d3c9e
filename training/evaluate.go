package training

import (
	"fmt"
	"math"

	"github.com/mosaic-go/mosaic/engine"
	"github.com/mosaic-go/mosaic/stage"
)

// evaluate returns the loss on the whole test set and, for classification,
// the fraction of test samples whose highest output is their class. It
// runs the set in chunks of evalChunk samples. Both losses are means over
// samples, so weighting each chunk's loss by its size gives the loss of the
// whole set.
func (tr *trainer) evaluate() (loss, accuracy float64) {
	set := tr.data.Test
	features := set.Features()
	tr.net.SetTraining(false)
	var lossSum float64
	correct := 0
	for start := 0; start < set.N; start += evalChunk {
		rows := min(evalChunk, set.N-start)
		out := tr.net.Forward(set.X[start*features:(start+rows)*features], rows)
		// For classification Y holds one class index per sample.
		labels := set.Y[start : start+rows]

		var target []float32
		if tr.oneHot {
			target = tr.evalY[:rows*tr.outDim]
			clear(target)
			for i, class := range labels {
				target[i*tr.outDim+int(class)] = 1
			}
		} else {
			target = set.Y[start*tr.targetWidth : (start+rows)*tr.targetWidth]
		}
		lossSum += tr.loss.Compute(out, target, rows, tr.outDim, nil) * float64(rows)
		if tr.classification {
			correct += countCorrect(out, labels, rows, tr.outDim)
		}
	}
	return lossSum / float64(set.N), float64(correct) / float64(set.N)
}

// countCorrect returns how many of the n rows of out have their highest
// value at the class in labels. Ties go to the lowest index, as torch.argmax
// does (checked with PyTorch 1.13 on CPU). A row containing NaN counts as
// wrong.
func countCorrect(out, labels []float32, n, dim int) int {
	correct := 0
	for i := 0; i < n; i++ {
		row := out[i*dim : (i+1)*dim]
		best, hasNaN := 0, false
		for j, v := range row {
			hasNaN = hasNaN || math.IsNaN(float64(v))
			if v > row[best] {
				best = j
			}
		}
		if best == int(labels[i]) && !hasNaN {
			correct++
		}
	}
	return correct
}

// checkData returns an error unless both sets match the network and the
// loss: sizes, feature counts, output size and class indices.
func checkData(net *engine.Network, data *stage.Data, loss engine.Loss) error {
	if data == nil || data.Train == nil || data.Test == nil {
		return fmt.Errorf("invalid data: want both a train and a test set")
	}
	if data.BatchSize < 1 {
		return fmt.Errorf("invalid batch size %d: want at least 1", data.BatchSize)
	}
	if data.Train.Task != data.Test.Task || data.Train.Classes != data.Test.Classes {
		return fmt.Errorf("invalid data: train set is %s with %d classes, test set is %s with %d classes",
			data.Train.Task, data.Train.Classes, data.Test.Task, data.Test.Classes)
	}
	for _, side := range []struct {
		name string
		set  *stage.Dataset
	}{{"train", data.Train}, {"test", data.Test}} {
		if err := checkSet(net, side.set, loss); err != nil {
			return fmt.Errorf("%s set: %w", side.name, err)
		}
	}
	return nil
}

func checkSet(net *engine.Network, set *stage.Dataset, loss engine.Loss) error {
	features := set.Features()
	if set.N < 1 {
		return fmt.Errorf("it is empty")
	}
	if features != net.InSize() {
		return fmt.Errorf("samples of shape %v have %d values, the network takes %d", set.Shape, features, net.InSize())
	}
	if len(set.X) != set.N*features {
		return fmt.Errorf("X has %d values, want N×features = %d×%d", len(set.X), set.N, features)
	}

	switch set.Task {
	case stage.Classification:
		if net.OutSize() != set.Classes {
			return fmt.Errorf("%d classes, but the network has %d outputs", set.Classes, net.OutSize())
		}
		if len(set.Y) != set.N {
			return fmt.Errorf("Y has %d class indices, want N = %d", len(set.Y), set.N)
		}
		for i, y := range set.Y {
			if y != float32(int(y)) || y < 0 || int(y) >= set.Classes {
				return fmt.Errorf("sample %d has class %v, want an integer in [0, %d)", i, y, set.Classes)
			}
		}
	case stage.Regression:
		if loss.ClassTargets() {
			return fmt.Errorf("%s needs class indices, but the task is regression: use MSELoss", loss.Name())
		}
		if net.OutSize() != set.TargetDim {
			return fmt.Errorf("%d target values per sample, but the network has %d outputs", set.TargetDim, net.OutSize())
		}
		if len(set.Y) != set.N*set.TargetDim {
			return fmt.Errorf("Y has %d values, want N×TargetDim = %d×%d", len(set.Y), set.N, set.TargetDim)
		}
	default:
		return fmt.Errorf("unknown task %q: want %q or %q", set.Task, stage.Classification, stage.Regression)
	}
	return nil
}
