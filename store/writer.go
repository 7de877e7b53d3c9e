package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"

	"github.com/mosaic-go/mosaic/result"
)

// writer holds the statements that store results, prepared once per
// transaction.
type writer struct {
	lookupRun      *sql.Stmt
	ensurePipeline *sql.Stmt
	deleteRun      *sql.Stmt
	insertRun      *sql.Stmt
	insertParam    *sql.Stmt
	// insertCurves[n] inserts n curves rows. Each is prepared on first use.
	insertCurves map[int]*sql.Stmt
	tx           *sql.Tx
}

// curveRowsPerInsert is the max number of curves rows per INSERT statement.
// Fewer, larger statements spend less time in database/sql and binding per
// row. 64 rows of 7 values stay far below SQLite's limit of 32766 bound
// values per statement (the default since SQLite 3.32).
const curveRowsPerInsert = 64

const (
	lookupRunSQL = `SELECT status, result_sha256 FROM runs WHERE run_id = ?`

	// ensurePipelineSQL creates the pipelines row of a pipeline known only
	// from its results, with a NULL spec_json.
	ensurePipelineSQL = `INSERT INTO pipelines (pipeline_id, label, spec_json, created_at)
VALUES (?, ?, NULL, ?) ON CONFLICT (pipeline_id) DO NOTHING`

	deleteRunSQL = `DELETE FROM runs WHERE run_id = ?`

	insertRunSQL = `INSERT INTO runs (
    run_id, pipeline_id, replica, seed, status, epochs, error, diverged_epoch,
    train_loss, test_loss, train_accuracy, test_accuracy, overfitting, slope,
    slope_sigma_plus, slope_sigma_minus, trainability, duration_s, nb_params,
    started_at, finished_at, host, device, gpus, files_json, exit_code,
    result_sha256)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

	// insertParamSQL replaces on a duplicate key, so a result listing the
	// same (stage, kind, name) twice keeps the last value.
	insertParamSQL = `INSERT OR REPLACE INTO params
    (run_id, stage, stage_type, class, kind, name, value_text, value_num)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`

	insertCurvesSQL = `INSERT INTO curves
    (run_id, epoch, train_loss, test_loss, train_accuracy, test_accuracy, epoch_seconds)
VALUES `
	curveRowSQL = `(?, ?, ?, ?, ?, ?, ?)`
)

// prepareWriter prepares the statements of a writer on tx.
func prepareWriter(ctx context.Context, tx *sql.Tx) (*writer, error) {
	w := &writer{tx: tx, insertCurves: make(map[int]*sql.Stmt)}
	targets := []struct {
		stmt  **sql.Stmt
		query string
	}{
		{&w.lookupRun, lookupRunSQL},
		{&w.ensurePipeline, ensurePipelineSQL},
		{&w.deleteRun, deleteRunSQL},
		{&w.insertRun, insertRunSQL},
		{&w.insertParam, insertParamSQL},
	}
	for _, target := range targets {
		stmt, err := tx.PrepareContext(ctx, target.query)
		if err != nil {
			w.close()
			return nil, fmt.Errorf("prepare statement: %w", err)
		}
		*target.stmt = stmt
	}
	return w, nil
}

// close closes the prepared statements.
func (w *writer) close() {
	for _, stmt := range []*sql.Stmt{w.lookupRun, w.ensurePipeline, w.deleteRun,
		w.insertRun, w.insertParam} {
		if stmt != nil {
			stmt.Close()
		}
	}
	for _, stmt := range w.insertCurves {
		stmt.Close()
	}
}

// insertResult inserts the runs, params and curves rows of a result whose
// run has no row.
func (w *writer) insertResult(ctx context.Context, r *result.Result, hash string) error {
	files, err := filesJSON(r.Files)
	if err != nil {
		return err
	}
	ind := r.Indicators
	_, err = w.insertRun.ExecContext(ctx,
		r.RunID, r.PipelineID, r.Replica, seedValue(r.Seed), string(r.Status), r.Epochs,
		nullText(r.Error), r.DivergedEpoch,
		ind.TrainLoss, ind.TestLoss, ind.TrainAccuracy, ind.TestAccuracy, ind.Overfitting,
		ind.Slope, ind.SlopeSigmaPlus, ind.SlopeSigmaMinus, ind.Trainability,
		ind.DurationS, ind.NbParams,
		formatTime(r.StartedAt), formatTime(r.FinishedAt), nullText(r.Host), nullText(r.Device),
		gpusText(r.GPUs), files, r.ExitCode, hash)
	if err != nil {
		return fmt.Errorf("insert run: %w", err)
	}

	for _, p := range r.Params {
		text, num, err := paramValue(p.Value)
		if err != nil {
			return fmt.Errorf("parameter %s of stage %d: %w", p.Name, p.Stage, err)
		}
		_, err = w.insertParam.ExecContext(ctx, r.RunID, p.Stage, p.StageType, p.Class, p.Kind, p.Name, text, num)
		if err != nil {
			return fmt.Errorf("insert parameter %s of stage %d: %w", p.Name, p.Stage, err)
		}
	}

	return w.saveCurves(ctx, r.RunID, r.Curves)
}

// saveCurves inserts one curves row per epoch, up to the longest curve, in
// statements of up to curveRowsPerInsert rows.
func (w *writer) saveCurves(ctx context.Context, runID string, c result.Curves) error {
	epochs := max(len(c.TrainLoss), len(c.TestLoss), len(c.TrainAccuracy),
		len(c.TestAccuracy), len(c.EpochSeconds))
	args := make([]any, 0, 7*min(epochs, curveRowsPerInsert))
	for start := 0; start < epochs; start += curveRowsPerInsert {
		end := min(start+curveRowsPerInsert, epochs)
		stmt, err := w.curvesStatement(ctx, end-start)
		if err != nil {
			return err
		}

		args = args[:0]
		for e := start; e < end; e++ {
			args = append(args, runID, e+1,
				curveValue(c.TrainLoss, e), curveValue(c.TestLoss, e),
				curveValue(c.TrainAccuracy, e), curveValue(c.TestAccuracy, e),
				curveValue(c.EpochSeconds, e))
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("insert curves of epochs %d to %d: %w", start+1, end, err)
		}
	}
	return nil
}

// curvesStatement returns the statement that inserts rows curves rows,
// preparing it on first use.
func (w *writer) curvesStatement(ctx context.Context, rows int) (*sql.Stmt, error) {
	if stmt, ok := w.insertCurves[rows]; ok {
		return stmt, nil
	}
	query := insertCurvesSQL + strings.TrimSuffix(strings.Repeat(curveRowSQL+", ", rows), ", ")
	stmt, err := w.tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare insert of %d curves rows: %w", rows, err)
	}
	w.insertCurves[rows] = stmt
	return stmt, nil
}

// curveValue returns xs[e], or nil (NULL) past its end or for NaN. ±Inf is
// stored as is, because SQLite's REAL holds it.
func curveValue(xs []float64, e int) any {
	if e >= len(xs) || math.IsNaN(xs[e]) {
		return nil
	}
	return xs[e]
}
