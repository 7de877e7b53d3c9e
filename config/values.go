package config

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// MaxRangeLen is the largest number of integers one brace range such as
// {1-1000} may expand to. It guards memory against a typing slip such as
// {1-1000000000}, since a range is materialised value by value.
const MaxRangeLen = 1_000_000

// ErrSyntax is wrapped by every error of the value grammar.
var ErrSyntax = errors.New("invalid value syntax")

var (
	intPattern   = regexp.MustCompile(`^[+-]?[0-9]+$`)
	floatPattern = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)
	rangePattern = regexp.MustCompile(`^([+-]?[0-9]+)\s*-\s*([+-]?[0-9]+)$`)
)

// alternative is one parsed alternative of a value: the scalar and the text
// it was written as, which a String parameter keeps verbatim.
type alternative struct {
	v   any
	raw string
}

// ParseValues parses a value written in the config grammar and returns its
// alternatives in order, duplicates removed. Each alternative is an int, a
// float64, a bool or a string:
//
//	1, 2, {4-5}        -> 1 2 4 5 (a brace range is inclusive)
//	{3, 5}, 8          -> 3 5 8 (a brace set)
//	1e-2, True         -> 0.01 true
//	"data/a,b.csv"     -> data/a,b.csv (quotes keep commas and braces)
//
// The documentation in docs/config.md gives the whole grammar.
func ParseValues(s string) ([]any, error) {
	alts, err := parseAlternatives(s)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(alts))
	seen := make(map[any]bool, len(alts))
	for _, a := range alts {
		if seen[a.v] {
			continue
		}
		seen[a.v] = true
		out = append(out, a.v)
	}
	return out, nil
}

// parseAlternatives splits s on top-level commas and parses each part,
// expanding brace groups. Duplicates are kept: the caller removes them after
// coercing to the parameter type, where 3 and 3.0 may become equal.
func parseAlternatives(s string) ([]alternative, error) {
	parts, err := split(s, true)
	if err != nil {
		return nil, err
	}
	var out []alternative
	for _, p := range parts {
		p = strings.TrimSpace(p)
		switch {
		case p == "":
			return nil, fmt.Errorf("%w: empty alternative in %q (check for a doubled or trailing comma)", ErrSyntax, s)
		case p[0] == '{':
			group, err := parseGroup(p)
			if err != nil {
				return nil, err
			}
			out = append(out, group...)
		default:
			a, err := parseScalar(p)
			if err != nil {
				return nil, err
			}
			out = append(out, a)
		}
	}
	return out, nil
}

// split cuts s at the commas that are outside double quotes and, when
// topLevel is true, outside braces. It rejects an unclosed quote or brace,
// a stray closing brace and nested braces.
func split(s string, topLevel bool) ([]string, error) {
	var parts []string
	depth, start := 0, 0
	inQuote := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			inQuote = !inQuote
		case inQuote:
		case c == '{':
			if !topLevel || depth > 0 {
				return nil, fmt.Errorf("%w: nested brace in %q: a brace group contains only scalars and ranges", ErrSyntax, s)
			}
			depth++
		case c == '}':
			if !topLevel || depth == 0 {
				return nil, fmt.Errorf("%w: closing brace without an opening one in %q", ErrSyntax, s)
			}
			depth--
		case c == ',' && depth == 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	if inQuote {
		return nil, fmt.Errorf("%w: unclosed double quote in %q", ErrSyntax, s)
	}
	if depth > 0 {
		return nil, fmt.Errorf("%w: unclosed brace in %q", ErrSyntax, s)
	}
	return append(parts, s[start:]), nil
}

