package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mosaic-go/mosaic/pipeline"
	"github.com/mosaic-go/mosaic/result"
)

// ErrNoPipelineSpec is returned by Pipeline for a pipeline known only from
// collected results, whose document the database does not hold.
var ErrNoPipelineSpec = errors.New("pipeline document not stored")

// Meta keys of the data cache counters.
const (
	cacheHitsKey   = "cache_hits"
	cacheMissesKey = "cache_misses"
)

// RunRef identifies a run selected for `mosaic rerun`.
type RunRef struct {
	// Number is the run's SQLite rowid, which `mosaic status` shows. Storing
	// the run again, for example after a rerun, gives it a new number.
	Number     int64
	RunID      string
	PipelineID string
	Label      string
	Replica    int
	Seed       uint64
	Status     result.Status
	Epochs     int
}

// Selection chooses runs. The criteria combine with AND, and an empty
// Selection selects every run.
type Selection struct {
	// Where is an SQL condition on the columns of the results view, for
	// example "slope < -0.01 AND status = 'done'". Run it on a store opened
	// with OpenReadOnly, so that the condition cannot write.
	Where string
	// Numbers are run numbers (rowids, which change when a run is stored
	// again), and IDs are run ids or pipeline ids, which are stable. A run
	// matches when either list names it. Both empty means no restriction.
	Numbers []int64
	IDs     []string
	// LabelLike is an SQL LIKE pattern on the pipeline label.
	LabelLike string
}

// SelectRuns returns the runs that match sel, in run number order.
func (s *Store) SelectRuns(ctx context.Context, sel Selection) ([]RunRef, error) {
	query := `SELECT r.rowid, r.run_id, r.pipeline_id, p.label, r.replica, r.seed, r.status, r.epochs
FROM runs r JOIN pipelines p ON p.pipeline_id = r.pipeline_id WHERE 1 = 1`
	var args []any
	if w := strings.TrimSpace(sel.Where); w != "" {
		query += "\n AND r.run_id IN (SELECT run_id FROM results WHERE " + w + "\n)"
	}
	if len(sel.Numbers) > 0 || len(sel.IDs) > 0 {
		var alternatives []string
		if len(sel.Numbers) > 0 {
			alternatives = append(alternatives, "r.rowid IN ("+placeholders(len(sel.Numbers))+")")
			for _, n := range sel.Numbers {
				args = append(args, n)
			}
		}
		if len(sel.IDs) > 0 {
			list := placeholders(len(sel.IDs))
			alternatives = append(alternatives, "r.run_id IN ("+list+") OR r.pipeline_id IN ("+list+")")
			for range 2 {
				for _, id := range sel.IDs {
					args = append(args, id)
				}
			}
		}
		query += "\n AND (" + strings.Join(alternatives, " OR ") + ")"
	}
	if sel.LabelLike != "" {
		query += "\n AND p.label LIKE ?"
		args = append(args, sel.LabelLike)
	}
	query += "\nORDER BY r.rowid"

	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("select runs in %s: %w", s.path, err)
	}
	defer rows.Close()
	var refs []RunRef
	for rows.Next() {
		var ref RunRef
		var status string
		var seed int64
		if err := rows.Scan(&ref.Number, &ref.RunID, &ref.PipelineID, &ref.Label, &ref.Replica, &seed, &status, &ref.Epochs); err != nil {
			return nil, fmt.Errorf("select runs in %s: %w", s.path, err)
		}
		ref.Status = result.Status(status)
		ref.Seed = uint64(seed)
		refs = append(refs, ref)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select runs in %s: %w", s.path, err)
	}
	return refs, nil
}

