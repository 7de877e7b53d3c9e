package analysis

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rsc.io/pdf"
)

// pdfPages returns the number of pages of the PDF at path.
func pdfPages(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	r, err := pdf.NewReader(f, info.Size())
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return r.NumPage()
}

func TestPlotMetaPDFPages(t *testing.T) {
	db := irisFixture(t)
	out := filepath.Join(t.TempDir(), "meta.pdf")

	files, err := PlotMeta(context.Background(), db, filepath.Join("testdata", "golden.plot.ini"), out)
	if err != nil {
		t.Fatal(err)
	}

	if len(files) != 1 || files[0] != out {
		t.Fatalf("files = %v, want only %s", files, out)
	}
	if n := pdfPages(t, out); n != 3 {
		t.Errorf("PDF has %d pages, want one per section", n)
	}
}

func TestPlotMetaExamples(t *testing.T) {
	db := irisFixture(t)
	for _, name := range []string{"iris.plot.ini", "diabetes.plot.ini"} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "meta.svg")

			files, err := PlotMeta(context.Background(), db, filepath.Join("..", "examples", name), out)
			if err != nil {
				t.Fatal(err)
			}
			if len(files) != 3 {
				t.Fatalf("files = %v, want 3", files)
			}
			for _, f := range files {
				svg, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(svg), "<svg") {
					t.Errorf("%s is not an SVG image", f)
				}
			}
		})
	}
}

func TestPlotMetaUnknownName(t *testing.T) {
	db := irisFixture(t)
	path := writePlotINI(t, "[plot_1]\nabscissae = depth\nordinates = test_loss\n")
	out := filepath.Join(t.TempDir(), "meta.png")

	_, err := PlotMeta(context.Background(), db, path, out)
	if !errors.Is(err, ErrUnknownName) {
		t.Fatalf("error = %v, want ErrUnknownName", err)
	}
	for _, want := range []string{path, "[plot_1]", "abscissae", "depth", "nb_params", "width"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, statErr := os.Stat(out); !os.IsNotExist(statErr) {
		t.Errorf("%s was written for a failing plot file", out)
	}
}

func TestPlotMetaNoMatchingRun(t *testing.T) {
	db := irisFixture(t)
	path := writePlotINI(t, "[plot_1]\nabscissae = width\nordinates = test_loss\ninclude_keys = dataset\ninclude_values = mnist\n")

	_, err := PlotMeta(context.Background(), db, path, filepath.Join(t.TempDir(), "meta.pdf"))
	if !errors.Is(err, ErrNoRuns) {
		t.Errorf("error = %v, want ErrNoRuns", err)
	}
}

func TestPlotMetaTextOrdinate(t *testing.T) {
	db := irisFixture(t)
	path := writePlotINI(t, "[plot_1]\nabscissae = width\nordinates = activation\n")

	_, err := PlotMeta(context.Background(), db, path, filepath.Join(t.TempDir(), "meta.pdf"))
	if err == nil || !strings.Contains(err.Error(), `"relu", expected a number`) {
		t.Errorf("error = %v, want a text ordinate rejected", err)
	}
}

func TestPlotMetaTextAbscissa(t *testing.T) {
	db := irisFixture(t)
	path := writePlotINI(t, "[plot_1]\nabscissae = activation\nordinates = test_loss\nplot_type = point\n")

	files, err := PlotMeta(context.Background(), db, path, filepath.Join(t.TempDir(), "meta.png"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 {
		t.Errorf("files = %v, want one", files)
	}
}

func TestPlotMetaLogSingleValue(t *testing.T) {
	db := irisFixture(t)
	path := writePlotINI(t, `[plot_1]
abscissae = width
ordinates = test_loss
include_keys = width, length
include_values = 8, 1
excludes = length
log_x = true
log_y = true
`)

	files, err := PlotMeta(context.Background(), db, path, filepath.Join(t.TempDir(), "meta.png"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 {
		t.Errorf("files = %v, want one", files)
	}
}

func TestPlotMetaRejectsExtension(t *testing.T) {
	db := irisFixture(t)

	_, err := PlotMeta(context.Background(), db, filepath.Join("testdata", "golden.plot.ini"), filepath.Join(t.TempDir(), "meta.gif"))
	if err == nil || !strings.Contains(err.Error(), `".gif"`) {
		t.Errorf("error = %v, want the extension rejected", err)
	}
}

func TestStylesDistinct(t *testing.T) {
	seen := map[string]int{}
	for i := range 40 {
		s := styleOf(i)
		look := fmt.Sprintf("%v|%T|%v", s.color, s.glyph.Shape, s.line.Dashes)
		if prev, ok := seen[look]; ok {
			t.Errorf("groups %d and %d look the same: %s", prev, i, look)
		}
		seen[look] = i
	}
}
