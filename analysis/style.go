package analysis

import (
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

var whiteColor = color.White

// palette is the ten colours of the Tableau 10 palette.
var palette = []color.NRGBA{
	{0x1f, 0x77, 0xb4, 0xff}, {0xff, 0x7f, 0x0e, 0xff}, {0x2c, 0xa0, 0x2c, 0xff},
	{0xd6, 0x27, 0x28, 0xff}, {0x94, 0x67, 0xbd, 0xff}, {0x8c, 0x56, 0x4b, 0xff},
	{0xe3, 0x77, 0xc2, 0xff}, {0x7f, 0x7f, 0x7f, 0xff}, {0xbc, 0xbd, 0x22, 0xff},
	{0x17, 0xbe, 0xcf, 0xff},
}

// dashes are the line patterns that tell apart groups sharing a colour.
var dashes = [][]vg.Length{
	nil,
	{vg.Points(6), vg.Points(3)},
	{vg.Points(1.5), vg.Points(2)},
	{vg.Points(6), vg.Points(2), vg.Points(1.5), vg.Points(2)},
}

// glyphs are the marker shapes. There are 7, prime to the 10 colours, so
// colour and marker pairs repeat only after 70 groups.
var glyphs = []draw.GlyphDrawer{
	draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{},
	draw.PyramidGlyph{}, draw.PlusGlyph{}, draw.RingGlyph{},
}

// groupStyle is the look of one meta-plot group.
type groupStyle struct {
	color color.NRGBA
	line  draw.LineStyle
	glyph draw.GlyphStyle
}

// styleOf returns the style of group i. The colour cycles every 10 groups,
// the marker every 7, and the dash pattern changes every 10 groups, so no
// two of the first 40 groups share both colour and dash pattern.
func styleOf(i int) groupStyle {
	c := palette[i%len(palette)]
	return groupStyle{
		color: c,
		line: draw.LineStyle{
			Color:  c,
			Width:  vg.Points(1.5),
			Dashes: dashes[(i/len(palette))%len(dashes)],
		},
		glyph: draw.GlyphStyle{Color: c, Radius: vg.Points(3), Shape: glyphs[i%len(glyphs)]},
	}
}

// translucent returns c with the given opacity in [0, 1].
func translucent(c color.NRGBA, opacity float64) color.NRGBA {
	c.A = uint8(opacity * 255)
	return c
}

// useLogScale puts an axis on a log scale with logTicks. Its data range
// must be positive. A range of a single value is widened to a factor of two
// on each side first, because gonum widens it by ±1, which can reach zero.
func useLogScale(axis *plot.Axis) {
	if axis.Min == axis.Max {
		axis.Min /= 2
		axis.Max *= 2
	}
	axis.Scale = plot.LogScale{}
	axis.Tick.Marker = logTicks{}
}

// logTicks places log-scale ticks at k·10^d for k = 1…9 and labels the
// powers of ten. When fewer than two powers of ten fall in the range it
// also labels the 2× and 5× ticks, so an axis shorter than a decade still
// reads, and it falls back to linear ticks for a narrower range. gonum's plot.LogTicks is not used because it starts at the power
// of ten truncated toward zero, so a range from 0.13 to 1.2 gets no tick
// below 1.
type logTicks struct{}

// Ticks returns the ticks between min and max, which should be positive;
// other ranges get linear ticks.
func (logTicks) Ticks(min, max float64) []plot.Tick {
	if !(min > 0 && max > 0) || math.IsInf(max, 0) {
		return plot.DefaultTicks{}.Ticks(min, max)
	}
	first := int(math.Floor(math.Log10(min)))
	last := int(math.Ceil(math.Log10(max)))
	var ticks []plot.Tick
	powers := 0
	for d := first; d <= last; d++ {
		for k := 1; k <= 9; k++ {
			v := float64(k) * math.Pow10(d)
			if v < min*(1-1e-9) || v > max*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if k == 1 {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64)
				powers++
			}
			ticks = append(ticks, t)
		}
	}
	if powers >= 2 {
		return ticks
	}
	labelled := powers
	for i, t := range ticks {
		mantissa := t.Value / math.Pow10(int(math.Floor(math.Log10(t.Value)+1e-9)))
		if math.Abs(mantissa-2) < 1e-6 || math.Abs(mantissa-5) < 1e-6 {
			ticks[i].Label = strconv.FormatFloat(t.Value, 'g', 3, 64)
			labelled++
		}
	}
	if labelled < 2 {
		// A range too narrow for any of these reads better with linear ticks.
		return plot.DefaultTicks{}.Ticks(min, max)
	}
	return ticks
}
