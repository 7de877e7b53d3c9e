package analysis

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writePlotINI(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "study.plot.ini")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadMetaConfig(t *testing.T) {
	path := writePlotINI(t, `
[global]
file_title = Sizes

[plot_10]
abscissae = width
ordinates = test_loss

[plot_2]
title = Loss
abscissae = nb_params
ordinates = test_loss
include_keys = dataset, width, length
include_values = [dataset_OR], [30, 60], 3
excludes = width, length
plot_type = line
errorbars_style = filled
log_y = true
`)

	cfg, err := LoadMetaConfig(path)
	if err != nil {
		t.Fatal(err)
	}

	if cfg.FileTitle != "Sizes" {
		t.Errorf("FileTitle = %q", cfg.FileTitle)
	}
	if len(cfg.Plots) != 2 || cfg.Plots[0].Section != "plot_2" || cfg.Plots[1].Section != "plot_10" {
		t.Fatalf("plots %+v, want plot_2 then plot_10", cfg.Plots)
	}
	p := cfg.Plots[0]
	want := MetaPlot{
		Section: "plot_2", Title: "Loss", Abscissa: "nb_params", Ordinate: "test_loss",
		Type: LinePlot, ErrorBars: Filled,
		IncludeKeys:   []string{"dataset", "width", "length"},
		IncludeValues: [][]string{{"dataset_OR"}, {"30", "60"}, {"3"}},
		Excludes:      []string{"width", "length"},
		LogY:          true,
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("plot_2 = %+v\nwant %+v", p, want)
	}
	if d := cfg.Plots[1]; d.Type != LinePlot || d.ErrorBars != Bars {
		t.Errorf("defaults: plot_type %q, errorbars_style %q, want line and bars", d.Type, d.ErrorBars)
	}
}

func TestLoadMetaConfigErrors(t *testing.T) {
	cases := []struct {
		name, text string
		// want are fragments the error must contain.
		want []string
	}{
		{"no plot", "[global]\nfile_title = x\n", []string{"no [plot_N] section"}},
		{"missing ordinates", "[plot_1]\nabscissae = width\n", []string{"[plot_1]", "ordinates", "missing"}},
		{"two ordinates", "[plot_1]\nabscissae = width\nordinates = a, b\n", []string{"[plot_1]", "ordinates", `"a, b"`, "expected one"}},
		{"bad type", "[plot_1]\nabscissae = w\nordinates = l\nplot_type = bar\n", []string{"[plot_1]", "plot_type", `"bar"`, "line, point or violin"}},
		{"bad style", "[plot_1]\nabscissae = w\nordinates = l\nerrorbars_style = band\n", []string{"errorbars_style", `"band"`, "bars or filled"}},
		{"band on points", "[plot_1]\nabscissae = w\nordinates = l\nplot_type = point\nerrorbars_style = filled\n", []string{"errorbars_style = filled", "plot_type = line"}},
		{"unknown key", "[plot_1]\nabscissae = w\nordinates = l\nexclude = width\n", []string{"[plot_1]", "unknown key exclude", "excludes"}},
		{"count mismatch", "[plot_1]\nabscissae = w\nordinates = l\ninclude_keys = a, b\ninclude_values = [1, 2]\n", []string{"include_values", "1 values for 2 include_keys"}},
		{"unclosed", "[plot_1]\nabscissae = w\nordinates = l\ninclude_keys = a\ninclude_values = [1, 2\n", []string{"include_values", "unclosed"}},
		{"bad section", "[plots]\nabscissae = w\n", []string{"[plots]", "unknown section"}},
		{"bad number", "[plot_a]\nabscissae = w\nordinates = l\n", []string{"[plot_a]", "plot_ followed by a number"}},
		{"bad bool", "[plot_1]\nabscissae = w\nordinates = l\nlog_x = maybe\n", []string{"log_x", `"maybe"`, "true or false"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writePlotINI(t, c.text)

			_, err := LoadMetaConfig(path)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestSplitTopLevel(t *testing.T) {
	got, err := splitTopLevel("[dataset_OR], [30, 60], 3")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"[dataset_OR]", "[30, 60]", "3"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, _ := splitTopLevel(""); len(got) != 0 {
		t.Errorf("empty input gave %q", got)
	}
	if _, err := splitTopLevel("1,,2"); err == nil {
		t.Error("empty item accepted")
	}
}
