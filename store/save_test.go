package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/mosaic-go/mosaic/result"
)

func TestSaveResultNullIndicators(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	r := newResult("run-a", "pipe-a", 1)
	r.Curves.TrainAccuracy, r.Curves.TestAccuracy = nil, nil
	r.Indicators.TrainAccuracy, r.Indicators.TestAccuracy = nil, nil

	if err := s.SaveResult(ctx, r); err != nil {
		t.Fatal(err)
	}

	// One epoch leaves slope and both sigmas undefined, and regression
	// leaves both accuracies undefined.
	var slope, plus, minus, trainAccuracy, testAccuracy, trainLoss sql.NullFloat64
	err := s.DB().QueryRowContext(ctx, `SELECT slope, slope_sigma_plus, slope_sigma_minus,
    train_accuracy, test_accuracy, train_loss FROM results WHERE run_id = 'run-a'`).
		Scan(&slope, &plus, &minus, &trainAccuracy, &testAccuracy, &trainLoss)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]sql.NullFloat64{
		"slope": slope, "slope_sigma_plus": plus, "slope_sigma_minus": minus,
		"train_accuracy": trainAccuracy, "test_accuracy": testAccuracy,
	} {
		if v.Valid {
			t.Errorf("%s = %v, want NULL", name, v.Float64)
		}
	}
	if !trainLoss.Valid || trainLoss.Float64 != 1 {
		t.Errorf("train_loss = %+v, want 1", trainLoss)
	}
}

func TestSaveResultRunColumns(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	r := newResult("run-a", "pipe-a", 4)
	r.Seed = math.MaxUint64
	r.GPUs = []string{"0", "GPU-ddc1c098"}
	r.Files = map[string]string{"curves": "runs/run-a/curves.csv"}
	exitCode := 0
	r.ExitCode = &exitCode

	if err := s.SaveResult(ctx, r); err != nil {
		t.Fatal(err)
	}

	var seed int64
	var label, status, startedAt, finishedAt, gpus, files string
	var epochs, nbParams, storedExit int
	var testLoss, duration float64
	err := s.DB().QueryRowContext(ctx, `SELECT r.seed, r.label, r.status, r.started_at, r.finished_at,
    r.gpus, runs.files_json, r.epochs, r.nb_params, r.exit_code, r.test_loss, r.duration_s
FROM results r JOIN runs USING (run_id) WHERE run_id = 'run-a'`).
		Scan(&seed, &label, &status, &startedAt, &finishedAt, &gpus, &files, &epochs, &nbParams,
			&storedExit, &testLoss, &duration)
	if err != nil {
		t.Fatal(err)
	}

	if uint64(seed) != math.MaxUint64 {
		t.Errorf("seed read back as %d, want %d", uint64(seed), uint64(math.MaxUint64))
	}
	if label != "mlp(pipe-a)" {
		t.Errorf("label = %q, want mlp(pipe-a)", label)
	}
	if status != "done" {
		t.Errorf("status = %q, want done", status)
	}
	if startedAt != "2026-01-02T15:04:05.000Z" || finishedAt != "2026-01-02T15:05:00.250Z" {
		t.Errorf("started_at, finished_at = %q, %q", startedAt, finishedAt)
	}
	if gpus != "0,GPU-ddc1c098" {
		t.Errorf("gpus = %q, want 0,GPU-ddc1c098", gpus)
	}
	if files != `{"curves":"runs/run-a/curves.csv"}` {
		t.Errorf("files_json = %s", files)
	}
	if epochs != 4 || nbParams != 42 || storedExit != 0 {
		t.Errorf("epochs, nb_params, exit_code = %d, %d, %d, want 4, 42, 0", epochs, nbParams, storedExit)
	}
	if testLoss != 0.375 || duration != 55.25 {
		t.Errorf("test_loss, duration_s = %v, %v, want 0.375, 55.25", testLoss, duration)
	}
}

