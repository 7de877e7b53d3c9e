//go:build amd64 && !purego

package engine

// reluForward sets out[i] = in[i] where in[i] > 0 and 0 elsewhere, NaN
// included, like the relu of activationFuncs.
func reluForward(in, out []float32) {
	n := len(in)
	out = out[:n]
	body := 0
	if useAVX2 && n >= 8 {
		body = n &^ 7
		reluForwardAVX2(body, &in[0], &out[0])
	}
	reluForwardGeneric(in[body:], out[body:])
}

// reluBackward sets dIn[i] = dOut[i] where in[i] > 0 and 0 elsewhere.
func reluBackward(in, dOut, dIn []float32) {
	n := len(in)
	dOut, dIn = dOut[:n], dIn[:n]
	body := 0
	if useAVX2 && n >= 8 {
		body = n &^ 7
		reluBackwardAVX2(body, &in[0], &dOut[0], &dIn[0])
	}
	reluBackwardGeneric(in[body:], dOut[body:], dIn[body:])
}

// reluForwardAVX2 and reluBackwardAVX2 handle the first n values, n a
// multiple of 8; they are implemented in activation_kernel_amd64.s.
//
//go:noescape
func reluForwardAVX2(n int, in, out *float32)

//go:noescape
func reluBackwardAVX2(n int, in, dOut, dIn *float32)