// parseGroup expands a brace group such as {1-3, 7}.
func parseGroup(p string) ([]alternative, error) {
	if p[len(p)-1] != '}' {
		return nil, fmt.Errorf("%w: text after the closing brace in %q: a brace group must be a whole alternative", ErrSyntax, p)
	}
	items, err := split(p[1:len(p)-1], false)
	if err != nil {
		return nil, err
	}
	var out []alternative
	for _, item := range items {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, fmt.Errorf("%w: empty item in brace group %q", ErrSyntax, p)
		}
		if m := rangePattern.FindStringSubmatch(item); m != nil {
			r, err := expandRange(m[1], m[2], p)
			if err != nil {
				return nil, err
			}
			out = append(out, r...)
			continue
		}
		a, err := parseScalar(item)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// expandRange returns the integers lo..hi inclusive.
func expandRange(loText, hiText, group string) ([]alternative, error) {
	lo, errLo := strconv.Atoi(loText)
	hi, errHi := strconv.Atoi(hiText)
	if errLo != nil || errHi != nil {
		return nil, fmt.Errorf("%w: range bound out of range in %q", ErrSyntax, group)
	}
	if lo > hi {
		return nil, fmt.Errorf("%w: empty range %s-%s in %q: the first bound must not exceed the second", ErrSyntax, loText, hiText, group)
	}
	if uint64(hi-lo) >= MaxRangeLen {
		return nil, fmt.Errorf("%w: range %s-%s in %q has more than %d values", ErrSyntax, loText, hiText, group, MaxRangeLen)
	}
	out := make([]alternative, 0, hi-lo+1)
	for n := lo; ; n++ {
		out = append(out, alternative{v: n, raw: strconv.Itoa(n)})
		if n == hi {
			return out, nil
		}
	}
}

// parseScalar parses one trimmed, non-empty alternative that is not a brace
// group: a quoted string, a bool, an int, a float or a bare string.
func parseScalar(p string) (alternative, error) {
	if p[0] == '"' {
		if len(p) < 2 || p[len(p)-1] != '"' || strings.Count(p, `"`) != 2 {
			return alternative{}, fmt.Errorf("%w: %s: a quoted alternative must be a whole alternative with no quote inside", ErrSyntax, p)
		}
		return alternative{v: p[1 : len(p)-1], raw: p[1 : len(p)-1]}, nil
	}
	if strings.ContainsAny(p, `"{}`) {
		return alternative{}, fmt.Errorf("%w: %q: quote an alternative that contains a double quote or a brace", ErrSyntax, p)
	}
	switch p {
	case "True", "true":
		return alternative{v: true, raw: p}, nil
	case "False", "false":
		return alternative{v: false, raw: p}, nil
	}
	if intPattern.MatchString(p) {
		if n, err := strconv.Atoi(p); err == nil {
			return alternative{v: n, raw: p}, nil
		}
		// An integer too large for int falls through to float64.
	}
	if floatPattern.MatchString(p) {
		f, err := strconv.ParseFloat(p, 64)
		if err != nil || math.IsInf(f, 0) {
			return alternative{}, fmt.Errorf("%w: number %s is out of the float64 range", ErrSyntax, p)
		}
		return alternative{v: f, raw: p}, nil
	}
	return alternative{v: p, raw: p}, nil
}

// FormatValue writes v so that ParseValues reads it back as the same value:
// strings that would read as another type or contain grammar characters are
// quoted. It returns an error for a string that contains a double quote,
// which the grammar cannot express.
func FormatValue(v any) (string, error) {
	switch x := v.(type) {
	case bool:
		if x {
			return "True", nil
		}
		return "False", nil
	case int:
		return strconv.Itoa(x), nil
	case float64:
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if intPattern.MatchString(s) {
			s += ".0"
		}
		return s, nil
	case string:
		if strings.Contains(x, `"`) {
			return "", fmt.Errorf("string %q contains a double quote, which the grammar cannot express", x)
		}
		if x == "" || strings.TrimSpace(x) != x || strings.Contains(x, ",") {
			return `"` + x + `"`, nil
		}
		if a, err := parseScalar(x); err != nil || a.v != any(x) {
			return `"` + x + `"`, nil
		}
		return x, nil
	}
	return "", fmt.Errorf("cannot format %v (%T): want int, float64, bool or string", v, v)
}
