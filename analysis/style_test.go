package analysis

import (
	"reflect"
	"testing"
)

func TestLogTicksLabels(t *testing.T) {
	cases := []struct {
		min, max float64
		want     []string
	}{
		{30, 1300, []string{"100", "1000"}},
		{0.13, 1.2, []string{"0.2", "0.5", "1"}},
		{0.13, 0.45, []string{"0.15", "0.3", "0.45"}}, // linear fallback
	}
	for _, c := range cases {
		var labels []string
		for _, tick := range (logTicks{}).Ticks(c.min, c.max) {
			if tick.Label != "" {
				labels = append(labels, tick.Label)
			}
		}
		if !reflect.DeepEqual(labels, c.want) {
			t.Errorf("ticks of [%v, %v] labelled %q, want %q", c.min, c.max, labels, c.want)
		}
	}
}
