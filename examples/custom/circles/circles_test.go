package circles

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mosaic-go/mosaic/stage"
	_ "modernc.org/sqlite"
)

func TestCirclesStage(t *testing.T) {
	comp, err := stage.Lookup("circles")
	if err != nil {
		t.Fatal(err)
	}
	s, err := comp.New(stage.Params{"data_size": 100, "factor": 0.3, "noise": 0.0, "train_prop": 0.75, "batch_size": 8})
	if err != nil {
		t.Fatal(err)
	}
	data, _, err := s.(stage.DataStage).Apply(context.Background(), stage.Env{Seed: 1}, nil, stage.Info{})
	if err != nil {
		t.Fatal(err)
	}
	if data.Train.N != 75 || data.Test.N != 25 || data.BatchSize != 8 {
		t.Fatalf("%d training and %d test samples, batch %d, want 75, 25 and 8", data.Train.N, data.Test.N, data.BatchSize)
	}
	for i := 0; i < data.Train.N; i++ {
		x, y := float64(data.Train.X[2*i]), float64(data.Train.X[2*i+1])
		want := map[float32]float64{0: 1, 1: 0.09}[data.Train.Y[i]]
		if r2 := x*x + y*y; r2 < want-1e-5 || r2 > want+1e-5 {
			t.Errorf("sample %d of class %v has squared radius %g, want %g", i, data.Train.Y[i], r2, want)
		}
	}
	if _, err := comp.New(stage.Params{"data_size": 100, "factor": 1.5, "noise": 0.0, "train_prop": 0.75, "batch_size": 8}); err == nil ||
		!strings.Contains(err.Error(), "invalid factor 1.5") {
		t.Errorf("factor 1.5: error %v, want one naming the factor", err)
	}
}

// TestCustomMosaic builds the custom command as a user would, lists its
// classes and runs circles.ini, then reads the results from the database.
func TestCustomMosaic(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the mosaic command")
	}
	dir := t.TempDir()
	exe := filepath.Join(dir, "mosaic-circles")
	build := exec.Command("go", "build", "-o", exe, "github.com/mosaic-go/mosaic/examples/custom/cmd/mosaic")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	out, err := exec.Command(exe, "classes").CombinedOutput()
	if err != nil {
		t.Fatalf("mosaic classes: %v\n%s", err, out)
	}
	for _, class := range []string{"circles", "csv", "mlp_brick"} {
		if !strings.Contains(string(out), class) {
			t.Errorf("mosaic classes does not list %s:\n%s", class, out)
		}
	}

	// Run a copy of the study so that its run folder goes to the temporary
	// folder, not into the repository.
	config, err := os.ReadFile("../circles.ini")
	if err != nil {
		t.Fatal(err)
	}
	study := filepath.Join(dir, "circles.ini")
	if err := os.WriteFile(study, config, 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "circles.db")
	out, err = exec.Command(exe, "run", study, "--db", db, "--quiet").CombinedOutput()
	if err != nil {
		t.Fatalf("mosaic run: %v\n%s", err, out)
	}

	conn, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var done int
	var best float64
	row := conn.QueryRow(`SELECT count(*), max(test_accuracy) FROM runs WHERE status = 'done'`)
	if err := row.Scan(&done, &best); err != nil {
		t.Fatalf("read the runs: %v", err)
	}
	if done != 4 {
		t.Errorf("%d runs done, want 4 (2 pipelines × multiplicity 2)\n%s", done, out)
	}
	if best < 0.9 {
		t.Errorf("best test accuracy %.3f, want at least 0.9 for the width-8 MLP on circles", best)
	}
}

// TestCustomMosaicJob builds the custom cluster job and trains one circles
// run from a spec that the custom mosaic submit wrote.
func TestCustomMosaicJob(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the mosaic and mosaic-job commands")
	}
	dir := t.TempDir()
	exe := filepath.Join(dir, "mosaic-circles")
	job := filepath.Join(dir, "mosaic-job-circles")
	for bin, pkg := range map[string]string{
		exe: "github.com/mosaic-go/mosaic/examples/custom/cmd/mosaic",
		job: "github.com/mosaic-go/mosaic/examples/custom/cmd/mosaic-job",
	} {
		build := exec.Command("go", "build", "-o", bin, pkg)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}

	config, err := os.ReadFile("../circles.ini")
	if err != nil {
		t.Fatal(err)
	}
	study := filepath.Join(dir, "circles.ini")
	if err := os.WriteFile(study, config, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(exe, "submit", "--condor", study, "--out", filepath.Join(dir, "study"), "--job-binary", job).CombinedOutput()
	if err != nil {
		t.Fatalf("mosaic submit: %v\n%s", err, out)
	}
	specs, err := filepath.Glob(filepath.Join(dir, "study", "pipelines", "*.json"))
	if err != nil || len(specs) == 0 {
		t.Fatalf("submit wrote no run spec (%v)\n%s", err, out)
	}

	results := filepath.Join(dir, "results")
	out, err = exec.Command(job, "--spec", specs[0], "--out", results, "--run-dir", filepath.Join(dir, "run")).CombinedOutput()
	if err != nil {
		t.Fatalf("mosaic-job: %v\n%s", err, out)
	}
	doc, err := os.ReadFile(filepath.Join(results, strings.TrimSuffix(filepath.Base(specs[0]), ".json")+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), `"status": "done"`) && !strings.Contains(string(doc), `"status":"done"`) {
		t.Errorf("the circles run is not done:\n%.400s", doc)
	}
}
