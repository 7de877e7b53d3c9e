package stage

import (
	"fmt"
	"math"
	"strconv"
)

// Params holds one value per parameter of a stage: int, float64, bool or
// string. Values decoded from JSON arrive as float64 or json.Number; the
// accessors convert them to the requested type.
type Params map[string]any

// Int returns the named parameter as an int.
func (p Params) Int(name string) (int, error) {
	v, ok := p[name]
	if !ok {
		return 0, fmt.Errorf("parameter %s is missing", name)
	}
	return ToInt(v)
}

// Float returns the named parameter as a float64.
func (p Params) Float(name string) (float64, error) {
	v, ok := p[name]
	if !ok {
		return 0, fmt.Errorf("parameter %s is missing", name)
	}
	return ToFloat(v)
}

// String returns the named parameter as text.
func (p Params) String(name string) (string, error) {
	v, ok := p[name]
	if !ok {
		return "", fmt.Errorf("parameter %s is missing", name)
	}
	return ToString(v), nil
}

// Bool returns the named parameter as a bool.
func (p Params) Bool(name string) (bool, error) {
	v, ok := p[name]
	if !ok {
		return false, fmt.Errorf("parameter %s is missing", name)
	}
	return ToBool(v)
}

// ToInt converts a parameter value to int. Floats must be integral.
func ToInt(v any) (int, error) {
	switch x := v.(type) {
	case int:
		return x, nil
	case int64:
		return int(x), nil
	case float64:
		if x != math.Trunc(x) || math.IsInf(x, 0) || math.IsNaN(x) {
			return 0, fmt.Errorf("%v is not an integer", x)
		}
		return int(x), nil
	case interface{ Int64() (int64, error) }:
		n, err := x.Int64()
		if err != nil {
			return 0, fmt.Errorf("%v is not an integer", x)
		}
		return int(n), nil
	case string:
		n, err := strconv.Atoi(x)
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", x)
		}
		return n, nil
	}
	return 0, fmt.Errorf("%v (%T) is not an integer", v, v)
}

// ToFloat converts a parameter value to float64.
func ToFloat(v any) (float64, error) {
	switch x := v.(type) {
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case float64:
		return x, nil
	case interface{ Float64() (float64, error) }:
		return x.Float64()
	case string:
		f, err := strconv.ParseFloat(x, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number", x)
		}
		return f, nil
	}
	return 0, fmt.Errorf("%v (%T) is not a number", v, v)
}

// ToBool converts a parameter value to bool.
func ToBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		switch x {
		case "True", "true":
			return true, nil
		case "False", "false":
			return false, nil
		}
	}
	return false, fmt.Errorf("%v is not a boolean (True or False)", v)
}

// ToString returns the text of a parameter value as it would be written in a
// config: floats in their shortest form, booleans as True/False.
func ToString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return "False"
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}
