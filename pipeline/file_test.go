package pipeline

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func TestWriteDirAndRead(t *testing.T) {
	pipelines := mustExpand(t, gridConfig)[:5]
	dir := filepath.Join(t.TempDir(), "out")
	if err := WriteDir(dir, pipelines); err != nil {
		t.Fatal(err)
	}

	index, err := ReadIndex(filepath.Join(dir, IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	if index.Count != 5 || len(index.Pipelines) != 5 || index.ConfigPath != "grid.ini" || index.SchemaVersion != SpecVersion {
		t.Errorf("index = %+v", index)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 6 {
		t.Errorf("folder holds %d files, want 5 pipelines and the index (no temporary files)", len(entries))
	}

	for i, e := range index.Pipelines {
		p, err := ReadPipeline(filepath.Join(dir, e.File))
		if err != nil {
			t.Fatal(err)
		}
		if p.ID != pipelines[i].ID || e.Label != pipelines[i].Label || p.Label != e.Label {
			t.Errorf("entry %d: %+v, file id %s, want %s", i, e, p.ID, pipelines[i].ID)
		}
		// Numbers come back as float64, which hash like the original ints.
		if got := ComputeID(p); got != p.ID {
			t.Errorf("ComputeID of the read pipeline = %s, want %s", got, p.ID)
		}
	}
}

func TestSpecRoundTrip(t *testing.T) {
	spec := Runs(mustExpand(t, gridConfig)[3], 2)[1]
	path := filepath.Join(t.TempDir(), "run.json")
	if err := WriteSpec(path, spec); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSpec(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.RunID != spec.RunID || got.Seed != spec.Seed || got.Replica != 1 || got.Pipeline.Label != spec.Pipeline.Label {
		t.Errorf("read spec %+v, want %+v", got, spec)
	}
	if !reflect.DeepEqual(got.Pipeline.Process, spec.Pipeline.Process) {
		t.Errorf("process = %+v, want %+v", got.Pipeline.Process, spec.Pipeline.Process)
	}
}

func TestReadRejectsSchemaVersion(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"future.json":  `{"schema_version": 99, "id": "abc"}`,
		"missing.json": `{"id": "abc"}`,
	}
	for name, text := range cases {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadPipeline(path); !errors.Is(err, ErrSchemaVersion) {
			t.Errorf("ReadPipeline(%s) = %v, want ErrSchemaVersion", name, err)
		}
		if _, err := ReadSpec(path); !errors.Is(err, ErrSchemaVersion) {
			t.Errorf("ReadSpec(%s) = %v, want ErrSchemaVersion", name, err)
		}
	}
}

// TestPipelineGolden compares one expanded pipeline with
// testdata/pipeline.golden.json; go test ./pipeline -update rewrites it.
func TestPipelineGolden(t *testing.T) {
	p := mustExpand(t, gridConfig)[5*4]
	// The folders depend on the working directory, so they are masked.
	p.BaseDir, p.RunFilesPath = "/study", "/study/runs"
	got, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "pipeline.golden.json")
	if *update {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden file (run go test ./pipeline -update to create it): %v", err)
	}
	if string(want) != string(got)+"\n" {
		t.Errorf("pipeline JSON differs from %s:\n%s", golden, got)
	}
}
