package analysis

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/mosaic-go/mosaic/result"
	"github.com/mosaic-go/mosaic/store"
)

// irisRun describes one run of the fixture study: an MLP of a class, width
// and length trained on iris.
type irisRun struct {
	class   string
	width   int
	length  int
	replica int
	status  result.Status
	epochs  int
}

func ptr[T any](v T) *T { return &v }

// irisResult builds a deterministic result: the losses fall with the
// number of parameters and each replica adds a small offset.
func irisResult(r irisRun) *result.Result {
	nbParams := r.width*(4+3) + (r.length-1)*r.width*r.width
	if r.class == "mlp_funnel" {
		nbParams = nbParams * 2 / 3
	}
	pipelineID := fmt.Sprintf("%s-w%d-l%d", r.class, r.width, r.length)
	floor := 0.05 + 3/float64(nbParams) + 0.01*float64(r.replica)
	if r.class == "mlp_funnel" {
		floor += 0.02
	}

	var curves result.Curves
	for e := range r.epochs {
		decay := math.Exp(-float64(e) / 8)
		curves.TrainLoss = append(curves.TrainLoss, floor+1.1*decay)
		curves.TestLoss = append(curves.TestLoss, floor*1.3+1.1*decay+0.002*float64(e))
	}

	res := &result.Result{
		SchemaVersion: result.SchemaVersion,
		RunID:         fmt.Sprintf("%s-r%d", pipelineID, r.replica),
		PipelineID:    pipelineID,
		Label:         fmt.Sprintf("csv(iris) %s(%d,%d)", r.class, r.width, r.length),
		Replica:       r.replica,
		Seed:          uint64(1000 + r.replica),
		Status:        r.status,
		Epochs:        r.epochs,
		Params: []result.Param{
			{Stage: -1, StageType: "process", Kind: "param", Name: "lr", Value: 0.01},
			{Stage: -1, StageType: "process", Kind: "param", Name: "epochs", Value: 30},
			{Stage: -1, StageType: "process", Kind: "param", Name: "seed", Value: 1},
			{Stage: 0, StageType: "dataset", Class: "csv", Kind: "param", Name: "path", Value: "iris.csv"},
			{Stage: 0, StageType: "dataset", Class: "csv", Kind: "info", Name: "dataset", Value: "iris"},
			{Stage: 0, StageType: "dataset", Class: "csv", Kind: "info", Name: "data_size", Value: 150},
			{Stage: 1, StageType: "model", Class: r.class, Kind: "param", Name: "width", Value: r.width},
			{Stage: 1, StageType: "model", Class: r.class, Kind: "param", Name: "length", Value: r.length},
			{Stage: 1, StageType: "model", Class: r.class, Kind: "param", Name: "activation", Value: "relu"},
			{Stage: 1, StageType: "model", Class: r.class, Kind: "info", Name: "data_size", Value: 120},
		},
		Curves:     curves,
		StartedAt:  time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		FinishedAt: time.Date(2026, 1, 2, 3, 5, 5, 0, time.UTC),
		Indicators: result.Indicators{NbParams: ptr(nbParams), DurationS: ptr(60.0)},
	}
	last := r.epochs - 1
	switch r.status {
	case result.StatusDone:
		res.Indicators.TrainLoss = ptr(curves.TrainLoss[last])
		res.Indicators.TestLoss = ptr(curves.TestLoss[last])
		res.Indicators.Overfitting = ptr(curves.TestLoss[last] - curves.TrainLoss[last])
		res.Indicators.Trainability = ptr(1 - floor)
		res.Indicators.Slope = ptr(-0.002 * floor)
		res.Indicators.SlopeSigmaPlus = ptr(0.0004)
		res.Indicators.SlopeSigmaMinus = ptr(0.0003)
		res.Indicators.TestAccuracy = ptr(0.99 - floor + 0.02*float64(r.replica%2))
	case result.StatusDiverged:
		res.DivergedEpoch = ptr(r.epochs + 1)
		res.Error = "loss is NaN"
	case result.StatusFailed:
		res.Error = "read iris.csv: open iris.csv: no such file or directory"
	}
	return res
}

// irisRuns is the fixture grid: two classes, widths 8, 16, 32, lengths
// 1, 2, three replicas, plus one diverged and one failed run.
func irisRuns() []irisRun {
	var runs []irisRun
	for _, class := range []string{"mlp_brick", "mlp_funnel"} {
		for _, width := range []int{8, 16, 32} {
			for _, length := range []int{1, 2} {
				for replica := range 3 {
					runs = append(runs, irisRun{class, width, length, replica, result.StatusDone, 30})
				}
			}
		}
	}
	runs = append(runs,
		irisRun{"mlp_brick", 64, 2, 0, result.StatusDiverged, 12},
		irisRun{"mlp_funnel", 64, 2, 0, result.StatusFailed, 0},
	)
	return runs
}

// openFixture writes results into a new study database through the store,
// then opens it read-only as a user would.
func openFixture(t testing.TB, results []*result.Result) *sql.DB {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "study.db")

	w, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	summary, err := w.SaveResults(ctx, results)
	if err != nil {
		t.Fatal(err)
	}
	if summary.Conflicts > 0 {
		t.Fatalf("saving fixture: %+v", summary)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	ro, err := store.OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ro.Close() })
	return ro.DB()
}

func irisFixture(t testing.TB) *sql.DB {
	t.Helper()
	var results []*result.Result
	for _, r := range irisRuns() {
		results = append(results, irisResult(r))
	}
	return openFixture(t, results)
}

type resultDoc = result.Result

func resultParam(stage int, stageType, name string, value any) result.Param {
	return result.Param{Stage: stage, StageType: stageType, Kind: "param", Name: name, Value: value}
}
