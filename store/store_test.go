package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mosaic-go/mosaic/indicator"
	"github.com/mosaic-go/mosaic/result"
)

// openTemp opens a new store in a temporary folder and closes it at the end
// of the test.
func openTemp(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "study.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// newResult returns a done classification result with the given number of
// epochs, curves that fall with the epoch, and indicators computed from
// them.
func newResult(runID, pipelineID string, epochs int) *result.Result {
	r := &result.Result{
		SchemaVersion: result.SchemaVersion,
		RunID:         runID,
		PipelineID:    pipelineID,
		Label:         "mlp(" + pipelineID + ")",
		Replica:       1,
		Seed:          12345,
		Status:        result.StatusDone,
		Epochs:        epochs,
		StartedAt:     time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC),
		FinishedAt:    time.Date(2026, 1, 2, 15, 5, 0, 250e6, time.UTC),
		Host:          "node1",
		Device:        "cpu",
		Params: []result.Param{
			{Stage: 0, StageType: "dataset", Class: "blobs", Kind: "param", Name: "n_samples", Value: 400},
			{Stage: 1, StageType: "model", Class: "mlp_funnel", Kind: "param", Name: "width", Value: 0.5},
			{Stage: 1, StageType: "model", Class: "mlp_funnel", Kind: "param", Name: "bias", Value: true},
			{Stage: 1, StageType: "model", Class: "mlp_funnel", Kind: "param", Name: "layers", Value: []int{4, 8}},
			{Stage: -1, StageType: "process", Class: "process", Kind: "param", Name: "loss_function", Value: "cross_entropy"},
		},
	}
	for e := 1; e <= epochs; e++ {
		x := 1 / float64(e)
		r.Curves.TrainLoss = append(r.Curves.TrainLoss, x)
		r.Curves.TestLoss = append(r.Curves.TestLoss, x+0.125)
		r.Curves.TrainAccuracy = append(r.Curves.TrainAccuracy, 1-x/2)
		r.Curves.TestAccuracy = append(r.Curves.TestAccuracy, 1-x)
		r.Curves.EpochSeconds = append(r.Curves.EpochSeconds, 0.5)
	}
	r.Indicators = indicator.Compute(r.Curves)
	duration := 55.25
	nbParams := 42
	r.Indicators.DurationS = &duration
	r.Indicators.NbParams = &nbParams
	return r
}

func TestOpenCreatesSchema(t *testing.T) {
	s, path := openTemp(t)
	ctx := context.Background()

	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file: %v", err)
	}
	for _, name := range []string{"meta", "pipelines", "runs", "params", "curves", "results"} {
		var n int
		err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = ?`, name).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("schema object %s: found %d, want 1", name, n)
		}
	}

	var version string
	if err := s.DB().QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'schema_version'`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version != "1" {
		t.Errorf("schema_version = %q, want 1", version)
	}
}

func TestOpenSetsPragmas(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()

	var journal string
	var foreignKeys, busy, synchronous int
	db := s.DB()
	if err := db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&journal); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&foreignKeys); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&busy); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&synchronous); err != nil {
		t.Fatal(err)
	}

	if journal != "wal" {
		t.Errorf("journal_mode = %q, want wal", journal)
	}
	if foreignKeys != 1 {
		t.Errorf("foreign_keys = %d, want 1", foreignKeys)
	}
	if busy != 10000 {
		t.Errorf("busy_timeout = %d ms, want 10000", busy)
	}
	// synchronous NORMAL is 1.
	if synchronous != 1 {
		t.Errorf("synchronous = %d, want 1 (NORMAL)", synchronous)
	}
}

func TestOpenKeepsExistingData(t *testing.T) {
	s, path := openTemp(t)
	ctx := context.Background()
	if err := s.SaveResult(ctx, newResult("run-a", "pipe-a", 3)); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s2.Close()
	statuses, err := s2.Statuses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if statuses["run-a"] != result.StatusDone {
		t.Errorf("status of run-a after reopen = %q, want done", statuses["run-a"])
	}
}

