package analysis

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
)

func loadIris(t *testing.T) *study {
	t.Helper()
	s, err := loadStudy(context.Background(), irisFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestGroupingExcludes(t *testing.T) {
	s := loadIris(t)

	sel, err := s.selectRuns(MetaPlot{Section: "plot_1", Abscissa: "nb_params", Ordinate: "test_loss",
		Excludes: []string{"width", "length"}})
	if err != nil {
		t.Fatal(err)
	}

	if len(sel.groups) != 2 {
		t.Fatalf("got %d groups, want mlp_brick and mlp_funnel", len(sel.groups))
	}
	if got := sel.groups[0].legend; got != "mlp_brick" {
		t.Errorf("first legend = %q, want mlp_brick", got)
	}
	if got := sel.groups[1].legend; got != "mlp_funnel" {
		t.Errorf("second legend = %q, want mlp_funnel", got)
	}
	if got := len(sel.groups[0].samples); got != 18 {
		t.Errorf("mlp_brick has %d samples, want 6 pipelines × 3 replicas", got)
	}
	// The diverged and the failed run have no test_loss.
	if sel.skippedY != 2 || sel.matched != 38 {
		t.Errorf("matched %d, skipped %d, want 38 and 2", sel.matched, sel.skippedY)
	}
}

func TestGroupingKeepsVaryingParams(t *testing.T) {
	s := loadIris(t)

	sel, err := s.selectRuns(MetaPlot{Section: "plot_1", Abscissa: "width", Ordinate: "test_loss"})
	if err != nil {
		t.Fatal(err)
	}

	want := []string{"mlp_brick(length=1)", "mlp_brick(length=2)", "mlp_funnel(length=1)", "mlp_funnel(length=2)"}
	if len(sel.groups) != len(want) {
		t.Fatalf("got %d groups, want %d", len(sel.groups), len(want))
	}
	for i, g := range sel.groups {
		if g.legend != want[i] {
			t.Errorf("group %d legend = %q, want %q", i, g.legend, want[i])
		}
	}
}

func TestGroupingSingleGroupNamesClasses(t *testing.T) {
	s := loadIris(t)
	sel, err := s.selectRuns(MetaPlot{Section: "plot_1", Abscissa: "width", Ordinate: "test_loss",
		Excludes: []string{"length"}})
	if err != nil {
		t.Fatal(err)
	}

	one := &metaGroup{tokens: sel.groups[0].tokens}
	nameGroups([]*metaGroup{one})
	if one.legend != "process → csv → mlp_brick" {
		t.Errorf("single group legend = %q, want the class chain", one.legend)
	}
}

func TestIncludeFilters(t *testing.T) {
	s := loadIris(t)
	cases := []struct {
		name    string
		keys    []string
		values  [][]string
		matched int
	}{
		{"list of numbers", []string{"width"}, [][]string{{"8", "16.0"}}, 24},
		{"bare value and text", []string{"width", "model.activation"}, [][]string{{"32"}, {"relu"}}, 12},
		{"info value", []string{"dataset"}, [][]string{{"iris"}}, 38},
		{"indicator", []string{"status"}, [][]string{{"done"}}, 36},
		{"two keys", []string{"length", "status"}, [][]string{{"2"}, {"done", "diverged"}}, 19},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sel, err := s.selectRuns(MetaPlot{Section: "plot_1", Abscissa: "width", Ordinate: "nb_params",
				IncludeKeys: c.keys, IncludeValues: c.values})
			if err != nil {
				t.Fatal(err)
			}
			if sel.matched != c.matched {
				t.Errorf("matched %d runs, want %d", sel.matched, c.matched)
			}
		})
	}
}

func TestIncludeNoMatch(t *testing.T) {
	s := loadIris(t)

	_, err := s.selectRuns(MetaPlot{Section: "plot_3", Abscissa: "width", Ordinate: "test_loss",
		IncludeKeys: []string{"width"}, IncludeValues: [][]string{{"7"}}})
	if !errors.Is(err, ErrNoRuns) {
		t.Errorf("error = %v, want ErrNoRuns", err)
	}
}

func TestResolveNames(t *testing.T) {
	s := loadIris(t)

	if _, err := s.resolve("data_size"); !errors.Is(err, ErrUnknownName) {
		t.Errorf("ambiguous data_size: error = %v, want ErrUnknownName", err)
	}
	v, err := s.resolve("model.data_size")
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := v.valueOf(s.runs[0]); !ok || got.num != 120 {
		t.Errorf("model.data_size = %+v, want 120", got)
	}
	_, err = s.resolve("depth")
	if !errors.Is(err, ErrUnknownName) {
		t.Fatalf("depth: error = %v, want ErrUnknownName", err)
	}
	for _, listed := range []string{"test_loss", "width", "dataset.data_size"} {
		if !strings.Contains(err.Error(), listed) {
			t.Errorf("error %q does not list %s", err, listed)
		}
	}
}

func TestAggregateMeanStd(t *testing.T) {
	g := &metaGroup{samples: []sample{
		{x: value{text: "16", num: 16, isNum: true}, y: 2},
		{x: value{text: "8", num: 8, isNum: true}, y: 1},
		{x: value{text: "8", num: 8, isNum: true}, y: 3},
		{x: value{text: "8.0", num: 8, isNum: true}, y: 5},
	}}

	st := g.aggregate()
	if len(st) != 2 {
		t.Fatalf("got %d abscissa values, want 8 and 16", len(st))
	}
	if st[0].x.num != 8 || st[0].n != 3 || st[0].mean != 3 {
		t.Errorf("at 8: %+v, want 3 runs with mean 3", st[0])
	}
	if math.Abs(st[0].stdev-2) > 1e-12 {
		t.Errorf("at 8: stdev %v, want 2 (divides by n−1)", st[0].stdev)
	}
	if st[1].n != 1 || st[1].mean != 2 || st[1].stdev != 0 {
		t.Errorf("at 16: %+v, want one run, mean 2, stdev 0", st[1])
	}
}
