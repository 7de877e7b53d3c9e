package analysis

import (
	"database/sql"
	"fmt"
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// maxTitleRunes is the length at which a panel title's label is cut, so
// that it fits the width of a panel at four panels per page.
const maxTitleRunes = 70

// curvePanel builds the panel of one run.
func curvePanel(r curveRun, train, test []float64, logY bool) *plot.Plot {
	p := plot.New()
	p.Title.Text = panelTitle(r)
	p.Title.TextStyle.Font.Size = vg.Points(9)
	p.X.Tick.Label.Font.Size = vg.Points(7)
	p.Y.Tick.Label.Font.Size = vg.Points(7)
	p.X.Label.TextStyle.Font.Size = vg.Points(8)
	p.Y.Label.TextStyle.Font.Size = vg.Points(8)

	if r.status != "done" {
		return notePanel(p, statusLines(r))
	}
	trainXYs := finiteXYs(train, logY)
	testXYs := finiteXYs(test, logY)
	if len(trainXYs) == 0 && len(testXYs) == 0 {
		reason := "no finite loss stored"
		if logY {
			reason = "no positive loss stored, so nothing to show on a log scale"
		}
		return notePanel(p, []string{reason, fmt.Sprintf("epochs: %d", r.epochs)})
	}

	p.X.Label.Text = "epoch"
	p.Y.Label.Text = "loss"
	p.Add(plotter.NewGrid())
	box := &legendBox{legend: plot.NewLegend()}
	box.legend.TextStyle.Font.Size = vg.Points(7)
	box.legend.ThumbnailWidth = vg.Points(18)

	for _, series := range []struct {
		name   string
		xys    plotter.XYs
		dashes []vg.Length
		color  color.Color
	}{
		{"train loss", trainXYs, nil, palette[0]},
		{"test loss", testXYs, []vg.Length{vg.Points(5), vg.Points(3)}, palette[1]},
	} {
		if len(series.xys) == 0 {
			continue
		}
		line, err := plotter.NewLine(series.xys)
		if err != nil {
			continue // finiteXYs keeps only finite values, which NewLine accepts
		}
		line.Color = series.color
		line.Width = vg.Points(1.2)
		line.Dashes = series.dashes
		p.Add(line)
		box.legend.Add(series.name, line)
	}
	for _, text := range indicatorLines(r) {
		box.legend.Add(text)
	}
	p.Add(box)

	if logY {
		useLogScale(&p.Y)
	}
	return p
}

func panelTitle(r curveRun) string {
	label := r.label
	if runes := []rune(label); len(runes) > maxTitleRunes {
		label = string(runes[:maxTitleRunes-1]) + "…"
	}
	params := "parameters unknown"
	if r.nbParams.Valid {
		params = fmt.Sprintf("%d parameters", r.nbParams.Int64)
	}
	return fmt.Sprintf("%s\nrun %s, replica %d, %s", label, r.id, r.replica, params)
}

// finiteXYs pairs epochs (1-based) with losses, leaving out NaN, ±Inf and,
// on a log scale, values ≤ 0.
func finiteXYs(losses []float64, logY bool) plotter.XYs {
	var xys plotter.XYs
	for e, y := range losses {
		if math.IsNaN(y) || math.IsInf(y, 0) || (logY && y <= 0) {
			continue
		}
		xys = append(xys, plotter.XY{X: float64(e + 1), Y: y})
	}
	return xys
}

// indicatorLines are the legend lines of a done run's indicators.
func indicatorLines(r curveRun) []string {
	lines := []string{
		"overfitting " + formatIndicator(r.overfitting),
		"trainability " + formatIndicator(r.trainability),
	}
	slope := "slope " + formatIndicator(r.slope)
	if r.sigmaPlus.Valid || r.sigmaMinus.Valid {
		slope += fmt.Sprintf(" (σ+ %s, σ− %s)", formatIndicator(r.sigmaPlus), formatIndicator(r.sigmaMinus))
	}
	return append(lines, slope)
}

func formatIndicator(x sql.NullFloat64) string {
	if !x.Valid {
		return "n/a"
	}
	return strconv.FormatFloat(x.Float64, 'g', 3, 64)
}

// statusLines state why a run has no curve to draw.
func statusLines(r curveRun) []string {
	lines := []string{"status: " + r.status}
	if r.divergedEpoch.Valid {
		lines = append(lines, fmt.Sprintf("diverged at epoch %d", r.divergedEpoch.Int64))
	}
	lines = append(lines, fmt.Sprintf("epochs done: %d", r.epochs))
	if r.errorText.Valid && r.errorText.String != "" {
		lines = append(lines, wrapText("error: "+r.errorText.String, 60, 4)...)
	}
	return lines
}

// wrapText splits text into at most maxLines lines of about width runes.
func wrapText(text string, width, maxLines int) []string {
	var lines []string
	var line []string
	length := 0
	for _, word := range strings.Fields(text) {
		if length > 0 && length+1+len([]rune(word)) > width {
			lines = append(lines, strings.Join(line, " "))
			line, length = nil, 0
		}
		line = append(line, word)
		length += len([]rune(word)) + 1
	}
	if len(line) > 0 {
		lines = append(lines, strings.Join(line, " "))
	}
	if len(lines) > maxLines {
		lines = append(lines[:maxLines-1], lines[maxLines-1]+" …")
	}
	return lines
}

// notePanel turns p into a panel without axes that shows lines of text.
func notePanel(p *plot.Plot, lines []string) *plot.Plot {
	p.HideAxes()
	p.Add(&noteText{lines: lines})
	return p
}

// noteText draws lines of text centred on the data area, in red.
type noteText struct {
	lines []string
}

// Plot draws the text.
func (n *noteText) Plot(c draw.Canvas, p *plot.Plot) {
	style := p.Title.TextStyle
	style.Font.Size = vg.Points(8)
	style.Color = color.NRGBA{0xb0, 0x1c, 0x1c, 0xff}
	style.XAlign, style.YAlign = draw.XCenter, draw.YCenter
	height := style.Height("M") * 1.3
	top := (c.Min.Y+c.Max.Y)/2 + height*vg.Length(len(n.lines)-1)/2
	for i, line := range n.lines {
		c.FillText(style, vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: top - height*vg.Length(i)}, line)
	}
	c.StrokeLines(draw.LineStyle{Color: color.Gray{0xc0}, Width: vg.Points(0.5)},
		[]vg.Point{c.Min, {X: c.Max.X, Y: c.Min.Y}, c.Max, {X: c.Min.X, Y: c.Max.Y}, c.Min})
}

