package analysis

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Meta-plot page size.
var (
	metaWidth  = 8 * vg.Inch
	metaHeight = 5.5 * vg.Inch
)

// PlotMeta draws the figures of the plot INI file at iniPath from the runs
// in db, one page per [plot_N] section, and returns the files written. The
// format comes from out's extension: .pdf gives one multi-page file, .png
// and .svg give one file per section (out itself when there is one section,
// out's name with _1, _2, … otherwise).
func PlotMeta(ctx context.Context, db *sql.DB, iniPath, out string) ([]string, error) {
	cfg, err := LoadMetaConfig(iniPath)
	if err != nil {
		return nil, err
	}
	s, err := loadStudy(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("plot %s: %w", iniPath, err)
	}

	// Build every figure before writing, so a bad section leaves no file.
	figures := make([]*metaFigure, len(cfg.Plots))
	for i, p := range cfg.Plots {
		if figures[i], err = buildFigure(s, p); err != nil {
			return nil, fmt.Errorf("plot %s: %w", iniPath, err)
		}
	}

	pages, err := newPageWriter(out, metaWidth, metaHeight, len(figures))
	if err != nil {
		return nil, err
	}
	for _, f := range figures {
		dc, err := pages.next()
		if err != nil {
			return nil, err
		}
		f.draw(dc, cfg.FileTitle)
	}
	return pages.close()
}

// metaFigure is one drawn [plot_N] section: the plot and its legend, which
// is drawn beside the plot so it never hides data.
type metaFigure struct {
	plot   *plot.Plot
	legend plot.Legend
}

// buildFigure selects, groups and draws one section into a plot.
func buildFigure(s *study, spec MetaPlot) (*metaFigure, error) {
	sel, err := s.selectRuns(spec)
	if err != nil {
		return nil, err
	}

	p := plot.New()
	p.Title.Text = spec.Title
	if p.Title.Text == "" {
		p.Title.Text = spec.Ordinate + " vs " + spec.Abscissa
	}
	if note := sel.note(spec); note != "" {
		p.Title.Text += "\n" + note
	}
	p.X.Label.Text = spec.Abscissa
	p.Y.Label.Text = spec.Ordinate
	p.Add(plotter.NewGrid())

	f := &metaFigure{plot: p, legend: plot.NewLegend()}
	f.legend.Top, f.legend.Left = true, true
	f.legend.TextStyle.Font.Size = vg.Points(9)
	f.legend.Padding = vg.Points(3)

	categories := sel.categories(spec.Type == ViolinPlot)
	if categories != nil {
		p.NominalX(categories.names...)
	}
	if spec.Type == ViolinPlot {
		err = f.addViolins(sel, categories, spec)
	} else {
		err = f.addMeans(sel, categories, spec)
	}
	if err != nil {
		return nil, fmt.Errorf("[%s]: %w", spec.Section, err)
	}
	setLogScales(p, spec, categories != nil)
	return f, nil
}

// note returns how many matched runs the figure leaves out, and why.
func (sel *selection) note(spec MetaPlot) string {
	var parts []string
	if sel.skippedY > 0 {
		parts = append(parts, fmt.Sprintf("%d runs without a finite %s", sel.skippedY, spec.Ordinate))
	}
	if sel.skippedX > 0 {
		parts = append(parts, fmt.Sprintf("%d runs without %s", sel.skippedX, spec.Abscissa))
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("(%d of %d matching runs skipped: %s)", sel.skippedX+sel.skippedY, sel.matched, strings.Join(parts, ", "))
}

// categoryAxis places text or violin abscissa values at 0, 1, 2, ….
type categoryAxis struct {
	names    []string
	position map[string]float64
}

// categories returns nil when the abscissa is numeric and not forced to
// categories, as a violin plot's is.
func (sel *selection) categories(force bool) *categoryAxis {
	var xs []value
	numeric := true
	for _, g := range sel.groups {
		for _, st := range g.aggregate() {
			xs = append(xs, st.x)
			numeric = numeric && st.x.isNum
		}
	}
	if numeric && !force {
		return nil
	}

	sort.SliceStable(xs, func(i, j int) bool { return lessValue(xs[i], xs[j]) })
	axis := &categoryAxis{position: map[string]float64{}}
	for _, x := range xs {
		if _, ok := axis.position[x.text]; ok {
			continue
		}
		axis.position[x.text] = float64(len(axis.names))
		axis.names = append(axis.names, x.text)
	}
	return axis
}

func (a *categoryAxis) xOf(v value) float64 {
	if a == nil {
		return v.num
	}
	return a.position[v.text]
}

// setLogScales switches the axes that log_x and log_y select to a log scale.
// Non-positive values have been left out by the plotters.
func setLogScales(p *plot.Plot, spec MetaPlot, categorical bool) {
	if spec.LogX && !categorical && p.X.Min > 0 {
		useLogScale(&p.X)
	}
	if spec.LogY && p.Y.Min > 0 {
		useLogScale(&p.Y)
	}
}

// draw lays out the page: the file title on top, the plot, and the legend
// in a column on the right.
func (f *metaFigure) draw(dc draw.Canvas, fileTitle string) {
	const pad = 8
	area := draw.Crop(dc, vg.Points(pad), -vg.Points(pad), vg.Points(pad), -vg.Points(pad))
	if fileTitle != "" {
		style := f.plot.Title.TextStyle
		style.Font.Size = vg.Points(14)
		style.XAlign, style.YAlign = draw.XCenter, draw.YTop
		area.FillText(style, vg.Point{X: (area.Min.X + area.Max.X) / 2, Y: area.Max.Y}, fileTitle)
		area = draw.Crop(area, 0, 0, 0, -style.Height(fileTitle)-vg.Points(6))
	}

	legendWidth := f.legend.Rectangle(area).Size().X + vg.Points(pad)
	if maxWidth := area.Size().X * 0.4; legendWidth > maxWidth {
		legendWidth = maxWidth
	}
	f.plot.Draw(draw.Crop(area, 0, -legendWidth, 0, 0))
	f.legend.Draw(draw.Crop(area, area.Size().X-legendWidth+vg.Points(pad), 0, 0, -vg.Points(24)))
}

// validForLog reports whether a value can sit on the axis, which under a
// log scale must be positive.
func validForLog(v float64, log bool) bool {
	return !log || v > 0
}
