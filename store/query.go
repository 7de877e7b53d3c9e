package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"

	"github.com/mosaic-go/mosaic/result"
)

// LabelBest summarises the done runs of one label and one loss function,
// for `mosaic status`. Test losses of different loss functions have
// different scales, so labels are ranked within their loss function only.
type LabelBest struct {
	// LossFunction is the runs' process parameter loss_function (params
	// row with stage -1), or "" for runs stored without it.
	LossFunction string `json:"loss_function"`
	Label        string `json:"label"`
	// Done is the number of runs of the label with status done.
	Done int `json:"done"`
	// BestTestLoss is the lowest test_loss of those runs, MeanTestLoss
	// their mean test_loss, and BestTestAccuracy their highest
	// test_accuracy. Each is nil when no done run of the label has the
	// value, for example accuracy in regression.
	BestTestLoss     *float64 `json:"best_test_loss"`
	MeanTestLoss     *float64 `json:"mean_test_loss"`
	BestTestAccuracy *float64 `json:"best_test_accuracy"`
}

// Statuses returns the status of every run in the database, by run id. A
// run manager skips the runs that are done, failed or diverged.
func (s *Store) Statuses(ctx context.Context) (map[string]result.Status, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT run_id, status FROM runs`)
	if err != nil {
		return nil, fmt.Errorf("read run statuses from %s: %w", s.path, err)
	}
	defer rows.Close()

	statuses := make(map[string]result.Status)
	for rows.Next() {
		var runID, status string
		if err := rows.Scan(&runID, &status); err != nil {
			return nil, fmt.Errorf("read run statuses from %s: %w", s.path, err)
		}
		statuses[runID] = result.Status(status)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read run statuses from %s: %w", s.path, err)
	}
	return statuses, nil
}

// Counts returns the number of runs of each status present.
func (s *Store) Counts(ctx context.Context) (map[result.Status]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT status, count(*) FROM runs GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("count runs in %s: %w", s.path, err)
	}
	defer rows.Close()

	counts := make(map[result.Status]int)
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			return nil, fmt.Errorf("count runs in %s: %w", s.path, err)
		}
		counts[result.Status(status)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count runs in %s: %w", s.path, err)
	}
	return counts, nil
}

// bestPerLabelSQL groups the runs of status ?1 by loss function and label,
// ranks the labels within each loss function, and keeps the first ?2 of
// each loss function, or all of them when ?2 <= 0. total is the number of
// groups before that cut.
const bestPerLabelSQL = `
WITH groups AS (
    SELECT coalesce(p.value_text, '') AS loss_function, r.label, count(*) AS done,
           min(r.test_loss) AS best_loss, avg(r.test_loss) AS mean_loss,
           max(r.test_accuracy) AS best_accuracy
    FROM results r
    LEFT JOIN params p ON p.run_id = r.run_id AND p.stage = -1
        AND p.kind = 'param' AND p.name = 'loss_function'
    WHERE r.status = ?1
    GROUP BY 1, 2
), ranked AS (
    SELECT *, row_number() OVER (PARTITION BY loss_function
                                 ORDER BY best_loss IS NULL, best_loss, label) AS rank,
           count(*) OVER () AS total
    FROM groups
)
SELECT loss_function, label, done, best_loss, mean_loss, best_accuracy, total
FROM ranked
WHERE ?2 <= 0 OR rank <= ?2
ORDER BY loss_function, rank`

// BestPerLabel returns one summary per loss function and label that has a
// done run. Loss functions come in name order. Within each, the lowest best
// test loss comes first, labels without a test loss come last, and ties
// sort by label. limit caps the number of labels per loss function, and
// limit <= 0 returns them all. total is the number of summaries before the
// cap.
func (s *Store) BestPerLabel(ctx context.Context, limit int) (best []LabelBest, total int, err error) {
	rows, err := s.db.QueryContext(ctx, bestPerLabelSQL, string(result.StatusDone), limit)
	if err != nil {
		return nil, 0, fmt.Errorf("read best runs per label from %s: %w", s.path, err)
	}
	defer rows.Close()

	for rows.Next() {
		var b LabelBest
		var bestLoss, meanLoss, bestAccuracy sql.NullFloat64
		if err := rows.Scan(&b.LossFunction, &b.Label, &b.Done, &bestLoss, &meanLoss, &bestAccuracy, &total); err != nil {
			return nil, 0, fmt.Errorf("read best runs per label from %s: %w", s.path, err)
		}
		b.BestTestLoss = floatPointer(bestLoss)
		b.MeanTestLoss = floatPointer(meanLoss)
		b.BestTestAccuracy = floatPointer(bestAccuracy)
		best = append(best, b)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("read best runs per label from %s: %w", s.path, err)
	}
	return best, total, nil
}

// ResetRunning deletes the runs left running by an interrupted study, with
// their params and curves, so the next `mosaic run` does them again. It
// returns the number of runs deleted. Runs that failed or diverged are kept.
// Call it only when no other process is running runs of this database.
func (s *Store) ResetRunning(ctx context.Context) (int, error) {
	if err := s.checkWritable(); err != nil {
		return 0, fmt.Errorf("reset running runs in %s: %w", s.path, err)
	}
	res, err := s.db.ExecContext(ctx, `DELETE FROM runs WHERE status = ?`, string(result.StatusRunning))
	if err != nil {
		return 0, fmt.Errorf("reset running runs in %s: %w", s.path, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("reset running runs in %s: %w", s.path, err)
	}
	return int(n), nil
}

// Curves returns the stored curves of a run. A NULL value, which is how
// SQLite stores NaN, reads back as NaN, and a curve with no value in any
// epoch reads back as nil. It returns an error wrapping ErrRunNotFound for
// an unknown run id.
func (s *Store) Curves(ctx context.Context, runID string) (result.Curves, error) {
	var c result.Curves
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM runs WHERE run_id = ?`, runID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("read curves of run %s from %s: %w", runID, s.path, ErrRunNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("read curves of run %s from %s: %w", runID, s.path, err)
	}

	rows, err := s.db.QueryContext(ctx, `SELECT train_loss, test_loss, train_accuracy, test_accuracy,
    epoch_seconds FROM curves WHERE run_id = ? ORDER BY epoch`, runID)
	if err != nil {
		return c, fmt.Errorf("read curves of run %s from %s: %w", runID, s.path, err)
	}
	defer rows.Close()

	columns := make([][]sql.NullFloat64, 5)
	for rows.Next() {
		values := make([]sql.NullFloat64, len(columns))
		if err := rows.Scan(&values[0], &values[1], &values[2], &values[3], &values[4]); err != nil {
			return c, fmt.Errorf("read curves of run %s from %s: %w", runID, s.path, err)
		}
		for i, v := range values {
			columns[i] = append(columns[i], v)
		}
	}
	if err := rows.Err(); err != nil {
		return c, fmt.Errorf("read curves of run %s from %s: %w", runID, s.path, err)
	}

	c.TrainLoss = curveFromColumn(columns[0])
	c.TestLoss = curveFromColumn(columns[1])
	c.TrainAccuracy = curveFromColumn(columns[2])
	c.TestAccuracy = curveFromColumn(columns[3])
	c.EpochSeconds = curveFromColumn(columns[4])
	return c, nil
}

// curveFromColumn returns the values of one curves column with NULL as NaN,
// or nil when every value is NULL.
func curveFromColumn(column []sql.NullFloat64) []float64 {
	curve := make([]float64, len(column))
	defined := false
	for i, v := range column {
		curve[i] = math.NaN()
		if v.Valid {
			curve[i] = v.Float64
			defined = true
		}
	}
	if !defined {
		return nil
	}
	return curve
}

// floatPointer returns a pointer to v's value, or nil when v is NULL.
func floatPointer(v sql.NullFloat64) *float64 {
	if !v.Valid {
		return nil
	}
	return &v.Float64
}
