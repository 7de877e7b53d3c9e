package builtin

import (
	"fmt"

	"github.com/mosaic-go/mosaic/stage"
)

// paramReader converts the parameters of one stage and keeps the first
// error, so a constructor reads every parameter and checks err once. Each
// reader leaves its destination unchanged when the parameter is unset,
// which keeps the default the caller put there.
type paramReader struct {
	class  string
	params stage.Params
	err    error
}

func (r *paramReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(r.class+": "+format, args...)
	}
}

// int reads an integer parameter of at least lowest.
func (r *paramReader) int(name string, dst *int, lowest int) {
	v, ok := optionalParam(r.params, name)
	if !ok || r.err != nil {
		return
	}
	n, err := stage.ToInt(v)
	if err != nil {
		r.fail("parameter %s: %w: expected an integer of at least %d", name, err, lowest)
		return
	}
	if n < lowest {
		r.fail("invalid %s %d: expected an integer of at least %d", name, n, lowest)
		return
	}
	*dst = n
}

// float reads a number parameter and checks it with valid, whose
// description completes "expected ...".
func (r *paramReader) float(name string, dst *float64, valid func(float64) bool, expected string) {
	v, ok := optionalParam(r.params, name)
	if !ok || r.err != nil {
		return
	}
	f, err := stage.ToFloat(v)
	if err != nil {
		r.fail("parameter %s: %w: expected %s", name, err, expected)
		return
	}
	if !valid(f) {
		r.fail("invalid %s %v: expected %s", name, f, expected)
		return
	}
	*dst = f
}

// bool reads a boolean parameter.
func (r *paramReader) bool(name string, dst *bool) {
	v, ok := optionalParam(r.params, name)
	if !ok || r.err != nil {
		return
	}
	b, err := stage.ToBool(v)
	if err != nil {
		r.fail("parameter %s: %w", name, err)
		return
	}
	*dst = b
}

// choice reads a text parameter that must be one of choices.
func (r *paramReader) choice(name string, dst *string, choices []string) {
	v, ok := optionalParam(r.params, name)
	if !ok || r.err != nil {
		return
	}
	s := stage.ToString(v)
	for _, c := range choices {
		if s == c {
			*dst = s
			return
		}
	}
	r.fail("invalid %s %q: expected one of %v", name, s, choices)
}

// seed reads an optional non-negative seed; unset leaves dst nil.
func (r *paramReader) seed(dst **uint64) {
	v, ok := optionalParam(r.params, "seed")
	if !ok || r.err != nil {
		return
	}
	n, err := stage.ToInt(v)
	if err != nil || n < 0 {
		r.fail("invalid seed %v: expected an integer of at least 0", v)
		return
	}
	s := uint64(n)
	*dst = &s
}

// isFraction reports whether f is strictly between 0 and 1.
func isFraction(f float64) bool { return f > 0 && f < 1 }

// isNonNegative reports whether f is a finite number of at least 0.
func isNonNegative(f float64) bool { return f >= 0 && f-f == 0 }