func TestSaveResultParams(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	if err := s.SaveResult(ctx, newResult("run-a", "pipe-a", 2)); err != nil {
		t.Fatal(err)
	}

	want := map[string]struct {
		text string
		num  sql.NullFloat64
	}{
		"n_samples":     {"400", sql.NullFloat64{Float64: 400, Valid: true}},
		"width":         {"0.5", sql.NullFloat64{Float64: 0.5, Valid: true}},
		"bias":          {"True", sql.NullFloat64{Float64: 1, Valid: true}},
		"layers":        {"[4,8]", sql.NullFloat64{}},
		"loss_function": {"cross_entropy", sql.NullFloat64{}},
	}
	rows, err := s.DB().QueryContext(ctx, `SELECT name, value_text, value_num FROM params WHERE run_id = 'run-a'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := 0
	for rows.Next() {
		var name, text string
		var num sql.NullFloat64
		if err := rows.Scan(&name, &text, &num); err != nil {
			t.Fatal(err)
		}
		seen++
		w, ok := want[name]
		if !ok {
			t.Errorf("unexpected parameter %s", name)
			continue
		}
		if text != w.text {
			t.Errorf("%s value_text = %q, want %q", name, text, w.text)
		}
		if num != w.num {
			t.Errorf("%s value_num = %+v, want %+v", name, num, w.num)
		}
	}
	if seen != len(want) {
		t.Errorf("found %d params rows, want %d", seen, len(want))
	}
}

// TestSaveResultParamsFromJSON checks that a result decoded from a file,
// whose numbers are float64 and lists []any, stores the same values.
func TestSaveResultParamsFromJSON(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	b, err := json.Marshal(newResult("run-a", "pipe-a", 2))
	if err != nil {
		t.Fatal(err)
	}
	var decoded result.Result
	if err := json.Unmarshal(b, &decoded); err != nil {
		t.Fatal(err)
	}

	if err := s.SaveResult(ctx, &decoded); err != nil {
		t.Fatal(err)
	}

	var nSamples, layers string
	var nSamplesNum float64
	var layersNum sql.NullFloat64
	err = s.DB().QueryRowContext(ctx, `SELECT value_text, value_num FROM params
WHERE run_id = 'run-a' AND name = 'n_samples'`).Scan(&nSamples, &nSamplesNum)
	if err != nil {
		t.Fatal(err)
	}
	err = s.DB().QueryRowContext(ctx, `SELECT value_text, value_num FROM params
WHERE run_id = 'run-a' AND name = 'layers'`).Scan(&layers, &layersNum)
	if err != nil {
		t.Fatal(err)
	}
	if nSamples != "400" || nSamplesNum != 400 {
		t.Errorf("n_samples = %q, %v, want 400, 400", nSamples, nSamplesNum)
	}
	if layers != "[4,8]" || layersNum.Valid {
		t.Errorf("layers = %q, %+v, want [4,8], NULL", layers, layersNum)
	}
}

func TestCurvesRoundTrip(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	r := newResult("run-a", "pipe-a", 5)
	r.Curves.TestLoss[2] = math.Inf(1)

	if err := s.SaveResult(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := s.Curves(ctx, "run-a")
	if err != nil {
		t.Fatal(err)
	}

	if !reflect.DeepEqual(got, r.Curves) {
		t.Errorf("curves read back:\n%+v\nwant\n%+v", got, r.Curves)
	}
}

// TestCurvesNaNAndRegression checks that a NaN reads back as NaN and that
// absent accuracy curves read back as nil.
func TestCurvesNaNAndRegression(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	r := newResult("run-a", "pipe-a", 3)
	r.Status = result.StatusDiverged
	r.Curves.TrainAccuracy, r.Curves.TestAccuracy = nil, nil
	r.Curves.TrainLoss[2] = math.NaN()

	if err := s.SaveResult(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := s.Curves(ctx, "run-a")
	if err != nil {
		t.Fatal(err)
	}

	if len(got.TrainLoss) != 3 || !math.IsNaN(got.TrainLoss[2]) || got.TrainLoss[1] != 0.5 {
		t.Errorf("train_loss read back as %v, want [1 0.5 NaN]", got.TrainLoss)
	}
	if got.TrainAccuracy != nil || got.TestAccuracy != nil {
		t.Errorf("accuracy curves read back as %v, %v, want nil", got.TrainAccuracy, got.TestAccuracy)
	}
}

func TestCurvesUnknownRun(t *testing.T) {
	s, _ := openTemp(t)

	_, err := s.Curves(context.Background(), "missing")

	if !errors.Is(err, ErrRunNotFound) {
		t.Errorf("Curves of an unknown run: error %v, want ErrRunNotFound", err)
	}
}

func TestSaveResultsIdempotent(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	results := []*result.Result{newResult("run-a", "pipe-a", 3), newResult("run-b", "pipe-a", 3)}

	first, err := s.SaveResults(ctx, results)
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.SaveResults(ctx, results)
	if err != nil {
		t.Fatal(err)
	}

	if first.Inserted != 2 || first.Unchanged != 0 || first.Conflicts != 0 {
		t.Errorf("first save: %+v, want 2 inserted", first)
	}
	if second.Inserted != 0 || second.Unchanged != 2 || second.Conflicts != 0 {
		t.Errorf("second save: %+v, want 2 unchanged", second)
	}
	if !reflect.DeepEqual(second.Outcomes, []Outcome{Unchanged, Unchanged}) {
		t.Errorf("second save outcomes = %v", second.Outcomes)
	}
	var curves int
	if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM curves`).Scan(&curves); err != nil {
		t.Fatal(err)
	}
	if curves != 6 {
		t.Errorf("curves rows = %d, want 6", curves)
	}
}

