package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mosaic-go/mosaic/result"
)

// batchSize is the number of results SaveResults writes per transaction.
// One transaction per result would make the commit, not JSON decoding or
// SQLite inserts, the limit on collect.
const batchSize = 500

// ErrConflict is returned by SaveResult when the database already holds a
// different result for a run stored as done. The stored result is kept.
var ErrConflict = errors.New("a different result is already stored for this done run")

// Outcome is the effect of saving one result on the database.
type Outcome int

// Outcomes of saving a result.
const (
	// Inserted means the result was stored: the run was absent, or stored
	// with a status other than done (running, failed, diverged, timeout),
	// and the new result replaced it.
	Inserted Outcome = iota + 1
	// Unchanged means an identical result (same SHA-256) was already stored.
	Unchanged
	// Conflict means a different result is stored for the run as done. The
	// stored result is kept.
	Conflict
)

// String returns the outcome's name: "inserted", "unchanged" or "conflict".
func (o Outcome) String() string {
	switch o {
	case Inserted:
		return "inserted"
	case Unchanged:
		return "unchanged"
	case Conflict:
		return "conflict"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Summary counts the outcomes of SaveResults.
type Summary struct {
	Inserted  int
	Unchanged int
	Conflicts int
	// Outcomes[i] is the outcome of the i-th result passed in. After an
	// error it covers the results of the committed transactions only.
	Outcomes []Outcome
}

func (s *Summary) add(o Outcome) {
	s.Outcomes = append(s.Outcomes, o)
	switch o {
	case Inserted:
		s.Inserted++
	case Unchanged:
		s.Unchanged++
	case Conflict:
		s.Conflicts++
	}
}

// SaveResult stores one result in one transaction: its runs row with every
// indicator, its params and curves rows, and a pipelines row when the
// pipeline is not yet known. It follows the rules of SaveResults, and
// returns an error wrapping ErrConflict when a different result is stored
// for the run as done.
func (s *Store) SaveResult(ctx context.Context, r *result.Result) error {
	summary, err := s.SaveResults(ctx, []*result.Result{r})
	if err != nil {
		return err
	}
	if summary.Conflicts > 0 {
		return fmt.Errorf("save result of run %s: %w", r.RunID, ErrConflict)
	}
	return nil
}

// SaveResults stores results in transactions of up to 500 results, and is
// idempotent. A result whose SHA-256 equals the stored one's changes
// nothing (Unchanged). A different result for a run stored as done is
// skipped (Conflict), and the stored one is kept. Any other result replaces
// what is stored for its run (Inserted).
//
// Every result is validated before anything is written. After a database
// error, the transactions committed so far stay committed and the Summary
// covers them. HTTP collect can pass one result and map Outcomes[0]:
// Inserted to 201, Unchanged to 200 and Conflict to 409.
func (s *Store) SaveResults(ctx context.Context, results []*result.Result) (Summary, error) {
	var summary Summary
	if err := s.checkWritable(); err != nil {
		return summary, fmt.Errorf("save results to %s: %w", s.path, err)
	}

	hashes := make([]string, len(results))
	for i, r := range results {
		if err := validateResult(r); err != nil {
			return summary, fmt.Errorf("save results to %s: result %d: %w", s.path, i, err)
		}
		hash, err := hashResult(r)
		if err != nil {
			return summary, fmt.Errorf("save results to %s: %w", s.path, err)
		}
		hashes[i] = hash
	}

	for start := 0; start < len(results); start += batchSize {
		end := min(start+batchSize, len(results))
		outcomes, err := s.saveBatch(ctx, results[start:end], hashes[start:end])
		if err != nil {
			return summary, fmt.Errorf("save results to %s: %w", s.path, err)
		}
		for _, o := range outcomes {
			summary.add(o)
		}
	}
	return summary, nil
}

// validateResult rejects a result that cannot be stored.
func validateResult(r *result.Result) error {
	switch {
	case r == nil:
		return errors.New("result is nil")
	case r.SchemaVersion != result.SchemaVersion:
		return fmt.Errorf("run %q: result schema_version is %d, expected %d",
			r.RunID, r.SchemaVersion, result.SchemaVersion)
	case r.RunID == "":
		return errors.New("run_id is missing")
	case r.PipelineID == "":
		return fmt.Errorf("run %s: pipeline_id is missing", r.RunID)
	case r.Status == "":
		return fmt.Errorf("run %s: status is missing", r.RunID)
	}
	return nil
}

// saveBatch stores results in one transaction and returns their outcomes.
func (s *Store) saveBatch(ctx context.Context, results []*result.Result, hashes []string) ([]Outcome, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin transaction: %w", err)
	}
	defer tx.Rollback()

	w, err := prepareWriter(ctx, tx)
	if err != nil {
		return nil, err
	}
	defer w.close()

	now := time.Now()
	outcomes := make([]Outcome, len(results))
	for i, r := range results {
		outcomes[i], err = w.save(ctx, r, hashes[i], now)
		if err != nil {
			return nil, fmt.Errorf("save result of run %s: %w", r.RunID, err)
		}
	}

	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit transaction: %w", err)
	}
	return outcomes, nil
}

// save stores one result unless an identical or a conflicting one is
// stored, and returns the outcome.
func (w *writer) save(ctx context.Context, r *result.Result, hash string, now time.Time) (Outcome, error) {
	var status string
	var storedHash sql.NullString
	err := w.lookupRun.QueryRowContext(ctx, r.RunID).Scan(&status, &storedHash)
	found := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("look up stored run: %w", err)
	}

	switch {
	case found && storedHash.Valid && storedHash.String == hash:
		return Unchanged, nil
	case found && result.Status(status) == result.StatusDone:
		return Conflict, nil
	}

	if _, err := w.ensurePipeline.ExecContext(ctx, r.PipelineID, r.Label, formatTime(now)); err != nil {
		return 0, fmt.Errorf("create pipeline %s: %w", r.PipelineID, err)
	}
	if found {
		// The foreign keys cascade, so this also deletes the run's params
		// and curves rows.
		if _, err := w.deleteRun.ExecContext(ctx, r.RunID); err != nil {
			return 0, fmt.Errorf("delete stored run: %w", err)
		}
	}
	if err := w.insertResult(ctx, r, hash); err != nil {
		return 0, err
	}
	return Inserted, nil
}