// legendBox draws a legend in the top right corner of the data area on a
// white, outlined box.
type legendBox struct {
	legend plot.Legend
}

// Plot draws the box and the legend.
func (b *legendBox) Plot(c draw.Canvas, _ *plot.Plot) {
	const pad = 3
	size := b.legend.Rectangle(c).Size()
	box := vg.Rectangle{
		Min: vg.Point{X: c.Max.X - size.X - 3*pad, Y: c.Max.Y - size.Y - 3*pad},
		Max: vg.Point{X: c.Max.X - pad, Y: c.Max.Y - pad},
	}
	outline := []vg.Point{box.Min, {X: box.Max.X, Y: box.Min.Y}, box.Max, {X: box.Min.X, Y: box.Max.Y}}
	c.FillPolygon(color.NRGBA{0xff, 0xff, 0xff, 0xe0}, outline)
	c.StrokeLines(draw.LineStyle{Color: color.Gray{0x99}, Width: vg.Points(0.5)}, append(outline, box.Min))

	b.legend.Top, b.legend.Left = true, true
	inner := draw.Crop(c, box.Min.X-c.Min.X+pad, -(c.Max.X-box.Max.X)-pad, box.Min.Y-c.Min.Y+pad, -(c.Max.Y-box.Max.Y)-pad)
	b.legend.Draw(inner)
}
