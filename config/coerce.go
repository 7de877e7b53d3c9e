package config

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/mosaic-go/mosaic/stage"
)

// Error is one problem in a config file, located by file, line, section and
// key. Parse and Load join several of them with errors.Join so that a user
// can fix a config in one pass.
type Error struct {
	// File is the config path as given to Load, or the name given to Parse.
	File string
	// Line is the 1-based line of the key or section header; 0 when unknown.
	Line int
	// Section is the section name without brackets; empty for the whole file.
	Section string
	// Key is the key name; empty for the whole section.
	Key string
	Err error
}

// Error formats the problem as "file:line: [section] key: message".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Section != "" {
		fmt.Fprintf(&b, "[%s] ", e.Section)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, "%s: ", e.Key)
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// parseTyped parses raw in the value grammar, converts every alternative to
// the parameter's type, checks Choices and removes duplicates that the
// conversion created (3 and 3.0 of a float parameter).
func parseTyped(raw string, p stage.Param) ([]any, error) {
	alts, err := parseAlternatives(raw)
	if err != nil {
		return nil, fmt.Errorf("invalid value %q: %w", raw, err)
	}
	out := make([]any, 0, len(alts))
	seen := make(map[any]bool, len(alts))
	for _, a := range alts {
		v, err := coerce(a, p)
		if err != nil {
			return nil, fmt.Errorf("invalid value %q: %w", raw, err)
		}
		if seen[v] {
			continue
		}
		seen[v] = true
		out = append(out, v)
	}
	return out, nil
}

// coerce converts one alternative to the type of p. Ints become float64 for
// a Float parameter, integral floats become int for an Int parameter, and a
// String parameter keeps the text as written.
func coerce(a alternative, p stage.Param) (any, error) {
	var v any
	switch p.Type {
	case stage.Int:
		n, err := toInt(a)
		if err != nil {
			return nil, err
		}
		v = n
	case stage.Float:
		switch x := a.v.(type) {
		case int:
			v = float64(x)
		case float64:
			v = x
		default:
			return nil, fmt.Errorf("expected a number, got %s", describe(a))
		}
	case stage.Bool:
		b, ok := a.v.(bool)
		if !ok {
			return nil, fmt.Errorf("expected True or False, got %s", describe(a))
		}
		v = b
	case stage.String, "":
		v = a.raw
	default:
		return nil, fmt.Errorf("parameter %s has unsupported type %q", p.Name, p.Type)
	}
	if len(p.Choices) > 0 && !slices.Contains(p.Choices, stage.ToString(v)) {
		return nil, fmt.Errorf("%s is not one of the allowed values %s", describe(a), strings.Join(p.Choices, ", "))
	}
	return v, nil
}

// toInt converts an alternative to int, accepting integral floats.
func toInt(a alternative) (int, error) {
	switch x := a.v.(type) {
	case int:
		return x, nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) <= 1<<53 {
			return int(x), nil
		}
		return 0, fmt.Errorf("expected an integer, got %s", a.raw)
	case string:
		if rangePattern.MatchString(x) {
			return 0, fmt.Errorf("expected an integer, got %q: write {%s} for an inclusive range", x, x)
		}
	}
	return 0, fmt.Errorf("expected an integer, got %s", describe(a))
}

// describe shows an alternative in an error message: numbers and booleans
// as written, strings quoted.
func describe(a alternative) string {
	if _, ok := a.v.(string); ok {
		return strconv.Quote(a.raw)
	}
	return a.raw
}