func TestOpenNewerSchemaRejected(t *testing.T) {
	s, path := openTemp(t)
	ctx := context.Background()
	if _, err := s.DB().ExecContext(ctx, `UPDATE meta SET value = '2' WHERE key = 'schema_version'`); err != nil {
		t.Fatal(err)
	}
	s.Close()

	_, err := Open(ctx, path)
	if !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("Open of a version 2 database: error %v, want ErrNewerSchema", err)
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "version 2") {
		t.Errorf("error %q does not name the path and the version", err)
	}

	_, err = OpenReadOnly(ctx, path)
	if !errors.Is(err, ErrNewerSchema) {
		t.Errorf("OpenReadOnly of a version 2 database: error %v, want ErrNewerSchema", err)
	}
}

func TestOpenReadOnlyMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.db")

	_, err := OpenReadOnly(context.Background(), path)

	if err == nil {
		t.Fatal("OpenReadOnly of a missing file succeeded")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name %s", err, path)
	}
	if _, statErr := os.Stat(path); !os.IsNotExist(statErr) {
		t.Errorf("OpenReadOnly created %s (stat error %v)", path, statErr)
	}
}

func TestOpenReadOnlyRejectsWrites(t *testing.T) {
	s, path := openTemp(t)
	ctx := context.Background()
	if err := s.SaveResult(ctx, newResult("run-a", "pipe-a", 3)); err != nil {
		t.Fatal(err)
	}

	reader, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatalf("OpenReadOnly: %v", err)
	}
	defer reader.Close()

	if err := reader.SaveResult(ctx, newResult("run-b", "pipe-a", 3)); !errors.Is(err, ErrReadOnly) {
		t.Errorf("SaveResult on a read-only store: error %v, want ErrReadOnly", err)
	}
	if _, err := reader.DB().ExecContext(ctx, `DELETE FROM runs`); err == nil {
		t.Error("DELETE through DB() of a read-only store succeeded")
	}
	statuses, err := reader.Statuses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(statuses) != 1 {
		t.Errorf("read-only store lists %d runs, want 1", len(statuses))
	}
}

func TestOpenReadOnlyNotStudyDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	_, err := OpenReadOnly(context.Background(), path)

	if err == nil || !strings.Contains(err.Error(), "not a MOSAIC study database") {
		t.Errorf("OpenReadOnly of an empty file: error %v, want not a MOSAIC study database", err)
	}
}

func TestOpenPathWithQuestionMark(t *testing.T) {
	path := filepath.Join(t.TempDir(), "study?v=1#a%20b.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	s.Close()

	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not created at %s: %v", path, err)
	}
}

func TestOpenRejectsForeignDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "other.db")
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.ExecContext(ctx, `CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)`); err != nil {
		t.Fatal(err)
	}
	other.Close()

	_, err = Open(ctx, path)

	if err == nil {
		t.Fatal("Open of another program's database succeeded")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name %s", err, path)
	}
	if !strings.Contains(err.Error(), "not a MOSAIC study database") {
		t.Errorf("error %q does not say it is not a MOSAIC study database", err)
	}
	other, err = sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var tables []string
	rows, err := other.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		rows.Scan(&name)
		tables = append(tables, name)
	}
	if len(tables) != 1 || tables[0] != "users" {
		t.Errorf("tables after the rejected Open: %q, want only users", tables)
	}
}

func TestOpenInitialisesEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	s, err := Open(context.Background(), path)

	if err != nil {
		t.Fatalf("Open of an empty file: %v", err)
	}
	s.Close()
	reader, err := OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatalf("the initialised file is not a study database: %v", err)
	}
	reader.Close()
}

func TestOpenRejectsSecondWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "study.db")
	first, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(context.Background(), path)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second writer: error %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "pid") || !strings.Contains(err.Error(), "--db") {
		t.Errorf("error %q does not say who holds the lock and what to do", err)
	}

	// Readers are never locked out.
	reader, err := OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatalf("reader while a writer is open: %v", err)
	}
	reader.Close()

	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("writer after the first closed: %v", err)
	}
	again.Close()
}