// placeholders returns "?, ?, …" with n question marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// Pipeline returns the stored document of a pipeline. It returns an error
// wrapping ErrNoPipelineSpec when the database holds none, and one wrapping
// sql.ErrNoRows for an unknown pipeline id.
func (s *Store) Pipeline(ctx context.Context, id string) (pipeline.Pipeline, error) {
	var spec sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT spec_json FROM pipelines WHERE pipeline_id = ?`, id).Scan(&spec)
	if err != nil {
		return pipeline.Pipeline{}, fmt.Errorf("read pipeline %s from %s: %w", id, s.path, err)
	}
	if !spec.Valid {
		return pipeline.Pipeline{}, fmt.Errorf("read pipeline %s from %s: %w", id, s.path, ErrNoPipelineSpec)
	}
	var p pipeline.Pipeline
	if err := json.Unmarshal([]byte(spec.String), &p); err != nil {
		return pipeline.Pipeline{}, fmt.Errorf("read pipeline %s from %s: decode spec_json: %w", id, s.path, err)
	}
	return p, nil
}

// RunningRun is a run stored with status running.
type RunningRun struct {
	Number int64  `json:"number"`
	RunID  string `json:"run_id"`
	Label  string `json:"label"`
	// Epochs is the last epoch the run manager recorded for it.
	Epochs    int    `json:"epochs"`
	StartedAt string `json:"started_at"`
	GPUs      string `json:"gpus"`
}

// RunningRuns returns the runs with status running, oldest first. A run
// stays running after its study was interrupted, until the next `mosaic run`
// resumes it.
func (s *Store) RunningRuns(ctx context.Context) ([]RunningRun, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT r.rowid, r.run_id, p.label, r.epochs,
    coalesce(r.started_at, ''), coalesce(r.gpus, '')
FROM runs r JOIN pipelines p ON p.pipeline_id = r.pipeline_id
WHERE r.status = ? ORDER BY r.started_at, r.rowid`, string(result.StatusRunning))
	if err != nil {
		return nil, fmt.Errorf("read running runs from %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []RunningRun
	for rows.Next() {
		var r RunningRun
		if err := rows.Scan(&r.Number, &r.RunID, &r.Label, &r.Epochs, &r.StartedAt, &r.GPUs); err != nil {
			return nil, fmt.Errorf("read running runs from %s: %w", s.path, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read running runs from %s: %w", s.path, err)
	}
	return out, nil
}

// Failure is a run stored as failed or timed out.
type Failure struct {
	Number     int64         `json:"number"`
	RunID      string        `json:"run_id"`
	Label      string        `json:"label"`
	Status     result.Status `json:"status"`
	Error      string        `json:"error"`
	ExitCode   *int64        `json:"exit_code"`
	FinishedAt string        `json:"finished_at"`
}

// RecentFailures returns up to limit runs with status failed or timeout,
// the most recently finished first.
func (s *Store) RecentFailures(ctx context.Context, limit int) ([]Failure, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT r.rowid, r.run_id, p.label, r.status,
    coalesce(r.error, ''), r.exit_code, coalesce(r.finished_at, '')
FROM runs r JOIN pipelines p ON p.pipeline_id = r.pipeline_id
WHERE r.status IN (?, ?) ORDER BY r.finished_at DESC, r.rowid DESC LIMIT ?`,
		string(result.StatusFailed), string(result.StatusTimeout), limit)
	if err != nil {
		return nil, fmt.Errorf("read failed runs from %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []Failure
	for rows.Next() {
		var f Failure
		var status string
		var code sql.NullInt64
		if err := rows.Scan(&f.Number, &f.RunID, &f.Label, &status, &f.Error, &code, &f.FinishedAt); err != nil {
			return nil, fmt.Errorf("read failed runs from %s: %w", s.path, err)
		}
		f.Status = result.Status(status)
		if code.Valid {
			f.ExitCode = &code.Int64
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read failed runs from %s: %w", s.path, err)
	}
	return out, nil
}

// SetRunProgress records the epochs done by running runs, by run id, in one
// transaction. It changes only runs still stored as running.
func (s *Store) SetRunProgress(ctx context.Context, epochs map[string]int) error {
	if err := s.checkWritable(); err != nil {
		return fmt.Errorf("record run progress in %s: %w", s.path, err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record run progress in %s: %w", s.path, err)
	}
	defer tx.Rollback()
	for runID, n := range epochs {
		_, err := tx.ExecContext(ctx, `UPDATE runs SET epochs = ? WHERE run_id = ? AND status = ?`,
			n, runID, string(result.StatusRunning))
		if err != nil {
			return fmt.Errorf("record progress of run %s in %s: %w", runID, s.path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record run progress in %s: %w", s.path, err)
	}
	return nil
}

// SetRunGPUs records the devices assigned to a run.
func (s *Store) SetRunGPUs(ctx context.Context, runID string, gpus []string) error {
	if err := s.checkWritable(); err != nil {
		return fmt.Errorf("record GPUs of run %s in %s: %w", runID, s.path, err)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE runs SET gpus = ? WHERE run_id = ?`, gpusText(gpus), runID); err != nil {
		return fmt.Errorf("record GPUs of run %s in %s: %w", runID, s.path, err)
	}
	return nil
}

// ReplaceResult stores r in place of whatever the database holds for its
// run, done or not, in one transaction. `mosaic rerun` uses it to store a
// run continued for more epochs, which SaveResult would reject as a
// conflict with the stored done result.
func (s *Store) ReplaceResult(ctx context.Context, r *result.Result) error {
	if err := s.checkWritable(); err != nil {
		return fmt.Errorf("replace result in %s: %w", s.path, err)
	}
	if err := validateResult(r); err != nil {
		return fmt.Errorf("replace result in %s: %w", s.path, err)
	}
	hash, err := hashResult(r)
	if err != nil {
		return fmt.Errorf("replace result in %s: %w", s.path, err)
	}

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("replace result of run %s in %s: %w", r.RunID, s.path, err)
	}
	defer tx.Rollback()
	w, err := prepareWriter(ctx, tx)
	if err != nil {
		return fmt.Errorf("replace result of run %s in %s: %w", r.RunID, s.path, err)
	}
	defer w.close()

	if _, err := w.ensurePipeline.ExecContext(ctx, r.PipelineID, r.Label, formatTime(time.Now())); err != nil {
		return fmt.Errorf("replace result of run %s in %s: create pipeline: %w", r.RunID, s.path, err)
	}
	if _, err := w.deleteRun.ExecContext(ctx, r.RunID); err != nil {
		return fmt.Errorf("replace result of run %s in %s: delete stored run: %w", r.RunID, s.path, err)
	}
	if err := w.insertResult(ctx, r, hash); err != nil {
		return fmt.Errorf("replace result of run %s in %s: %w", r.RunID, s.path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("replace result of run %s in %s: commit: %w", r.RunID, s.path, err)
	}
	return nil
}

// CacheCounts are the data cache lookups of a study's runs.
type CacheCounts struct {
	Hits   int64 `json:"hits"`
	Misses int64 `json:"misses"`
}

// AddCacheCounts adds to the data cache counters kept in the meta table.
func (s *Store) AddCacheCounts(ctx context.Context, add CacheCounts) error {
	if err := s.checkWritable(); err != nil {
		return fmt.Errorf("count cache lookups in %s: %w", s.path, err)
	}
	const upsert = `INSERT INTO meta (key, value) VALUES (?, ?)
ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(meta.value AS INTEGER) + CAST(excluded.value AS INTEGER) AS TEXT)`
	for key, n := range map[string]int64{cacheHitsKey: add.Hits, cacheMissesKey: add.Misses} {
		if n == 0 {
			continue
		}
		if _, err := s.db.ExecContext(ctx, upsert, key, fmt.Sprint(n)); err != nil {
			return fmt.Errorf("count cache lookups in %s: %w", s.path, err)
		}
	}
	return nil
}

// CacheCounts returns the data cache counters, zero when none were kept.
func (s *Store) CacheCounts(ctx context.Context) (CacheCounts, error) {
	var c CacheCounts
	rows, err := s.db.QueryContext(ctx, `SELECT key, CAST(value AS INTEGER) FROM meta WHERE key IN (?, ?)`,
		cacheHitsKey, cacheMissesKey)
	if err != nil {
		return c, fmt.Errorf("read cache counters from %s: %w", s.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var n int64
		if err := rows.Scan(&key, &n); err != nil {
			return c, fmt.Errorf("read cache counters from %s: %w", s.path, err)
		}
		if key == cacheHitsKey {
			c.Hits = n
		} else {
			c.Misses = n
		}
	}
	if err := rows.Err(); err != nil {
		return c, fmt.Errorf("read cache counters from %s: %w", s.path, err)
	}
	return c, nil
}
