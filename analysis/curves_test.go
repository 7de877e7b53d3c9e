package analysis

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mosaic-go/mosaic/result"
)

func TestPlotCurvesPDFPages(t *testing.T) {
	db := irisFixture(t)
	out := filepath.Join(t.TempDir(), "curves.pdf")

	written, err := PlotCurves(context.Background(), db, CurvesOptions{Out: out})
	if err != nil {
		t.Fatal(err)
	}

	// 38 runs at the default 4 per page.
	if written.Pages != 10 {
		t.Errorf("PlotCurves returned %d pages, want 10", written.Pages)
	}
	if want := []string{out}; !slices.Equal(written.Files, want) {
		t.Errorf("PlotCurves returned files %v, want %v", written.Files, want)
	}
	if n := pdfPages(t, out); n != 10 {
		t.Errorf("PDF has %d pages, want 10", n)
	}
}

func TestPlotCurvesPerPage(t *testing.T) {
	db := irisFixture(t)
	out := filepath.Join(t.TempDir(), "curves.png")

	written, err := PlotCurves(context.Background(), db, CurvesOptions{Where: "status = 'done'", PerPage: 9, Out: out})
	if err != nil {
		t.Fatal(err)
	}

	if written.Pages != 4 {
		t.Fatalf("wrote %d pages, want 36 done runs / 9 = 4", written.Pages)
	}
	var want []string
	for i := 1; i <= written.Pages; i++ {
		want = append(want, filepath.Join(filepath.Dir(out), fmt.Sprintf("curves_%d.png", i)))
	}
	if !slices.Equal(written.Files, want) {
		t.Errorf("PlotCurves returned files %v, want %v", written.Files, want)
	}
	for _, path := range want {
		if _, err := os.Stat(path); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s exists beside the numbered pages", out)
	}
}

func TestPlotCurvesInvalidCondition(t *testing.T) {
	db := irisFixture(t)

	_, err := PlotCurves(context.Background(), db, CurvesOptions{Where: "depth > 2", Out: filepath.Join(t.TempDir(), "c.pdf")})
	if err == nil || !strings.Contains(err.Error(), "no such column: depth") {
		t.Errorf("error = %v, want SQLite's message", err)
	}
}

func TestPlotCurvesRejectsSecondStatement(t *testing.T) {
	db := irisFixture(t)

	_, err := PlotCurves(context.Background(), db, CurvesOptions{Where: "1; DELETE FROM runs", Out: filepath.Join(t.TempDir(), "c.pdf")})
	if err == nil || !strings.Contains(err.Error(), `";"`) {
		t.Errorf("error = %v, want the semicolon rejected", err)
	}
	if _, err := PlotCurves(context.Background(), db, CurvesOptions{Where: "label <> 'a;b'", Out: filepath.Join(t.TempDir(), "c.pdf")}); err != nil {
		t.Errorf("semicolon inside a literal: %v", err)
	}
}

func TestPlotCurvesNoRun(t *testing.T) {
	db := irisFixture(t)
	out := filepath.Join(t.TempDir(), "c.pdf")

	_, err := PlotCurves(context.Background(), db, CurvesOptions{Where: "nb_params < 0", Out: out})
	if !errors.Is(err, ErrNoRuns) {
		t.Errorf("error = %v, want ErrNoRuns", err)
	}
	if _, statErr := os.Stat(out); !os.IsNotExist(statErr) {
		t.Errorf("%s was written with no run selected", out)
	}
}

func TestPlotCurvesLogYNonPositive(t *testing.T) {
	odd := irisResult(irisRun{"mlp_brick", 8, 1, 0, result.StatusDone, 6})
	odd.Curves.TrainLoss = []float64{1, 0, -0.5, math.Inf(1), math.NaN(), 0.2}
	empty := irisResult(irisRun{"mlp_brick", 8, 1, 1, result.StatusDone, 3})
	empty.Curves.TrainLoss = []float64{0, -1, 0}
	empty.Curves.TestLoss = []float64{0, 0, -2}
	single := irisResult(irisRun{"mlp_brick", 8, 1, 2, result.StatusDone, 1})
	single.Curves.TrainLoss = []float64{0.5}
	single.Curves.TestLoss = []float64{0.5}
	db := openFixture(t, []*result.Result{odd, empty, single})

	out := filepath.Join(t.TempDir(), "c.png")
	written, err := PlotCurves(context.Background(), db, CurvesOptions{LogY: true, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	if written.Pages != 1 || !slices.Equal(written.Files, []string{out}) {
		t.Errorf("wrote %d pages to %v, want 1 page to %s", written.Pages, written.Files, out)
	}

	xys := finiteXYs(odd.Curves.TrainLoss, true)
	if len(xys) != 2 || xys[0].X != 1 || xys[1].X != 6 {
		t.Errorf("log-scale points %v, want epochs 1 and 6", xys)
	}
}

func TestPlotCurvesNegativePerPage(t *testing.T) {
	db := irisFixture(t)

	_, err := PlotCurves(context.Background(), db, CurvesOptions{PerPage: -1, Out: filepath.Join(t.TempDir(), "c.pdf")})
	if err == nil {
		t.Error("negative per-page accepted")
	}
}

// BenchmarkPlotCurves1000 draws a 250-page PDF of 1,000 runs of 50 epochs.
func BenchmarkPlotCurves1000(b *testing.B) {
	var results []*result.Result
	for i := range 1000 {
		r := irisResult(irisRun{"mlp_brick", 8 + i/4, 1 + i%2, i % 4, result.StatusDone, 50})
		if i%97 == 0 {
			r = irisResult(irisRun{"mlp_funnel", 8 + i/4, 1 + i%2, i % 4, result.StatusDiverged, 20})
		}
		results = append(results, r)
	}
	db := openFixture(b, results)
	out := filepath.Join(b.TempDir(), "curves.pdf")
	b.ResetTimer()

	for range b.N {
		written, err := PlotCurves(context.Background(), db, CurvesOptions{Out: out})
		if err != nil {
			b.Fatal(err)
		}
		if written.Pages != 250 {
			b.Fatalf("wrote %d pages, want 250", written.Pages)
		}
	}
	b.StopTimer()

	info, err := os.Stat(out)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(info.Size())/1e6, "MB/pdf")
}
