package analysis

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/mosaic-go/mosaic/analysis/kde"
)

// violinPoints is the number of heights at which a violin's density is
// evaluated.
const violinPoints = 64

// violin draws the Gaussian kernel density of ys mirrored about x = center,
// scaled so the widest point is halfWidth on each side, with the mean
// marked. The density is drawn only between the smallest and the largest
// sample, like seaborn's violinplot with cut=0, so a violin shows no value
// beyond the observed ones, such as an accuracy above 1. Its ends are flat
// where the density is not zero. Samples that are all equal, or a single
// sample, give a flat line at their value, because their bandwidth is zero.
type violin struct {
	center    float64
	halfWidth float64
	ys        []float64
	style     groupStyle

	heights []float64
	widths  []float64 // density at heights, scaled to [0, 1]
	mean    float64
}

var (
	_ plot.Plotter    = (*violin)(nil)
	_ plot.DataRanger = (*violin)(nil)
)

func newViolin(center, halfWidth float64, ys []float64, style groupStyle) *violin {
	v := &violin{center: center, halfWidth: halfWidth, ys: ys, style: style}
	sum := 0.0
	for _, y := range ys {
		sum += y
	}
	v.mean = sum / float64(len(ys))

	estimate, err := kde.New(ys)
	if err != nil {
		return v // flat: no density to draw
	}
	lo, hi := estimate.Support(0)
	maxDensity := 0.0
	for i := range violinPoints {
		y := lo + (hi-lo)*float64(i)/(violinPoints-1)
		d := estimate.Density(y)
		v.heights = append(v.heights, y)
		v.widths = append(v.widths, d)
		maxDensity = math.Max(maxDensity, d)
	}
	for i := range v.widths {
		v.widths[i] /= maxDensity
	}
	return v
}

// Plot draws the violin outline, its fill and the mean.
func (v *violin) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)

	if len(v.heights) == 0 {
		y := trY(v.mean)
		line := []vg.Point{{X: trX(v.center - v.halfWidth), Y: y}, {X: trX(v.center + v.halfWidth), Y: y}}
		c.StrokeLines(v.style.line, c.ClipLinesXY(line)...)
	} else {
		outline := make([]vg.Point, 0, 2*len(v.heights)+1)
		for i, y := range v.heights {
			outline = append(outline, vg.Point{X: trX(v.center + v.widths[i]*v.halfWidth), Y: trY(y)})
		}
		for i := len(v.heights) - 1; i >= 0; i-- {
			outline = append(outline, vg.Point{X: trX(v.center - v.widths[i]*v.halfWidth), Y: trY(v.heights[i])})
		}
		c.FillPolygon(translucent(v.style.color, 0.35), c.ClipPolygonXY(outline))
		outline = append(outline, outline[0])
		solid := v.style.line
		solid.Width = vg.Points(1)
		c.StrokeLines(solid, c.ClipLinesXY(outline)...)
	}

	mean := vg.Point{X: trX(v.center), Y: trY(v.mean)}
	if c.Contains(mean) {
		c.DrawGlyph(draw.GlyphStyle{Color: color.White, Radius: vg.Points(3.5), Shape: draw.CircleGlyph{}}, mean)
		c.DrawGlyph(draw.GlyphStyle{Color: v.style.color, Radius: vg.Points(3.5), Shape: draw.RingGlyph{}}, mean)
	}
}

// DataRange returns the violin's extent in data coordinates.
func (v *violin) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = v.center-v.halfWidth, v.center+v.halfWidth
	if len(v.heights) == 0 {
		return xmin, xmax, v.mean, v.mean
	}
	return xmin, xmax, v.heights[0], v.heights[len(v.heights)-1]
}

// Thumbnail draws the legend swatch: a filled box in the group's colour.
func (v *violin) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{
		{X: c.Min.X, Y: c.Min.Y}, {X: c.Min.X, Y: c.Max.Y},
		{X: c.Max.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Min.Y},
	}
	c.FillPolygon(translucent(v.style.color, 0.35), pts)
	solid := v.style.line
	solid.Width = vg.Points(1)
	c.StrokeLines(solid, append(pts, pts[0]))
}
