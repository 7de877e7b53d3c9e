// Package e2e tests the mosaic command as a user runs it: a real binary, a
// real config and dataset, a real SQLite file.
package e2e

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

var mosaicBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mosaic-e2e")
	if err != nil {
		panic(err)
	}
	mosaicBin = filepath.Join(dir, "mosaic")
	build := exec.Command("go", "build", "-o", mosaicBin, "github.com/mosaic-go/mosaic/cmd/mosaic")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic("build mosaic: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// mosaic runs the binary in dir and returns its combined output.
func mosaic(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(context.Background(), mosaicBin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// copyExample copies an example config and its data into a temp folder so
// the run files land there too.
func copyExample(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join("..", "..", "examples")
	data, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"iris.csv", "diabetes.csv"} {
		b, err := os.ReadFile(filepath.Join(root, "data", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "data", f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func openDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestRunIrisStoresEveryRun(t *testing.T) {
	dir := copyExample(t, "iris.ini")
	out, err := mosaic(t, dir, "run", "iris.ini", "--db", "study.db")
	if err != nil {
		t.Fatalf("mosaic run: %v\n%s", err, out)
	}
	db := openDB(t, filepath.Join(dir, "study.db"))

	var runs, done, labels int
	if err := db.QueryRow(`SELECT count(*), sum(status = 'done'), count(DISTINCT label) FROM results`).Scan(&runs, &done, &labels); err != nil {
		t.Fatal(err)
	}
	if runs != 20 {
		t.Errorf("results has %d runs, want 20 (10 pipelines × multiplicity 2)", runs)
	}
	if done != runs {
		t.Errorf("%d of %d runs done\n%s", done, runs, out)
	}
	if labels != 10 {
		t.Errorf("results has %d labels, want 10", labels)
	}

	var best float64
	if err := db.QueryRow(`SELECT max(test_accuracy) FROM results`).Scan(&best); err != nil {
		t.Fatal(err)
	}
	if best < 0.9 {
		t.Errorf("best test accuracy %.3f, want at least 0.9", best)
	}

	// Every indicator of a finished classification run is defined.
	var nulls int
	err = db.QueryRow(`SELECT count(*) FROM results WHERE train_loss IS NULL OR test_loss IS NULL
		OR train_accuracy IS NULL OR test_accuracy IS NULL OR overfitting IS NULL OR slope IS NULL
		OR trainability IS NULL OR duration_s IS NULL OR nb_params IS NULL OR epochs != 60`).Scan(&nulls)
	if err != nil {
		t.Fatal(err)
	}
	if nulls != 0 {
		t.Errorf("%d runs have an undefined indicator or epochs != 60", nulls)
	}

	var curvePoints int
	if err := db.QueryRow(`SELECT count(*) FROM curves`).Scan(&curvePoints); err != nil {
		t.Fatal(err)
	}
	if curvePoints != 20*60 {
		t.Errorf("curves has %d rows, want %d", curvePoints, 20*60)
	}

	// Parameters and info values are queryable per run.
	var widths int
	if err := db.QueryRow(`SELECT count(DISTINCT value_num) FROM params WHERE name = 'width' AND kind = 'param'`).Scan(&widths); err != nil {
		t.Fatal(err)
	}
	if widths != 3 {
		t.Errorf("params has %d distinct widths, want 3 (4, 8, 16)", widths)
	}
	var classes float64
	if err := db.QueryRow(`SELECT value_num FROM params WHERE name = 'nb_classes' AND kind = 'info' LIMIT 1`).Scan(&classes); err != nil {
		t.Fatal(err)
	}
	if classes != 3 {
		t.Errorf("info nb_classes = %v, want 3", classes)
	}
}

func TestRunTwiceTrainsNothing(t *testing.T) {
	dir := copyExample(t, "iris.ini")
	if out, err := mosaic(t, dir, "run", "iris.ini", "--db", "study.db", "-q"); err != nil {
		t.Fatalf("first run: %v\n%s", err, out)
	}
	db := openDB(t, filepath.Join(dir, "study.db"))
	var before string
	if err := db.QueryRow(`SELECT group_concat(run_id || finished_at, ',') FROM (SELECT * FROM results ORDER BY run_id)`).Scan(&before); err != nil {
		t.Fatal(err)
	}

	out, err := mosaic(t, dir, "run", "iris.ini", "--db", "study.db")
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	if !strings.Contains(out, "nothing to do") {
		t.Errorf("second run output does not say there is nothing to do:\n%s", out)
	}
	var after string
	if err := db.QueryRow(`SELECT group_concat(run_id || finished_at, ',') FROM (SELECT * FROM results ORDER BY run_id)`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if before != after {
		t.Error("second run changed stored runs")
	}
}

func TestGrownConfigTrainsOnlyNewPipelines(t *testing.T) {
	dir := copyExample(t, "iris.ini")
	if out, err := mosaic(t, dir, "run", "iris.ini", "--db", "study.db", "-q"); err != nil {
		t.Fatalf("first run: %v\n%s", err, out)
	}
	cfg := filepath.Join(dir, "iris.ini")
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	grown := strings.Replace(string(data), "width = 4, 8\n", "width = 4, 8, 12\n", 1)
	if grown == string(data) {
		t.Fatal("example iris.ini no longer has the line 'width = 4, 8' this test grows")
	}
	if err := os.WriteFile(cfg, []byte(grown), 0o644); err != nil {
		t.Fatal(err)
	}

	out, err := mosaic(t, dir, "run", "iris.ini", "--db", "study.db")
	if err != nil {
		t.Fatalf("grown run: %v\n%s", err, out)
	}
	// The brick section gains width 12 for lengths 1 and 2: 2 pipelines, 4 runs.
	if !strings.Contains(out, "4 done") || !strings.Contains(out, "20 already in") {
		t.Errorf("grown run should train 4 new runs and skip 20:\n%s", out)
	}
}

func TestFailingPipelineIsRecorded(t *testing.T) {
	dir := copyExample(t, "iris.ini")
	cfg := `[PROCESS]
lr = 1e-2
epochs = 3
loss_function = CrossEntropyLoss
data_scheme = dataset
pipeline_scheme = model
run_files_path = runs

[MONITOR]
nb_processus = 2

[good]
type = dataset
class = csv
path = data/iris.csv

[missing]
type = dataset
class = csv
path = data/no_such_file.csv

[mlp]
type = model
class = mlp_brick
width = 4
length = 1
`
	if err := os.WriteFile(filepath.Join(dir, "mixed.ini"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := mosaic(t, dir, "run", "mixed.ini", "--db", "study.db")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("a study with a failed run must end with exit status 3, got %v\n%s", err, out)
	}
	if !strings.Contains(out, "1 run failed") {
		t.Errorf("output does not say a run failed:\n%s", out)
	}
	db := openDB(t, filepath.Join(dir, "study.db"))
	var status, msg string
	err = db.QueryRow(`SELECT status, coalesce(error, '') FROM results WHERE label LIKE 'csv(no_such_file)%'`).Scan(&status, &msg)
	if err != nil {
		t.Fatalf("failed run not in results: %v", err)
	}
	if status != "failed" {
		t.Errorf("status %q, want failed", status)
	}
	if !strings.Contains(msg, "no_such_file.csv") {
		t.Errorf("error %q does not name the missing file", msg)
	}
	var done int
	if err := db.QueryRow(`SELECT count(*) FROM results WHERE status = 'done'`).Scan(&done); err != nil {
		t.Fatal(err)
	}
	if done != 1 {
		t.Errorf("%d runs done, want the 1 good pipeline", done)
	}
}

func TestBadConfigNamesSectionAndKey(t *testing.T) {
	dir := t.TempDir()
	cfg := `[PROCESS]
lr = 1e-2
epochs = 3
loss_function = CrossEntropyLoss
data_scheme = dataset
pipeline_scheme = model
run_files_path = runs

[data]
type = dataset
class = csv
path = x.csv

[mlp]
type = model
class = mlp_brick
width = {5-2}
length = 1
`
	if err := os.WriteFile(filepath.Join(dir, "bad.ini"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := mosaic(t, dir, "run", "bad.ini", "--db", "study.db")
	if err == nil {
		t.Fatalf("mosaic run accepted an empty range:\n%s", out)
	}
	for _, want := range []string{"bad.ini", "[mlp]", "width", "{5-2}"} {
		if !strings.Contains(out, want) {
			t.Errorf("error output does not contain %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "study.db")); err == nil {
		t.Error("a config error created the database")
	}
}

func TestGenerateWritesPipelines(t *testing.T) {
	dir := copyExample(t, "iris.ini")
	out, err := mosaic(t, dir, "generate", "iris.ini", "-o", "pipelines")
	if err != nil {
		t.Fatalf("mosaic generate: %v\n%s", err, out)
	}
	files, err := filepath.Glob(filepath.Join(dir, "pipelines", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	// 10 pipelines plus index.json.
	if len(files) != 11 {
		t.Errorf("generate wrote %d JSON files, want 11", len(files))
	}
	if _, err := os.Stat(filepath.Join(dir, "runs")); err == nil {
		t.Error("generate created the run files folder: it must train nothing")
	}
}
