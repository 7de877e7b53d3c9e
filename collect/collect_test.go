package collect

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mosaic-go/mosaic/result"
	"github.com/mosaic-go/mosaic/store"
)

// makeResult returns a done result of run i with epochs curve entries.
func makeResult(i, epochs int) *result.Result {
	c := result.Curves{}
	for e := range epochs {
		c.TrainLoss = append(c.TrainLoss, 1/float64(e+1))
		c.TestLoss = append(c.TestLoss, 1.1/float64(e+1))
		c.TrainAccuracy = append(c.TrainAccuracy, 0.5+0.4*float64(e)/float64(epochs))
		c.TestAccuracy = append(c.TestAccuracy, 0.5+0.3*float64(e)/float64(epochs))
		c.EpochSeconds = append(c.EpochSeconds, 0.01)
	}
	loss := c.TestLoss[epochs-1]
	start := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	return &result.Result{
		SchemaVersion: result.SchemaVersion,
		RunID:         fmt.Sprintf("run%05d", i),
		PipelineID:    fmt.Sprintf("pipe%03d", i%100),
		Label:         fmt.Sprintf("mlp(%d)", i%100),
		Replica:       i / 100,
		Seed:          uint64(i),
		Status:        result.StatusDone,
		Epochs:        epochs,
		Params: []result.Param{
			{Stage: 0, StageType: "dataset", Class: "csv", Kind: "param", Name: "path", Value: "iris.csv"},
			{Stage: 1, StageType: "model", Class: "mlp_funnel", Kind: "param", Name: "width", Value: float64(4 + i%3)},
		},
		Curves:     c,
		Indicators: result.Indicators{TestLoss: &loss},
		StartedAt:  start,
		FinishedAt: start.Add(time.Minute),
		Host:       "node1",
		Device:     "cpu",
	}
}

