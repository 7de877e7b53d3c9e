package engine

import (
	"fmt"
	"math"
	"strings"
)

// Loss measures predictions against targets with PyTorch's semantics and
// mean reduction.
type Loss interface {
	// Name returns the PyTorch class name, for example "MSELoss".
	Name() string
	// ClassTargets reports whether the loss takes one class index per sample
	// (stored as float32) rather than one float target per output.
	ClassTargets() bool
	// Compute returns the mean loss of n samples of dim predictions each.
	// target holds n class indices if ClassTargets, else n*dim values. When
	// grad is not nil, Compute writes the gradient of the returned loss with
	// respect to pred into grad[:n*dim]. A class index outside [0, dim)
	// makes Compute panic, so callers validate targets first.
	Compute(pred, target []float32, n, dim int, grad []float32) float64
}

// Losses returns the names NewLoss accepts, sorted.
func Losses() []string {
	return []string{"BCEWithLogitsLoss", "CrossEntropyLoss", "HuberLoss", "L1Loss", "MSELoss", "NLLLoss", "SmoothL1Loss"}
}

// NetworkChecker is implemented by losses that work only on networks of a
// certain shape, such as NLLLoss, which needs a log-softmax output.
type NetworkChecker interface {
	// CheckNetwork returns an error saying how to fix net when the loss
	// cannot train it.
	CheckNetwork(net *Network) error
}

// NewLoss returns the loss of the given PyTorch class name, one of Losses().
func NewLoss(name string) (Loss, error) {
	switch name {
	case "MSELoss":
		return MSELoss{}, nil
	case "CrossEntropyLoss":
		return CrossEntropyLoss{}, nil
	case "L1Loss":
		return L1Loss{}, nil
	case "SmoothL1Loss":
		return SmoothL1Loss{}, nil
	case "HuberLoss":
		return HuberLoss{}, nil
	case "BCEWithLogitsLoss":
		return BCEWithLogitsLoss{}, nil
	case "NLLLoss":
		return NLLLoss{}, nil
	}
	return nil, fmt.Errorf("unknown loss %q: known losses are %s", name, strings.Join(Losses(), ", "))
}

// MSELoss is the mean of the squared differences over all n*dim values,
// as torch.nn.MSELoss(reduction='mean').
type MSELoss struct{}

var _ Loss = MSELoss{}

// Name returns "MSELoss".
func (MSELoss) Name() string { return "MSELoss" }

// ClassTargets returns false: targets are float values.
func (MSELoss) ClassTargets() bool { return false }

// Compute returns Σ(pred-target)² / (n*dim), whose gradient is 2(pred-target)/(n*dim).
func (MSELoss) Compute(pred, target []float32, n, dim int, grad []float32) float64 {
	count := n * dim
	pred, target = pred[:count], target[:count]
	scale := float32(2 / float64(count))
	var sum float64
	for i, p := range pred {
		diff := p - target[i]
		sum += float64(diff) * float64(diff)
		if grad != nil {
			grad[i] = scale * diff
		}
	}
	return sum / float64(count)
}

// CrossEntropyLoss takes raw logits and class indices and returns the mean
// over samples of -log softmax(logits)[class], as torch.nn.CrossEntropyLoss
// with mean reduction and no class weights. It subtracts each row's maximum
// logit before exponentiating, so large logits do not overflow.
type CrossEntropyLoss struct{}

var _ Loss = CrossEntropyLoss{}

// Name returns "CrossEntropyLoss".
func (CrossEntropyLoss) Name() string { return "CrossEntropyLoss" }

// ClassTargets returns true: targets are class indices.
func (CrossEntropyLoss) ClassTargets() bool { return true }

// Compute returns the mean negative log-likelihood of the target classes,
// whose gradient is (softmax(logits) - onehot(class)) / n.
func (CrossEntropyLoss) Compute(pred, target []float32, n, dim int, grad []float32) float64 {
	var sum float64
	for i := 0; i < n; i++ {
		row := pred[i*dim : (i+1)*dim]
		class := int(target[i])
		if class < 0 || class >= dim || float32(class) != target[i] {
			panic(fmt.Sprintf("engine: CrossEntropyLoss: target %v of sample %d is not a class index in [0, %d)", target[i], i, dim))
		}

		maxLogit := float64(row[0])
		for _, z := range row[1:] {
			maxLogit = math.Max(maxLogit, float64(z))
		}
		var expSum float64
		for _, z := range row {
			expSum += math.Exp(float64(z) - maxLogit)
		}
		logSumExp := maxLogit + math.Log(expSum)
		sum += logSumExp - float64(row[class])

		if grad != nil {
			g := grad[i*dim : (i+1)*dim]
			for j, z := range row {
				g[j] = float32(math.Exp(float64(z)-logSumExp) / float64(n))
			}
			g[class] -= float32(1 / float64(n))
		}
	}
	return sum / float64(n)
}