// TestSaveResultsDecodedTwice checks that one result file decoded twice
// hashes the same, as collect of the same file twice does.
func TestSaveResultsDecodedTwice(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	b, err := json.Marshal(newResult("run-a", "pipe-a", 3))
	if err != nil {
		t.Fatal(err)
	}

	var outcomes []Outcome
	for range 2 {
		var r result.Result
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		summary, err := s.SaveResults(ctx, []*result.Result{&r})
		if err != nil {
			t.Fatal(err)
		}
		outcomes = append(outcomes, summary.Outcomes...)
	}

	if !reflect.DeepEqual(outcomes, []Outcome{Inserted, Unchanged}) {
		t.Errorf("outcomes = %v, want [inserted unchanged]", outcomes)
	}
}

func TestSaveResultsConflict(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	stored := newResult("run-a", "pipe-a", 3)
	if err := s.SaveResult(ctx, stored); err != nil {
		t.Fatal(err)
	}
	different := newResult("run-a", "pipe-a", 4)

	summary, err := s.SaveResults(ctx, []*result.Result{different})
	if err != nil {
		t.Fatal(err)
	}
	singleErr := s.SaveResult(ctx, different)

	if summary.Conflicts != 1 || !reflect.DeepEqual(summary.Outcomes, []Outcome{Conflict}) {
		t.Errorf("summary = %+v, want one conflict", summary)
	}
	if !errors.Is(singleErr, ErrConflict) {
		t.Errorf("SaveResult of a conflicting result: error %v, want ErrConflict", singleErr)
	}
	var epochs int
	if err := s.DB().QueryRowContext(ctx, `SELECT epochs FROM runs WHERE run_id = 'run-a'`).Scan(&epochs); err != nil {
		t.Fatal(err)
	}
	if epochs != 3 {
		t.Errorf("stored epochs = %d, want the stored result's 3", epochs)
	}
}

func TestSaveResultsReplacesFailed(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	failed := newResult("run-a", "pipe-a", 2)
	failed.Status = result.StatusFailed
	failed.Error = "train: out of memory"
	if err := s.SaveResult(ctx, failed); err != nil {
		t.Fatal(err)
	}

	summary, err := s.SaveResults(ctx, []*result.Result{newResult("run-a", "pipe-a", 5)})
	if err != nil {
		t.Fatal(err)
	}

	if !reflect.DeepEqual(summary.Outcomes, []Outcome{Inserted}) {
		t.Errorf("outcomes = %v, want [inserted]", summary.Outcomes)
	}
	var status string
	var errText sql.NullString
	var curves int
	err = s.DB().QueryRowContext(ctx, `SELECT status, error, (SELECT count(*) FROM curves WHERE run_id = 'run-a')
FROM runs WHERE run_id = 'run-a'`).Scan(&status, &errText, &curves)
	if err != nil {
		t.Fatal(err)
	}
	if status != "done" || errText.Valid || curves != 5 {
		t.Errorf("status, error, curves rows = %s, %+v, %d, want done, NULL, 5", status, errText, curves)
	}
}

func TestSaveResultsRejectsInvalid(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	noPipeline := newResult("run-b", "", 2)
	oldVersion := newResult("run-c", "pipe-a", 2)
	oldVersion.SchemaVersion = 0

	for name, bad := range map[string]*result.Result{"no pipeline id": noPipeline, "schema version 0": oldVersion} {
		_, err := s.SaveResults(ctx, []*result.Result{newResult("run-a", "pipe-a", 2), bad})
		if err == nil {
			t.Errorf("%s: SaveResults succeeded", name)
		}
	}

	statuses, err := s.Statuses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(statuses) != 0 {
		t.Errorf("%d runs stored after rejected batches, want 0", len(statuses))
	}
}

func TestSaveResultNaNCurvesHashed(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	r := newResult("run-a", "pipe-a", 3)
	r.Status = result.StatusDiverged
	r.Curves.TrainLoss[2] = math.NaN()
	r.Indicators.TrainLoss = nil

	first, err := s.SaveResults(ctx, []*result.Result{r})
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.SaveResults(ctx, []*result.Result{r})
	if err != nil {
		t.Fatal(err)
	}

	if !reflect.DeepEqual(append(first.Outcomes, second.Outcomes...), []Outcome{Inserted, Unchanged}) {
		t.Errorf("outcomes = %v, %v, want [inserted] [unchanged]", first.Outcomes, second.Outcomes)
	}
}
