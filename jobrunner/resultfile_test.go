package jobrunner

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mosaic-go/mosaic/result"
)

// sampleResult returns a result with every kind of field set.
func sampleResult() *result.Result {
	loss := 0.25
	params := 1234
	exit := 0
	diverged := 3
	return &result.Result{
		SchemaVersion: result.SchemaVersion,
		RunID:         "r-0001",
		PipelineID:    "p-42",
		Label:         "csv(iris)+mlp(8)",
		Replica:       2,
		Seed:          1<<63 + 5,
		Status:        result.StatusDiverged,
		DivergedEpoch: &diverged,
		Epochs:        2,
		Params: []result.Param{
			{Stage: -1, StageType: "process", Kind: "param", Name: "lr", Value: 0.001},
			{Stage: 0, StageType: "dataset", Class: "csv", Kind: "param", Name: "path", Value: "iris.csv"},
			{Stage: 0, StageType: "dataset", Class: "csv", Kind: "info", Name: "input_shape", Value: []int{4}},
		},
		Curves: result.Curves{
			TrainLoss: []float64{1.5, 0.5}, TestLoss: []float64{1.25, 0.75},
			TrainAccuracy: []float64{0.5, 0.9}, TestAccuracy: []float64{0.4, 0.8}, EpochSeconds: []float64{0.01, 0.02},
		},
		Indicators: result.Indicators{TestLoss: &loss, NbParams: &params},
		StartedAt:  time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
		FinishedAt: time.Date(2026, 1, 2, 3, 5, 0, 0, time.UTC),
		Host:       "node7",
		Device:     "cpu",
		GPUs:       []string{"GPU-ddc1c098"},
		ExitCode:   &exit,
		Files:      map[string]string{"log": "/runs/r-0001/run.log"},
	}
}

func TestResultRoundTrip(t *testing.T) {
	dir := t.TempDir()
	want := sampleResult()
	path, err := WriteResult(dir, want)
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, "r-0001.json") {
		t.Errorf("path = %s, want <dir>/r-0001.json", path)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries, want only the result (no temporary file left)", len(entries))
	}

	got, err := ReadResult(path)
	if err != nil {
		t.Fatal(err)
	}
	// Parameter values come back as JSON types, so compare the encodings.
	wantJSON, _ := json.Marshal(want)
	gotJSON, _ := json.Marshal(got)
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("round trip changed the result:\n got %s\nwant %s", gotJSON, wantJSON)
	}
	if got.Seed != want.Seed {
		t.Errorf("seed = %d, want %d (64-bit seeds must survive)", got.Seed, want.Seed)
	}

	// Writing again replaces the document.
	want.Status = result.StatusDone
	if _, err := WriteResult(dir, want); err != nil {
		t.Fatal(err)
	}
	if again, _ := ReadResult(path); again == nil || again.Status != result.StatusDone {
		t.Errorf("rewritten result not read back: %+v", again)
	}
}

func TestReadResultRejectsOtherVersion(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"v2.json":      `{"schema_version": 2, "run_id": "a", "status": "done"}`,
		"missing.json": `{"run_id": "a", "status": "done"}`,
	}
	for name, doc := range cases {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(doc), 0o644)
		_, err := ReadResult(path)
		if !errors.Is(err, ErrSchemaVersion) {
			t.Errorf("%s: error %v, want ErrSchemaVersion", name, err)
		}
		if err != nil && !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %q does not name the file", name, err)
		}
	}
	if _, err := ReadResult(filepath.Join(dir, "v2.json")); err == nil || !strings.Contains(err.Error(), "schema version 2") {
		t.Errorf("error %v does not show the version found", err)
	}
}

func TestReadResultInvalidJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(path, []byte(`{"schema_version": 1, "epochs": "many"`), 0o644)
	if _, err := ReadResult(path); err == nil || !strings.Contains(err.Error(), "decode result") {
		t.Errorf("error = %v, want a decode error", err)
	}
	if _, err := ReadResult(filepath.Join(t.TempDir(), "absent.json")); err == nil {
		t.Error("reading a missing file gave no error")
	}
}

func TestWriteResultRejectsBadRunID(t *testing.T) {
	for _, id := range []string{"", "..", "a/b"} {
		r := sampleResult()
		r.RunID = id
		if _, err := WriteResult(t.TempDir(), r); err == nil || !strings.Contains(err.Error(), "invalid run ID") {
			t.Errorf("run ID %q: error %v", id, err)
		}
	}
}

func TestWriteResultCreatesFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "study", "results")
	path, err := WriteResult(dir, sampleResult())
	if err != nil {
		t.Fatalf("write into a missing folder: %v", err)
	}
	if _, err := ReadResult(path); err != nil {
		t.Errorf("read back: %v", err)
	}
}
