package analysis

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrUnknownName is returned when a plot names an indicator or parameter
// that the database does not store.
var ErrUnknownName = errors.New("unknown indicator or parameter")

// variable is an indicator (a column of the results view) or a stored
// parameter or info value, as a plot names it.
type variable struct {
	name string
	// column is the results view column; empty for a parameter.
	column string
	// stageType and param select a parameter; stageType is empty when the
	// name is unique across stage types.
	stageType, param string
}

// value is one run's value of a variable.
type value struct {
	text  string
	num   float64
	isNum bool
}

// resolve finds what name refers to: a column of the results view, a
// parameter stored by a single stage type, or stage_type.name.
func (s *study) resolve(name string) (variable, error) {
	if s.hasColumn(name) {
		return variable{name: name, column: name}, nil
	}
	if types, ok := s.stageTypes[name]; ok {
		if len(types) > 1 {
			qualified := make([]string, len(types))
			for i, t := range types {
				qualified[i] = t + "." + name
			}
			return variable{}, fmt.Errorf("%s is stored by several stage types, expected one of %s: %w",
				name, strings.Join(qualified, ", "), ErrUnknownName)
		}
		return variable{name: name, param: name}, nil
	}
	if stageType, param, ok := strings.Cut(name, "."); ok {
		for _, t := range s.stageTypes[param] {
			if t == stageType {
				return variable{name: name, stageType: stageType, param: param}, nil
			}
		}
	}
	return variable{}, fmt.Errorf("%s is not stored in this database, which has %s: %w", name, s.describeNames(), ErrUnknownName)
}

// valueOf returns the run's value of v; ok is false when the run has no
// value (NULL or parameter not stored).
func (v variable) valueOf(r *storedRun) (value, bool) {
	if v.column == "" {
		p, ok := r.lookup(v.stageType, v.param)
		if !ok {
			return value{}, false
		}
		return value{text: p.text, num: p.num, isNum: p.isNum}, true
	}

	switch x := r.fields[v.column].(type) {
	case nil:
		return value{}, false
	case int64:
		return value{text: strconv.FormatInt(x, 10), num: float64(x), isNum: true}, true
	case float64:
		return value{text: strconv.FormatFloat(x, 'g', -1, 64), num: x, isNum: true}, true
	default:
		text := formatValue(x, true)
		num, err := strconv.ParseFloat(text, 64)
		return value{text: text, num: num, isNum: err == nil}, true
	}
}

// matches reports whether the value equals one of the allowed values: as
// numbers when both sides are numbers (so 30 matches 30.0), as text
// otherwise.
func (v value) matches(allowed []string) bool {
	for _, w := range allowed {
		if n, err := strconv.ParseFloat(w, 64); err == nil && v.isNum {
			if n == v.num {
				return true
			}
			continue
		}
		if w == v.text {
			return true
		}
	}
	return false
}

// finite reports whether the value is a number that is neither NaN nor
// infinite.
func (v value) finite() bool {
	return v.isNum && !math.IsNaN(v.num) && !math.IsInf(v.num, 0)
}
