package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/mosaic-go/mosaic/pipeline"
	"github.com/mosaic-go/mosaic/result"
)

func newSpec(runID, pipelineID string) pipeline.Spec {
	return pipeline.Spec{
		SchemaVersion: pipeline.SpecVersion,
		RunID:         runID,
		Replica:       2,
		Seed:          1 << 63,
		Pipeline: pipeline.Pipeline{
			SchemaVersion: pipeline.SpecVersion,
			ID:            pipelineID,
			Label:         "mlp(" + pipelineID + ")",
			Process:       pipeline.Process{LR: 0.01, Epochs: 10, LossFunction: "mse"},
		},
	}
}

func TestSavePipelinesUpsert(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	p := newSpec("run-a", "pipe-a").Pipeline
	if err := s.SavePipelines(ctx, []pipeline.Pipeline{p}); err != nil {
		t.Fatal(err)
	}
	p.Label = "renamed"
	if err := s.SavePipelines(ctx, []pipeline.Pipeline{p}); err != nil {
		t.Fatal(err)
	}

	var n int
	var label, spec string
	err := s.DB().QueryRowContext(ctx, `SELECT count(*), label, spec_json FROM pipelines`).Scan(&n, &label, &spec)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 || label != "renamed" {
		t.Errorf("pipelines: %d rows, label %q, want 1 row labelled renamed", n, label)
	}
	var decoded pipeline.Pipeline
	if err := json.Unmarshal([]byte(spec), &decoded); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(decoded, p) {
		t.Errorf("spec_json decodes to %+v, want %+v", decoded, p)
	}
}

func TestMarkRunningThenSaveResult(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	spec := newSpec("run-a", "pipe-a")
	started := time.Date(2026, 3, 1, 8, 0, 0, 0, time.FixedZone("CET", 3600))

	if err := s.MarkRunning(ctx, spec, started); err != nil {
		t.Fatal(err)
	}
	var status, startedAt string
	var seed int64
	var specJSON sql.NullString
	err := s.DB().QueryRowContext(ctx, `SELECT r.status, r.started_at, r.seed, p.spec_json
FROM runs r JOIN pipelines p USING (pipeline_id) WHERE run_id = 'run-a'`).Scan(&status, &startedAt, &seed, &specJSON)
	if err != nil {
		t.Fatal(err)
	}
	if status != "running" || startedAt != "2026-03-01T07:00:00.000Z" || uint64(seed) != 1<<63 {
		t.Errorf("status, started_at, seed = %s, %s, %d", status, startedAt, uint64(seed))
	}
	if !specJSON.Valid {
		t.Error("MarkRunning left the pipeline's spec_json NULL")
	}

	// A running run is replaced by its result.
	summary, err := s.SaveResults(ctx, []*result.Result{newResult("run-a", "pipe-a", 3)})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(summary.Outcomes, []Outcome{Inserted}) {
		t.Errorf("outcomes = %v, want [inserted]", summary.Outcomes)
	}
}

func TestStatusesAndCounts(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	failed := newResult("run-b", "pipe-a", 1)
	failed.Status = result.StatusFailed
	if _, err := s.SaveResults(ctx, []*result.Result{newResult("run-a", "pipe-a", 2), failed}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkRunning(ctx, newSpec("run-c", "pipe-b"), time.Now()); err != nil {
		t.Fatal(err)
	}

	statuses, err := s.Statuses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	counts, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}

	wantStatuses := map[string]result.Status{"run-a": "done", "run-b": "failed", "run-c": "running"}
	if !reflect.DeepEqual(statuses, wantStatuses) {
		t.Errorf("Statuses = %v, want %v", statuses, wantStatuses)
	}
	wantCounts := map[result.Status]int{"done": 1, "failed": 1, "running": 1}
	if !reflect.DeepEqual(counts, wantCounts) {
		t.Errorf("Counts = %v, want %v", counts, wantCounts)
	}
}

func TestResetRunningDeletesRunning(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	failed := newResult("run-b", "pipe-a", 1)
	failed.Status = result.StatusFailed
	if _, err := s.SaveResults(ctx, []*result.Result{newResult("run-a", "pipe-a", 2), failed}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"run-c", "run-d"} {
		if err := s.MarkRunning(ctx, newSpec(id, "pipe-b"), time.Now()); err != nil {
			t.Fatal(err)
		}
	}

	n, err := s.ResetRunning(ctx)
	if err != nil {
		t.Fatal(err)
	}
	statuses, err := s.Statuses(ctx)
	if err != nil {
		t.Fatal(err)
	}

	if n != 2 {
		t.Errorf("ResetRunning deleted %d runs, want 2", n)
	}
	want := map[string]result.Status{"run-a": "done", "run-b": "failed"}
	if !reflect.DeepEqual(statuses, want) {
		t.Errorf("Statuses after reset = %v, want %v", statuses, want)
	}
}

