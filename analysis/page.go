package analysis

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"
)

// pageWriter writes pages to one multi-page PDF or to one image file per
// page: out itself for a single page, out's name with _1, _2, … before the
// extension for several.
type pageWriter struct {
	out    string
	format string
	width  vg.Length
	height vg.Length
	total  int

	pdf     *vgpdf.Canvas
	image   vg.CanvasWriterTo
	page    int
	written []string
}

// newPageWriter chooses the format from out's extension: pdf, png or svg.
func newPageWriter(out string, width, height vg.Length, total int) (*pageWriter, error) {
	format := strings.ToLower(strings.TrimPrefix(filepath.Ext(out), "."))
	switch format {
	case "pdf", "png", "svg":
	default:
		return nil, fmt.Errorf("write %s: unsupported extension %q, expected .pdf, .png or .svg", out, filepath.Ext(out))
	}
	return &pageWriter{out: out, format: format, width: width, height: height, total: total}, nil
}

// next returns the canvas of the next page, writing the previous image.
func (w *pageWriter) next() (draw.Canvas, error) {
	if err := w.flushImage(); err != nil {
		return draw.Canvas{}, err
	}
	w.page++

	switch w.format {
	case "pdf":
		if w.pdf == nil {
			w.pdf = vgpdf.New(w.width, w.height)
		} else {
			w.pdf.NextPage()
		}
		return draw.New(w.pdf), nil
	case "svg":
		w.image = vgsvg.New(w.width, w.height)
	default:
		w.image = vgimg.PngCanvas{Canvas: vgimg.New(w.width, w.height)}
	}
	dc := draw.New(w.image)
	// PNG starts transparent; a white page reads like the PDF.
	dc.SetColor(whiteColor)
	dc.Fill(dc.Rectangle.Path())
	return dc, nil
}

// close writes what is pending and returns the files written.
func (w *pageWriter) close() ([]string, error) {
	if err := w.flushImage(); err != nil {
		return nil, err
	}
	if w.pdf != nil {
		if err := writeFile(w.out, w.pdf); err != nil {
			return nil, err
		}
		w.written = append(w.written, w.out)
		w.pdf = nil
	}
	return w.written, nil
}

func (w *pageWriter) flushImage() error {
	if w.image == nil {
		return nil
	}
	path := w.out
	if w.total > 1 {
		ext := filepath.Ext(w.out)
		path = fmt.Sprintf("%s_%d%s", strings.TrimSuffix(w.out, ext), w.page, ext)
	}
	if err := writeFile(path, w.image); err != nil {
		return err
	}
	w.written = append(w.written, path)
	w.image = nil
	return nil
}

func writeFile(path string, content interface {
	WriteTo(w io.Writer) (int64, error)
}) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := content.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
