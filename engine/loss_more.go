package engine

import (
	"fmt"
	"math"
)

// L1Loss is the mean absolute difference over all n*dim values, as
// torch.nn.L1Loss(reduction='mean').
type L1Loss struct{}

var _ Loss = L1Loss{}

// Name returns "L1Loss".
func (L1Loss) Name() string { return "L1Loss" }

// ClassTargets returns false: targets are float values.
func (L1Loss) ClassTargets() bool { return false }

// Compute returns Σ|pred-target| / (n*dim). The gradient is
// sign(pred-target)/(n*dim), and 0 where the two are equal, as in PyTorch.
func (L1Loss) Compute(pred, target []float32, n, dim int, grad []float32) float64 {
	count := n * dim
	scale := float32(1 / float64(count))
	var sum float64
	for i, p := range pred[:count] {
		diff := p - target[i]
		sum += math.Abs(float64(diff))
		if grad != nil {
			grad[i] = scale * sign(diff)
		}
	}
	return sum / float64(count)
}

// SmoothL1Loss is torch.nn.SmoothL1Loss with beta = 1 and mean reduction:
// 0.5·d² where |d| < 1 and |d| - 0.5 elsewhere, for d = pred - target.
type SmoothL1Loss struct{}

var _ Loss = SmoothL1Loss{}

// Name returns "SmoothL1Loss".
func (SmoothL1Loss) Name() string { return "SmoothL1Loss" }

// ClassTargets returns false: targets are float values.
func (SmoothL1Loss) ClassTargets() bool { return false }

// Compute returns the mean smooth L1 loss over all n*dim values.
func (SmoothL1Loss) Compute(pred, target []float32, n, dim int, grad []float32) float64 {
	return huber(pred, target, n*dim, 1, grad)
}

// HuberLoss is torch.nn.HuberLoss with delta = 1 and mean reduction:
// 0.5·d² where |d| ≤ 1 and |d| - 0.5 elsewhere. With delta = 1 it equals
// SmoothL1Loss with beta = 1.
type HuberLoss struct{}

var _ Loss = HuberLoss{}

// Name returns "HuberLoss".
func (HuberLoss) Name() string { return "HuberLoss" }

// ClassTargets returns false: targets are float values.
func (HuberLoss) ClassTargets() bool { return false }

// Compute returns the mean Huber loss over all n*dim values.
func (HuberLoss) Compute(pred, target []float32, n, dim int, grad []float32) float64 {
	return huber(pred, target, n*dim, 1, grad)
}

// huber returns the mean over count values of 0.5·d²/delta where |d| < delta
// and |d| - 0.5·delta elsewhere, which is SmoothL1Loss with beta = delta
// and, for delta = 1, HuberLoss.
func huber(pred, target []float32, count int, delta float64, grad []float32) float64 {
	scale := 1 / float64(count)
	var sum float64
	for i, p := range pred[:count] {
		diff := float64(p) - float64(target[i])
		abs := math.Abs(diff)
		if abs < delta {
			sum += 0.5 * diff * diff / delta
			if grad != nil {
				grad[i] = float32(diff / delta * scale)
			}
			continue
		}
		sum += abs - 0.5*delta
		if grad != nil {
			grad[i] = float32(math.Copysign(scale, diff))
		}
	}
	return sum * scale
}

// BCEWithLogitsLoss is the binary cross-entropy of sigmoid(pred) against
// targets in [0, 1], averaged over all n*dim values, as
// torch.nn.BCEWithLogitsLoss with mean reduction and no weights. On a
// classification set the training loop passes one-hot targets, so each
// output is a one-versus-rest classifier.
type BCEWithLogitsLoss struct{}

var _ Loss = BCEWithLogitsLoss{}

// Name returns "BCEWithLogitsLoss".
func (BCEWithLogitsLoss) Name() string { return "BCEWithLogitsLoss" }

// ClassTargets returns false: targets are float values (one-hot vectors
// for classification).
func (BCEWithLogitsLoss) ClassTargets() bool { return false }

// Compute returns the mean of max(x, 0) - x·t + log(1 + e^-|x|), the form
// PyTorch uses so that large logits do not overflow. The gradient is
// (sigmoid(x) - t)/(n*dim).
func (BCEWithLogitsLoss) Compute(pred, target []float32, n, dim int, grad []float32) float64 {
	count := n * dim
	scale := 1 / float64(count)
	var sum float64
	for i, p := range pred[:count] {
		x, t := float64(p), float64(target[i])
		sum += math.Max(x, 0) - x*t + math.Log1p(math.Exp(-math.Abs(x)))
		if grad != nil {
			grad[i] = float32((sigmoid(x) - t) * scale)
		}
	}
	return sum * scale
}

// NLLLoss takes log-probabilities and class indices and returns the mean
// over samples of -pred[class], as torch.nn.NLLLoss with mean reduction and
// no class weights. The network must end with a log-softmax for the
// outputs to be log-probabilities; CrossEntropyLoss is NLLLoss after a
// log-softmax, applied to raw logits.
type NLLLoss struct{}

var _ Loss = NLLLoss{}

// Name returns "NLLLoss".
func (NLLLoss) Name() string { return "NLLLoss" }

// ClassTargets returns true: targets are class indices.
func (NLLLoss) ClassTargets() bool { return true }

// CheckNetwork rejects a network that does not end with a log-softmax: on
// raw outputs NLLLoss has no minimum and runs to minus infinity.
func (NLLLoss) CheckNetwork(net *Network) error {
	layers := net.Layers()
	if len(layers) == 0 {
		return fmt.Errorf("NLLLoss needs a network that ends with a log-softmax")
	}
	switch last := layers[len(layers)-1].(type) {
	case LogSoftmax, *LogSoftmax:
		return nil
	default:
		return fmt.Errorf("NLLLoss takes log-probabilities, but the network ends with %T: end the model with a readout stage with output = log_softmax, or use CrossEntropyLoss, which applies the log-softmax itself", last)
	}
}

// Compute returns -Σ pred[i][class_i] / n, whose gradient is -1/n at each
// sample's class and 0 elsewhere.
func (NLLLoss) Compute(pred, target []float32, n, dim int, grad []float32) float64 {
	if grad != nil {
		clear(grad[:n*dim])
	}
	var sum float64
	for i := 0; i < n; i++ {
		class := int(target[i])
		if class < 0 || class >= dim || float32(class) != target[i] {
			panic(fmt.Sprintf("engine: NLLLoss: target %v of sample %d is not a class index in [0, %d)", target[i], i, dim))
		}
		sum -= float64(pred[i*dim+class])
		if grad != nil {
			grad[i*dim+class] = float32(-1 / float64(n))
		}
	}
	return sum / float64(n)
}

func sign(x float32) float32 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}