func TestBestPerLabel(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	// pipe-a has test losses 0.375 (4 epochs) and 0.625 (2 epochs), pipe-b
	// 0.325 (5 epochs), and pipe-c only a failed run.
	failed := newResult("run-d", "pipe-c", 1)
	failed.Status = result.StatusFailed
	results := []*result.Result{
		newResult("run-a", "pipe-a", 4), newResult("run-b", "pipe-a", 2),
		newResult("run-c", "pipe-b", 5), failed,
	}
	if _, err := s.SaveResults(ctx, results); err != nil {
		t.Fatal(err)
	}

	all, total, err := s.BestPerLabel(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	top, topTotal, err := s.BestPerLabel(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}

	if len(all) != 2 {
		t.Fatalf("BestPerLabel(0) returned %d labels, want 2: %+v", len(all), all)
	}
	if all[0].Label != "mlp(pipe-b)" || all[0].Done != 1 || *all[0].BestTestLoss != 0.325 {
		t.Errorf("first label = %+v, want mlp(pipe-b) with 1 run and best 0.325", all[0])
	}
	a := all[1]
	if a.Label != "mlp(pipe-a)" || a.Done != 2 || *a.BestTestLoss != 0.375 || *a.MeanTestLoss != 0.5 {
		t.Errorf("second label = %+v, want mlp(pipe-a), 2 runs, best 0.375, mean 0.5", a)
	}
	// Test accuracy is 1 − 1/epochs, so 0.75 for 4 epochs.
	if *a.BestTestAccuracy != 0.75 {
		t.Errorf("best test accuracy of mlp(pipe-a) = %v, want 0.75", *a.BestTestAccuracy)
	}
	if len(top) != 1 || top[0].Label != "mlp(pipe-b)" {
		t.Errorf("BestPerLabel(1) = %+v, want only mlp(pipe-b)", top)
	}
	if total != 2 || topTotal != 2 {
		t.Errorf("BestPerLabel totals = %d (no limit), %d (limit 1), want 2 and 2", total, topTotal)
	}
	if all[0].LossFunction != "cross_entropy" {
		t.Errorf("loss function = %q, want cross_entropy", all[0].LossFunction)
	}
}

// withLossFunction returns a done result of runID whose process parameter
// loss_function is loss, or which has none when loss is "", and whose
// test loss is testLoss.
func withLossFunction(runID, pipelineID, loss string, testLoss float64) *result.Result {
	r := newResult(runID, pipelineID, 2)
	r.Params = r.Params[:len(r.Params)-1]
	if loss != "" {
		r.Params = append(r.Params, result.Param{Stage: -1, StageType: "process", Class: "process",
			Kind: "param", Name: "loss_function", Value: loss})
	}
	r.Indicators.TestLoss = &testLoss
	return r
}

func TestBestPerLabelPerLossFunction(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	// Huber losses are smaller than MSE losses of the same fit: ranked
	// together, every Huber label would come before every MSE label.
	results := []*result.Result{
		withLossFunction("run-a", "mse-a", "MSELoss", 0.4),
		withLossFunction("run-b", "mse-b", "MSELoss", 0.2),
		withLossFunction("run-c", "mse-c", "MSELoss", 0.3),
		withLossFunction("run-d", "huber-a", "HuberLoss", 0.1),
		withLossFunction("run-e", "huber-b", "HuberLoss", 0.05),
		withLossFunction("run-f", "old-a", "", 0.01),
	}
	if _, err := s.SaveResults(ctx, results); err != nil {
		t.Fatal(err)
	}

	all, total, err := s.BestPerLabel(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	top, topTotal, err := s.BestPerLabel(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}

	var got []string
	for _, b := range all {
		got = append(got, b.LossFunction+" "+b.Label)
	}
	want := []string{" mlp(old-a)", "HuberLoss mlp(huber-b)", "HuberLoss mlp(huber-a)",
		"MSELoss mlp(mse-b)", "MSELoss mlp(mse-c)", "MSELoss mlp(mse-a)"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("BestPerLabel(0) order = %q, want %q", got, want)
	}
	if total != 6 {
		t.Errorf("BestPerLabel(0) total = %d, want 6", total)
	}

	got = nil
	for _, b := range top {
		got = append(got, b.LossFunction+" "+b.Label)
	}
	want = []string{" mlp(old-a)", "HuberLoss mlp(huber-b)", "HuberLoss mlp(huber-a)",
		"MSELoss mlp(mse-b)", "MSELoss mlp(mse-c)"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("BestPerLabel(2) = %q, want the 2 best of each loss function %q", got, want)
	}
	if topTotal != 6 {
		t.Errorf("BestPerLabel(2) total = %d, want 6", topTotal)
	}
}

// TestReaderDuringWrites checks that a read-only store can query while
// SaveResults writes, and only ever sees whole transactions of batchSize
// results.
func TestReaderDuringWrites(t *testing.T) {
	s, path := openTemp(t)
	ctx := context.Background()
	if err := s.SaveResult(ctx, newResult("seed-run", "pipe-a", 2)); err != nil {
		t.Fatal(err)
	}
	reader, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()

	results := make([]*result.Result, 3*batchSize)
	for i := range results {
		results[i] = newResult(fmt.Sprintf("run-%05d", i), "pipe-a", 20)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.SaveResults(ctx, results)
		done <- err
	}()

	var seen []int
	for writing := true; writing; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("SaveResults: %v", err)
			}
			writing = false
		default:
		}
		var n int
		if err := reader.DB().QueryRowContext(ctx, `SELECT count(*) FROM runs`).Scan(&n); err != nil {
			t.Fatalf("read during writes: %v", err)
		}
		seen = append(seen, n)
	}

	for _, n := range seen {
		if (n-1)%batchSize != 0 {
			t.Errorf("reader saw %d runs, which is not 1 plus whole batches of %d", n, batchSize)
			break
		}
	}
	if last := seen[len(seen)-1]; last != 1+len(results) {
		t.Errorf("reader saw %d runs at the end, want %d", last, 1+len(results))
	}
}
