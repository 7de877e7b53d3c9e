package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	"github.com/mosaic-go/mosaic/result"
	"github.com/mosaic-go/mosaic/stage"
)

// timeLayout is the text form of times in the database: UTC with
// milliseconds and a fixed width, so text order is time order.
const timeLayout = "2006-01-02T15:04:05.000Z"

// formatTime returns t in UTC as timeLayout text, or nil (NULL) for the zero
// time.
func formatTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(timeLayout)
}

// seedValue returns the bit pattern of a uint64 seed as the int64 that
// SQLite's INTEGER can hold. uint64(v) converts it back losslessly.
func seedValue(seed uint64) int64 {
	return int64(seed)
}

// nullText returns s, or nil (NULL) for the empty string.
func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// paramValue returns the value_text and value_num columns of a parameter
// value. value_text is the value as written in a config (stage.ToString). A
// number or a bool (1/0) also sets value_num, and a list or map is stored as
// JSON text with a NULL value_num.
func paramValue(v any) (text, num any, err error) {
	switch x := v.(type) {
	case nil:
		return nil, nil, nil
	case string:
		return x, nil, nil
	case bool:
		if x {
			return stage.ToString(x), 1.0, nil
		}
		return stage.ToString(x), 0.0, nil
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return x.String(), nil, nil
		}
		return x.String(), finiteOrNil(f), nil
	}

	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return stage.ToString(v), float64(rv.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return stage.ToString(v), float64(rv.Uint()), nil
	case reflect.Float32, reflect.Float64:
		return stage.ToString(v), finiteOrNil(rv.Float()), nil
	case reflect.Slice, reflect.Array, reflect.Map:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, nil, fmt.Errorf("encode %v as JSON: %w", v, err)
		}
		return string(b), nil, nil
	}
	return stage.ToString(v), nil, nil
}

// finiteOrNil returns x, or nil (NULL) when x is NaN or ±Inf.
func finiteOrNil(x float64) any {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return x
}

// filesJSON returns the JSON object of a result's files, or nil (NULL) when
// there are none.
func filesJSON(files map[string]string) (any, error) {
	if len(files) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(files)
	if err != nil {
		return nil, fmt.Errorf("encode files: %w", err)
	}
	return string(b), nil
}

// gpusText returns the comma-separated GPU list, or nil (NULL) when empty.
func gpusText(gpus []string) any {
	return nullText(strings.Join(gpus, ","))
}

// hashResult returns the hex SHA-256 of the canonical result document: the
// output of json.Marshal, which writes struct fields in declaration order
// and map keys sorted. A result decoded from a file and marshaled again
// hashes the same each time, so collect recognises a duplicate file.
//
// What says when and where a run trained is left out of the hash: start
// and finish times, wall times, host, GPUs, exit code and file paths.
// Training is deterministic, so a job run twice (a scheduler's retry, a
// resubmission) gives the same curves and indicators with other timings,
// and that is a duplicate, not a conflict.
func hashResult(r *result.Result) (string, error) {
	outcome := *r
	outcome.StartedAt, outcome.FinishedAt = time.Time{}, time.Time{}
	outcome.Indicators.DurationS = nil
	outcome.Curves.EpochSeconds = nil
	outcome.Host, outcome.GPUs, outcome.ExitCode, outcome.Files = "", nil, nil, nil
	r = &outcome

	b, err := json.Marshal(r)
	var unsupported *json.UnsupportedValueError
	if errors.As(err, &unsupported) {
		// JSON has no NaN or Inf, which a diverged run can leave in its
		// curves. Such a result never came from a JSON file, so it only
		// needs a stable hash of its own.
		b, err = json.Marshal(struct {
			*result.Result
			Curves map[string][]any `json:"curves"`
		}{r, curvesWithTextNaN(r.Curves)})
	}
	if err != nil {
		return "", fmt.Errorf("encode result of run %s: %w", r.RunID, err)
	}

	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// curvesWithTextNaN returns the curves with NaN and ±Inf as the strings
// "NaN", "+Inf" and "-Inf", so they can be encoded as JSON.
func curvesWithTextNaN(c result.Curves) map[string][]any {
	named := map[string][]float64{
		"train_loss":     c.TrainLoss,
		"test_loss":      c.TestLoss,
		"train_accuracy": c.TrainAccuracy,
		"test_accuracy":  c.TestAccuracy,
		"epoch_seconds":  c.EpochSeconds,
	}
	out := make(map[string][]any, len(named))
	for name, xs := range named {
		values := make([]any, len(xs))
		for i, x := range xs {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				values[i] = fmt.Sprint(x)
			} else {
				values[i] = x
			}
		}
		out[name] = values
	}
	return out
}
