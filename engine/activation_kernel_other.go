//go:build !amd64 || purego

package engine

// reluForward is reluForwardGeneric: this build has no assembly kernel.
func reluForward(in, out []float32) { reluForwardGeneric(in, out) }

// reluBackward is reluBackwardGeneric: this build has no assembly kernel.
func reluBackward(in, dOut, dIn []float32) { reluBackwardGeneric(in, dOut, dIn) }
