package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseValues(t *testing.T) {
	tests := []struct {
		in   string
		want []any
	}{
		{"3", []any{3}},
		{"{2-4},8", []any{2, 3, 4, 8}},
		{"{3, 5}, 8", []any{3, 5, 8}},
		{"1, 2, {4-5}", []any{1, 2, 4, 5}},
		{"{1-3, 7}", []any{1, 2, 3, 7}},
		{"1e-2", []any{0.01}},
		{"1e-6", []any{1e-6}},
		{"-3", []any{-3}},
		{"2.5, .5, 3.", []any{2.5, 0.5, 3.0}},
		{"True, False, true, false", []any{true, false}},
		{"relu, tanh", []any{"relu", "tanh"}},
		{`"data/a,b.csv"`, []any{"data/a,b.csv"}},
		{`"{1-3}", x`, []any{"{1-3}", "x"}},
		{`"3"`, []any{"3"}},
		{"  a b ,  c  ", []any{"a b", "c"}},
		{"2, 1, 2, {1-3}", []any{2, 1, 3}},
		{"{-2-2}", []any{-2, -1, 0, 1, 2}},
		{"{-5--3}", []any{-5, -4, -3}},
		{"{ 1 - 2 }", []any{1, 2}},
		{"{4-4}", []any{4}},
		{"3, 3.0", []any{3, 3.0}},
		{"2-4", []any{"2-4"}},
		{"inf, nan", []any{"inf", "nan"}},
		{"99999999999999999999", []any{1e20}},
		{"#x;y", []any{"#x;y"}},
		{`{"a,b", 2}`, []any{"a,b", 2}},
	}
	for _, tt := range tests {
		got, err := ParseValues(tt.in)
		if err != nil {
			t.Errorf("ParseValues(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseValues(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func TestParseValuesErrors(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", "empty alternative"},
		{"1,,2", "empty alternative"},
		{"1,2,", "empty alternative"},
		{" , ", "empty alternative"},
		{"{5-2}", "empty range 5-2"},
		{"{2-4", "unclosed brace"},
		{"2-4}", "closing brace without an opening one"},
		{"{1-{2}}", "nested brace"},
		{"{}", "empty item"},
		{"{1,,2}", "empty item"},
		{"{1-3}x", "text after the closing brace"},
		{"a{1}", "quote an alternative"},
		{`"abc`, "unclosed double quote"},
		{`"a"b`, "must be a whole alternative"},
		{`a"b"`, "quote an alternative"},
		{"1e999", "out of the float64 range"},
		{"{0-1000000}", "more than 1000000 values"},
		{"{1-99999999999999999999}", "range bound out of range"},
	}
	for _, tt := range tests {
		_, err := ParseValues(tt.in)
		if err == nil {
			t.Errorf("ParseValues(%q) succeeded, want error containing %q", tt.in, tt.want)
			continue
		}
		if !errors.Is(err, ErrSyntax) {
			t.Errorf("ParseValues(%q) error %v does not wrap ErrSyntax", tt.in, err)
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseValues(%q) error = %q, want it to contain %q", tt.in, err, tt.want)
		}
	}
}

func TestFormatValueRoundTrip(t *testing.T) {
	for _, v := range []any{3, -3, 0.01, 3.0, 1e20, true, false, "relu", "3", "True", "a,b", " pad", "", "{1-2}", "2-4"} {
		text, err := FormatValue(v)
		if err != nil {
			t.Fatalf("FormatValue(%#v): %v", v, err)
		}
		got, err := ParseValues(text)
		if err != nil {
			t.Fatalf("ParseValues(FormatValue(%#v) = %q): %v", v, text, err)
		}
		if len(got) != 1 || got[0] != v {
			t.Errorf("ParseValues(FormatValue(%#v) = %q) = %#v", v, text, got)
		}
	}
	if _, err := FormatValue(`a"b`); err == nil {
		t.Error("FormatValue accepted a string with a double quote")
	}
}

// FuzzParseValues checks that the grammar never panics and that a parsed
// list, written back with FormatValue, parses to the same list.
func FuzzParseValues(f *testing.F) {
	for _, seed := range []string{"{2-4},8", `"a,b", c`, "1e-6, -3, True", "{-2-2}", "{1-3, 7}", "1,,2", "{", `"`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		values, err := ParseValues(s)
		if err != nil {
			return
		}
		if len(values) == 0 {
			t.Fatalf("ParseValues(%q) returned no values and no error", s)
		}
		parts := make([]string, len(values))
		for i, v := range values {
			text, err := FormatValue(v)
			if err != nil {
				t.Fatalf("FormatValue(%#v) from %q: %v", v, s, err)
			}
			parts[i] = text
		}
		again, err := ParseValues(strings.Join(parts, ", "))
		if err != nil {
			t.Fatalf("re-parse of %q (from %q): %v", strings.Join(parts, ", "), s, err)
		}
		if !reflect.DeepEqual(again, values) {
			t.Fatalf("re-parse of %q = %#v, want %#v (from %q)", strings.Join(parts, ", "), again, values, s)
		}
	})
}
