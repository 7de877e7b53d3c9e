package analysis

import (
	"context"
	"database/sql"
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Curves page size: A4 landscape.
var (
	curvesWidth  = 297 * vg.Millimeter
	curvesHeight = 210 * vg.Millimeter
)

// CurvesOptions selects and lays out the runs of a loss-curve report.
type CurvesOptions struct {
	// Where is an SQL condition on the columns of the results view, such
	// as "nb_params < 200 AND status = 'done'"; empty selects every run.
	Where string
	// PerPage is the number of panels on a page, laid out in a grid of
	// ceil(√PerPage) columns; 0 means 4.
	PerPage int
	// LogY draws the loss on a log scale, leaving out values ≤ 0.
	LogY bool
	// Out is the file to write: .pdf gives one multi-page file, .png and
	// .svg one file per page (Out's name with _1, _2, … when there are
	// several pages).
	Out string
}

// CurvesOutput is the page count and the files of one PlotCurves call.
type CurvesOutput struct {
	// Pages is the number of pages drawn.
	Pages int
	// Files are the files written: Out for a PDF or a single page, one
	// numbered image per page otherwise.
	Files []string
}

// curveRun is one selected run with what its panel shows.
type curveRun struct {
	id, label, status string
	replica           int64
	nbParams          sql.NullInt64
	overfitting       sql.NullFloat64
	trainability      sql.NullFloat64
	slope, sigmaPlus  sql.NullFloat64
	sigmaMinus        sql.NullFloat64
	errorText         sql.NullString
	divergedEpoch     sql.NullInt64
	epochs            int64
}

const curveRunsSQL = `SELECT run_id, label, replica, status, nb_params, overfitting,
	trainability, slope, slope_sigma_plus, slope_sigma_minus, error, diverged_epoch, epochs
FROM results`

// PlotCurves draws one panel per run selected by opts.Where, in label and
// replica order: train loss solid and test loss dashed over the epochs,
// with overfitting, trainability and slope in a legend box. A run that did
// not finish (failed, diverged, timeout, running) or has no finite loss
// gets a panel that states its status, error and diverged epoch. It
// returns the number of pages and the files written. An invalid condition
// is reported with SQLite's message; no run matching wraps ErrNoRuns.
func PlotCurves(ctx context.Context, db *sql.DB, opts CurvesOptions) (CurvesOutput, error) {
	if opts.PerPage < 0 {
		return CurvesOutput{}, fmt.Errorf("plot curves: per-page %d is negative, expected a positive number of panels", opts.PerPage)
	}
	if opts.PerPage == 0 {
		opts.PerPage = 4
	}
	runs, err := selectCurveRuns(ctx, db, opts.Where)
	if err != nil {
		return CurvesOutput{}, err
	}

	pageCount := (len(runs) + opts.PerPage - 1) / opts.PerPage
	pages, err := newPageWriter(opts.Out, curvesWidth, curvesHeight, pageCount)
	if err != nil {
		return CurvesOutput{}, err
	}
	lossQuery, err := db.PrepareContext(ctx, "SELECT train_loss, test_loss FROM curves WHERE run_id = ? ORDER BY epoch")
	if err != nil {
		return CurvesOutput{}, fmt.Errorf("plot curves: prepare curves query: %w", err)
	}
	defer lossQuery.Close()

	for start := 0; start < len(runs); start += opts.PerPage {
		if err := ctx.Err(); err != nil {
			return CurvesOutput{}, fmt.Errorf("plot curves: %w", err)
		}
		end := min(start+opts.PerPage, len(runs))
		panels := make([]*plot.Plot, 0, end-start)
		for _, r := range runs[start:end] {
			train, test, err := readLosses(ctx, lossQuery, r.id)
			if err != nil {
				return CurvesOutput{}, err
			}
			panels = append(panels, curvePanel(r, train, test, opts.LogY))
		}

		dc, err := pages.next()
		if err != nil {
			return CurvesOutput{}, err
		}
		drawGrid(dc, panels, opts.PerPage)
	}
	files, err := pages.close()
	if err != nil {
		return CurvesOutput{}, err
	}
	return CurvesOutput{Pages: pageCount, Files: files}, nil
}

// selectCurveRuns reads the runs of the results view that satisfy where.
func selectCurveRuns(ctx context.Context, db *sql.DB, where string) ([]curveRun, error) {
	if err := checkCondition(where); err != nil {
		return nil, fmt.Errorf("plot curves: %w", err)
	}
	query := curveRunsSQL
	if where != "" {
		query += " WHERE (" + where + ")"
	}
	query += " ORDER BY label, replica, run_id"

	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("plot curves: select runs where %q: %w", where, err)
	}
	defer rows.Close()
	var runs []curveRun
	for rows.Next() {
		var r curveRun
		err := rows.Scan(&r.id, &r.label, &r.replica, &r.status, &r.nbParams, &r.overfitting,
			&r.trainability, &r.slope, &r.sigmaPlus, &r.sigmaMinus, &r.errorText, &r.divergedEpoch, &r.epochs)
		if err != nil {
			return nil, fmt.Errorf("plot curves: read run: %w", err)
		}
		runs = append(runs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("plot curves: select runs where %q: %w", where, err)
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("plot curves: %w the condition %q", ErrNoRuns, where)
	}
	return runs, nil
}

// readLosses returns a run's loss per epoch; NULL reads as NaN.
func readLosses(ctx context.Context, stmt *sql.Stmt, runID string) (train, test []float64, err error) {
	rows, err := stmt.QueryContext(ctx, runID)
	if err != nil {
		return nil, nil, fmt.Errorf("plot curves: read curves of run %s: %w", runID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var tr, te sql.NullFloat64
		if err := rows.Scan(&tr, &te); err != nil {
			return nil, nil, fmt.Errorf("plot curves: read curves of run %s: %w", runID, err)
		}
		train = append(train, nullToNaN(tr))
		test = append(test, nullToNaN(te))
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("plot curves: read curves of run %s: %w", runID, err)
	}
	return train, test, nil
}

func nullToNaN(x sql.NullFloat64) float64 {
	if !x.Valid {
		return math.NaN()
	}
	return x.Float64
}

// drawGrid tiles the panels on a page, aligning their data areas.
func drawGrid(dc draw.Canvas, panels []*plot.Plot, perPage int) {
	cols := int(math.Ceil(math.Sqrt(float64(perPage))))
	rows := (perPage + cols - 1) / cols
	grid := make([][]*plot.Plot, rows)
	for j := range grid {
		grid[j] = make([]*plot.Plot, cols)
		for i := range grid[j] {
			if k := j*cols + i; k < len(panels) {
				grid[j][i] = panels[k]
			}
		}
	}

	tiles := draw.Tiles{
		Rows: rows, Cols: cols,
		PadX: vg.Millimeter * 6, PadY: vg.Millimeter * 6,
		PadTop: vg.Millimeter * 6, PadBottom: vg.Millimeter * 6,
		PadLeft: vg.Millimeter * 6, PadRight: vg.Millimeter * 6,
	}
	canvases := plot.Align(grid, tiles, dc)
	for j := range grid {
		for i := range grid[j] {
			if grid[j][i] != nil {
				grid[j][i].Draw(canvases[j][i])
			}
		}
	}
}