func writeResult(t testing.TB, dir string, r *result.Result) string {
	t.Helper()
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, r.RunID+".json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func countResults(t *testing.T, dbPath string) int {
	t.Helper()
	db, err := store.OpenReadOnly(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.DB().QueryRow("SELECT count(*) FROM results").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCollectIdempotent(t *testing.T) {
	ctx := context.Background()
	dir, dbPath := t.TempDir(), filepath.Join(t.TempDir(), "study.db")
	for i := range 30 {
		writeResult(t, dir, makeResult(i, 5))
	}
	opts := Options{Dirs: []string{dir}, DB: dbPath, BatchSize: 7}

	first, err := Collect(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if first.Files != 30 || first.Valid != 30 || first.Inserted != 30 {
		t.Errorf("first collect: %+v, want 30 files, valid and inserted", first)
	}

	second, err := Collect(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if second.Inserted != 0 || second.Unchanged != 30 || second.Conflicts != 0 {
		t.Errorf("second collect: %+v, want 30 unchanged and nothing inserted", second)
	}

	// The folder grows while jobs finish: only the new runs are inserted.
	for i := 30; i < 35; i++ {
		writeResult(t, dir, makeResult(i, 5))
	}
	third, err := Collect(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if third.Inserted != 5 || third.Unchanged != 30 {
		t.Errorf("third collect: %+v, want 5 inserted and 30 unchanged", third)
	}
	if n := countResults(t, dbPath); n != 35 {
		t.Errorf("results view has %d rows, want 35", n)
	}
}

func TestCollectRejectsBadFiles(t *testing.T) {
	ctx := context.Background()
	dir, dbPath := t.TempDir(), filepath.Join(t.TempDir(), "study.db")
	writeResult(t, dir, makeResult(1, 3))
	sub := filepath.Join(dir, "more")
	os.Mkdir(sub, 0o755)
	writeResult(t, sub, makeResult(2, 3))

	full, _ := json.Marshal(makeResult(3, 3))
	bad := map[string][]byte{
		"truncated.json": full[:len(full)/2],
		"v2.json":        []byte(strings.Replace(string(full), `"schema_version":1`, `"schema_version":2`, 1)),
		"foreign.json":   []byte(`{"name": "package.json", "version": "1.0.0"}`),
		"spec.json":      []byte(`{"schema_version":1,"run_id":"r","replica":0,"seed":1,"pipeline":{}}`),
		"short.json":     []byte(strings.Replace(string(full), `"epochs":3`, `"epochs":4`, 1)),
	}
	for name, data := range bad {
		os.WriteFile(filepath.Join(dir, name), data, 0o644)
	}
	// A job still writing its result leaves a hidden temporary file.
	os.WriteFile(filepath.Join(dir, ".run00004.json.tmp"), full[:10], 0o644)

	report, err := Collect(ctx, Options{Dirs: []string{dir}, DB: dbPath})
	if err != nil {
		t.Fatal(err)
	}
	if report.Inserted != 2 || report.Valid != 2 {
		t.Errorf("got %+v, want the 2 valid results inserted", report)
	}
	if report.Temporary != 1 {
		t.Errorf("skipped %d temporary files, want 1", report.Temporary)
	}
	reasons := map[string]string{}
	for _, r := range report.Rejected {
		reasons[filepath.Base(r.Path)] = r.Reason
	}
	want := map[string]string{
		"truncated.json": "invalid JSON",
		"v2.json":        "schema version 2, expected 1",
		"foreign.json":   "schema_version is missing",
		"spec.json":      "unknown field",
		"short.json":     "3 train_loss entries for 4 epochs",
	}
	for name, fragment := range want {
		if !strings.Contains(reasons[name], fragment) {
			t.Errorf("%s rejected for %q, want a reason containing %q", name, reasons[name], fragment)
		}
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s was not left in place: %v", name, err)
		}
	}
	if len(report.Rejected) != len(want) {
		t.Errorf("rejected %d files, want %d: %+v", len(report.Rejected), len(want), report.Rejected)
	}
	if n := countResults(t, dbPath); n != 2 {
		t.Errorf("results view has %d rows, want 2", n)
	}
}

func TestCollectMissingFolder(t *testing.T) {
	ctx := context.Background()
	dir, dbPath := t.TempDir(), filepath.Join(t.TempDir(), "study.db")
	writeResult(t, dir, makeResult(1, 3))
	file := writeResult(t, dir, makeResult(2, 3))
	missing := filepath.Join(t.TempDir(), "nope")
	throughFile := filepath.Join(file, "sub")

	report, err := Collect(ctx, Options{Dirs: []string{dir, missing, throughFile}, DB: dbPath})

	if err != nil {
		t.Fatalf("Collect with a missing folder: %v", err)
	}
	if report.Inserted != 2 {
		t.Errorf("inserted %d results, want the 2 of the folder that exists: %+v", report.Inserted, report)
	}
	if n := countResults(t, dbPath); n != 2 {
		t.Errorf("results view has %d rows, want 2", n)
	}
	if len(report.MissingDirs) != 2 || report.MissingDirs[0] != missing || report.MissingDirs[1] != throughFile {
		t.Errorf("MissingDirs = %q, want [%s %s]", report.MissingDirs, missing, throughFile)
	}
	reasons := map[string]string{}
	for _, r := range report.Rejected {
		reasons[r.Path] = r.Reason
	}
	for _, path := range []string{missing, throughFile} {
		if reasons[path] != "folder not found" {
			t.Errorf("%s rejected for %q, want folder not found", path, reasons[path])
		}
	}
	if len(report.Rejected) != 2 {
		t.Errorf("rejected %+v, want the 2 missing folders", report.Rejected)
	}
}

func TestCollectUnreadableSubfolder(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root can read a folder of mode 000")
	}
	ctx := context.Background()
	dir, dbPath := t.TempDir(), filepath.Join(t.TempDir(), "study.db")
	writeResult(t, dir, makeResult(1, 3))
	locked := filepath.Join(dir, "locked")
	if err := os.Mkdir(locked, 0o755); err != nil {
		t.Fatal(err)
	}
	writeResult(t, locked, makeResult(2, 3))
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(locked, 0o755) })
	other := t.TempDir()
	writeResult(t, other, makeResult(3, 3))

	// A batch of 500 is never full here, so the results are saved only by
	// the final, partial batch.
	report, err := Collect(ctx, Options{Dirs: []string{dir, other}, DB: dbPath})

	if err != nil {
		t.Fatalf("Collect with an unreadable sub-folder: %v", err)
	}
	if report.Inserted != 2 {
		t.Errorf("inserted %d results, want the 2 readable ones: %+v", report.Inserted, report)
	}
	if len(report.MissingDirs) != 0 {
		t.Errorf("MissingDirs = %q, want none", report.MissingDirs)
	}
	if len(report.Rejected) != 1 {
		t.Fatalf("rejected %+v, want the unreadable folder", report.Rejected)
	}
	if report.Rejected[0].Path != locked {
		t.Errorf("rejected %s, want %s", report.Rejected[0].Path, locked)
	}
	if !strings.Contains(report.Rejected[0].Reason, "permission denied") {
		t.Errorf("reason %q does not say permission denied", report.Rejected[0].Reason)
	}
}

// BenchmarkCollect10000 collects 10,000 result files of 200 epochs each into
// a new database per iteration and reports files per second.
func BenchmarkCollect10000(b *testing.B) {
	const files, epochs = 10000, 200
	dir := b.TempDir()
	for i := range files {
		writeResult(b, dir, makeResult(i, epochs))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dbPath := filepath.Join(b.TempDir(), "study.db")
		report, err := Collect(context.Background(), Options{Dirs: []string{dir}, DB: dbPath})
		if err != nil {
			b.Fatal(err)
		}
		if report.Inserted != files {
			b.Fatalf("inserted %d, want %d", report.Inserted, files)
		}
	}
	b.ReportMetric(float64(files*b.N)/b.Elapsed().Seconds(), "files/s")
}
