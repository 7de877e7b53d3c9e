package analysis

import (
	"image"
	"image/color"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// groupOf returns a group with the samples ys at each abscissa in xs.
func groupOf(legend string, xs []float64, ys ...float64) *metaGroup {
	g := &metaGroup{legend: legend}
	for _, x := range xs {
		for _, y := range ys {
			g.samples = append(g.samples, sample{x: value{num: x, isNum: true}, y: y})
		}
	}
	return g
}

// closestColor returns the distance, the largest channel difference, from
// want to the closest pixel of img in the column x between rows y0 and y1.
func closestColor(img image.Image, x, y0, y1 int, want color.NRGBA) int {
	best := 255
	for y := y0; y <= y1; y++ {
		got := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
		d := max(absDiff(got.R, want.R), absDiff(got.G, want.G), absDiff(got.B, want.B))
		best = min(best, d)
	}
	return best
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func TestFilledBandsUnderLines(t *testing.T) {
	// The second group's band, from 0.7 to 1.7, covers the first group's
	// line at 1.
	xs := []float64{0, 1, 2}
	sel := &selection{groups: []*metaGroup{
		groupOf("first", xs, 1, 1),
		groupOf("second", xs, 0.7, 1.7),
	}}
	f := &metaFigure{plot: plot.New(), legend: plot.NewLegend()}
	if err := f.addMeans(sel, nil, MetaPlot{Type: LinePlot, ErrorBars: Filled}); err != nil {
		t.Fatal(err)
	}

	// At 288 dpi a pixel is a quarter point, so the 1.5 pt line covers
	// whole pixels.
	const dpi = 288
	width, height := 4*vg.Inch, 3*vg.Inch
	img := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(dpi))
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	f.plot.Draw(dc)

	// Between two markers, where only the line and the bands are drawn.
	data := f.plot.DataCanvas(dc)
	trX, trY := f.plot.Transforms(&data)
	scale := float64(dpi) / 72
	px := int(float64(trX(0.5)) * scale)
	py := int(float64(height-trY(1)) * scale)
	if d := closestColor(img.Image(), px, py-3, py+3, styleOf(0).color); d > 4 {
		t.Errorf("first group's line under the second group's band: closest pixel is %d off its colour", d)
	}
}
