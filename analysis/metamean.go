package analysis

import (
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// meanSeries is one group's means and standard deviations, ready to plot.
type meanSeries struct {
	plotter.XYs
	plotter.YErrors
}

// series turns a group's statistics into plot coordinates, leaving out
// what a log axis cannot show. Under a log y axis a lower error bar that
// would reach zero or below ends at a tenth of the mean instead.
func (g *metaGroup) series(categories *categoryAxis, spec MetaPlot) meanSeries {
	var s meanSeries
	for _, st := range g.aggregate() {
		x := categories.xOf(st.x)
		if !validForLog(x, spec.LogX && categories == nil) || !validForLog(st.mean, spec.LogY) {
			continue
		}
		low := st.stdev
		if spec.LogY && st.mean-low <= 0 {
			low = st.mean * 0.9
		}
		s.XYs = append(s.XYs, plotter.XY{X: x, Y: st.mean})
		s.YErrors = append(s.YErrors, struct{ Low, High float64 }{low, st.stdev})
	}
	return s
}

// addMeans draws each group's mean at each abscissa value with one standard
// deviation: error bars, or for a line plot with errorbars_style = filled a
// translucent band. The bands and bars of every group are drawn first and
// the lines and markers over them, so that no band tints another group's
// line.
func (f *metaFigure) addMeans(sel *selection, categories *categoryAxis, spec MetaPlot) error {
	var spreads, marks []plot.Plotter
	for i, g := range sel.groups {
		style := styleOf(i)
		s := g.series(categories, spec)
		if len(s.XYs) == 0 {
			continue
		}

		var thumbs []plot.Thumbnailer
		// A band needs two points; a lone point gets an error bar.
		if spec.Type == LinePlot && spec.ErrorBars == Filled && len(s.XYs) > 1 {
			band, err := newBand(s, style)
			if err != nil {
				return fmt.Errorf("draw band of %s: %w", g.legend, err)
			}
			spreads = append(spreads, band)
			thumbs = append(thumbs, band)
		} else {
			bars, err := plotter.NewYErrorBars(s)
			if err != nil {
				return fmt.Errorf("draw error bars of %s: %w", g.legend, err)
			}
			bars.LineStyle = style.line
			bars.LineStyle.Dashes = nil
			bars.LineStyle.Width = vg.Points(1)
			spreads = append(spreads, bars)
		}

		if spec.Type == LinePlot {
			line, err := plotter.NewLine(s.XYs)
			if err != nil {
				return fmt.Errorf("draw line of %s: %w", g.legend, err)
			}
			line.LineStyle = style.line
			marks = append(marks, line)
			thumbs = append(thumbs, line)
		}
		points, err := plotter.NewScatter(s.XYs)
		if err != nil {
			return fmt.Errorf("draw points of %s: %w", g.legend, err)
		}
		points.GlyphStyle = style.glyph
		marks = append(marks, points)
		f.legend.Add(g.legend, append(thumbs, points)...)
	}
	f.plot.Add(spreads...)
	f.plot.Add(marks...)
	return nil
}

// newBand returns the polygon between mean − σ and mean + σ.
func newBand(s meanSeries, style groupStyle) (*plotter.Polygon, error) {
	outline := make(plotter.XYs, 0, 2*len(s.XYs))
	for i, p := range s.XYs {
		outline = append(outline, plotter.XY{X: p.X, Y: p.Y + s.YErrors[i].High})
	}
	for i := len(s.XYs) - 1; i >= 0; i-- {
		p := s.XYs[i]
		outline = append(outline, plotter.XY{X: p.X, Y: p.Y - s.YErrors[i].Low})
	}
	band, err := plotter.NewPolygon(outline)
	if err != nil {
		return nil, err
	}
	band.Color = translucent(style.color, 0.25)
	band.LineStyle.Width = 0
	return band, nil
}

// addViolins draws, at each abscissa value, one violin per group side by
// side.
func (f *metaFigure) addViolins(sel *selection, categories *categoryAxis, spec MetaPlot) error {
	slot := 0.8 / float64(len(sel.groups))
	for i, g := range sel.groups {
		style := styleOf(i)
		var first *violin
		for _, st := range g.aggregate() {
			ys := positive(st.ys, spec.LogY)
			if len(ys) == 0 {
				continue
			}
			center := categories.xOf(st.x) - 0.4 + (float64(i)+0.5)*slot
			// Under a log axis ys are positive, and the violin does not
			// reach below the smallest of them.
			v := newViolin(center, slot*0.45, ys, style)
			f.plot.Add(v)
			if first == nil {
				first = v
			}
		}
		if first != nil {
			f.legend.Add(g.legend, first)
		}
	}
	return nil
}

// positive returns the positive values of ys when onlyPositive is set, ys
// otherwise.
func positive(ys []float64, onlyPositive bool) []float64 {
	if !onlyPositive {
		return ys
	}
	var out []float64
	for _, y := range ys {
		if y > 0 {
			out = append(out, y)
		}
	}
	return out
}
