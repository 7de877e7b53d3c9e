package jobrunner

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mosaic-go/mosaic/pipeline"
	"github.com/mosaic-go/mosaic/result"
	"github.com/mosaic-go/mosaic/stage"
	_ "github.com/mosaic-go/mosaic/stage/builtin"
)

// panicClass names the data stage this test registers, whose Apply panics.
const panicClass = "jobrunner_test_panic"

type panicStage struct{}

func (panicStage) Apply(context.Context, stage.Env, *stage.Data, stage.Info) (*stage.Data, stage.Info, error) {
	panic("boom in a test stage")
}

func init() {
	stage.Register(&stage.Component{
		Name: panicClass,
		Kind: stage.KindData,
		Doc:  "test stage that panics",
		New:  func(stage.Params) (any, error) { return panicStage{}, nil },
	})
}

// exampleSpec returns a spec that reads an example table, standardises it
// and trains a one-hidden-layer MLP, with its run files in a temporary folder.
func exampleSpec(t *testing.T, file, loss string, epochs int) pipeline.Spec {
	t.Helper()
	base, err := filepath.Abs("../examples/data")
	if err != nil {
		t.Fatal(err)
	}
	return pipeline.Spec{
		SchemaVersion: pipeline.SpecVersion,
		RunID:         "run-" + strings.TrimSuffix(file, ".csv"),
		Replica:       1,
		Seed:          42,
		Pipeline: pipeline.Pipeline{
			SchemaVersion: pipeline.SpecVersion,
			ID:            "p-example",
			Label:         "csv | standardize | mlp_brick(16,1)",
			Process:       pipeline.Process{LR: 0.01, Epochs: epochs, LossFunction: loss, Seed: 7},
			Data: []pipeline.Stage{
				{Type: "dataset", Section: "dataset", Class: "csv", Kind: stage.KindData,
					Params: stage.Params{"path": file, "batch_size": 16}},
				{Type: "scaling", Section: "scaling", Class: "normalize", Kind: stage.KindData,
					Params: stage.Params{"style": "standardisation"}},
			},
			Model: []pipeline.Stage{
				{Type: "model", Section: "model", Class: "mlp_brick", Kind: stage.KindModel,
					Params: stage.Params{"width": 16, "length": 1}},
			},
			BaseDir:      base,
			RunFilesPath: t.TempDir(),
		},
	}
}

// findParam returns the value of the first result parameter matching
// stage, kind and name.
func findParam(r *result.Result, index int, kind, name string) (any, bool) {
	for _, p := range r.Params {
		if p.Stage == index && p.Kind == kind && p.Name == name {
			return p.Value, true
		}
	}
	return nil, false
}

func TestRunIrisEndToEnd(t *testing.T) {
	spec := exampleSpec(t, "iris.csv", "CrossEntropyLoss", 60)
	var epochs []int
	res := Run(context.Background(), spec, Options{
		GPUs:    []string{"0"},
		OnEpoch: func(epoch, total int, _, _ float64) { epochs = append(epochs, epoch*1000+total) },
	})
	if res.Status != result.StatusDone {
		t.Fatalf("status %s, error %q", res.Status, res.Error)
	}
	if res.Epochs != 60 || len(res.Curves.TrainLoss) != 60 || len(res.Curves.TestAccuracy) != 60 {
		t.Fatalf("epochs %d, %d train losses, %d test accuracies, want 60", res.Epochs, len(res.Curves.TrainLoss), len(res.Curves.TestAccuracy))
	}
	if acc := res.Curves.TestAccuracy[59]; acc <= 0.9 {
		t.Errorf("final test accuracy %v, want > 0.9", acc)
	}
	if len(epochs) != 60 || epochs[0] != 1060 || epochs[59] != 60060 {
		t.Errorf("OnEpoch calls (epoch*1000+total) = %v", epochs)
	}

	// Result fields.
	if res.RunID != "run-iris" || res.PipelineID != "p-example" || res.Replica != 1 || res.Seed != 42 {
		t.Errorf("identity fields = %s %s %d %d", res.RunID, res.PipelineID, res.Replica, res.Seed)
	}
	if res.Device != "cpu" || res.Host == "" || !slices.Equal(res.GPUs, []string{"0"}) {
		t.Errorf("device %q host %q gpus %v", res.Device, res.Host, res.GPUs)
	}
	if res.Indicators.TestAccuracy == nil || res.Indicators.DurationS == nil || res.Indicators.NbParams == nil {
		t.Fatalf("indicators missing: %+v", res.Indicators)
	}
	// 4 inputs → 16 hidden → 3 outputs: 4*16+16 + 16*3+3 = 131 weights.
	if *res.Indicators.NbParams != 131 {
		t.Errorf("nb_params = %d, want 131", *res.Indicators.NbParams)
	}
	if res.FinishedAt.Before(res.StartedAt) {
		t.Errorf("finished %v before started %v", res.FinishedAt, res.StartedAt)
	}

	// Parameters: process, configured with defaults, and info.
	checks := []struct {
		stage      int
		kind, name string
		want       any
	}{
		{-1, "param", "lr", 0.01},
		{-1, "param", "loss_function", "CrossEntropyLoss"},
		{0, "param", "path", "iris.csv"},
		{0, "param", "train_prop", 0.8},
		{0, "info", "nb_classes", 3},
		{1, "info", "normalisation", "standardisation"},
		{2, "param", "width", 16},
	}
	for _, c := range checks {
		got, ok := findParam(res, c.stage, c.kind, c.name)
		if !ok || got != c.want {
			t.Errorf("param stage %d %s %s = %v (found %v), want %v", c.stage, c.kind, c.name, got, ok, c.want)
		}
	}

	// Per-run files, in the default run folder.
	dir := filepath.Join(spec.Pipeline.RunFilesPath, spec.RunID)
	for kind, name := range map[string]string{"curves": CurvesFile, "model": ModelFile, "log": LogFile} {
		if res.Files[kind] != filepath.Join(dir, name) {
			t.Errorf("Files[%s] = %q, want %s", kind, res.Files[kind], filepath.Join(dir, name))
		}
		if info, err := os.Stat(filepath.Join(dir, name)); err != nil || info.Size() == 0 {
			t.Errorf("%s: missing or empty (%v)", name, err)
		}
	}
	if _, ok := res.Files["checkpoint"]; ok {
		t.Error("a checkpoint was written without Options.Checkpoint")
	}
	curves, _ := os.ReadFile(filepath.Join(dir, CurvesFile))
	lines := strings.Split(strings.TrimSpace(string(curves)), "\n")
	if len(lines) != 61 || lines[0] != "epoch,train_loss,test_loss,train_accuracy,test_accuracy,epoch_seconds" {
		t.Errorf("curves.csv has %d lines starting %q", len(lines), lines[0])
	}
	log, _ := os.ReadFile(filepath.Join(dir, LogFile))
	for _, want := range []string{"run started", "data stage", "name=nb_classes value=3", "epoch=60", "run finished"} {
		if !bytes.Contains(log, []byte(want)) {
			t.Errorf("run.log does not contain %q", want)
		}
	}

	// The result survives a write and a read.
	path, err := WriteResult(t.TempDir(), res)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ReadResult(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Status != result.StatusDone || !slices.Equal(back.Curves.TestLoss, res.Curves.TestLoss) {
		t.Errorf("result read back: status %s, test losses equal %v", back.Status, slices.Equal(back.Curves.TestLoss, res.Curves.TestLoss))
	}
}

func TestRunDiabetesRegression(t *testing.T) {
	res := Run(context.Background(), exampleSpec(t, "diabetes.csv", "MSELoss", 3), Options{})
	if res.Status != result.StatusDone {
		t.Fatalf("status %s, error %q", res.Status, res.Error)
	}
	if res.Epochs != 3 || len(res.Curves.TrainAccuracy) != 0 {
		t.Errorf("epochs %d with %d accuracies, want 3 and none", res.Epochs, len(res.Curves.TrainAccuracy))
	}
	curves, _ := os.ReadFile(res.Files["curves"])
	lines := strings.Split(strings.TrimSpace(string(curves)), "\n")
	if len(lines) != 4 || !strings.Contains(lines[1], ",,,") {
		t.Errorf("curves.csv = %q, want 3 rows with empty accuracy cells", lines)
	}
}

func TestRunBadDataPath(t *testing.T) {
	spec := exampleSpec(t, "iris.csv", "CrossEntropyLoss", 2)
	spec.Pipeline.Data[0].Params["path"] = "absent.csv"
	res := Run(context.Background(), spec, Options{})
	if res.Status != result.StatusFailed {
		t.Fatalf("status %s, want failed", res.Status)
	}
	for _, want := range []string{"[dataset] csv", "absent.csv", "no such file"} {
		if !strings.Contains(res.Error, want) {
			t.Errorf("error %q does not contain %q", res.Error, want)
		}
	}
	log, _ := os.ReadFile(res.Files["log"])
	if !bytes.Contains(log, []byte("run failed")) || !bytes.Contains(log, []byte("absent.csv")) {
		t.Errorf("run.log does not record the failure:\n%s", log)
	}
	if got, _ := findParam(res, 0, "param", "path"); got != "absent.csv" {
		t.Errorf("the failed stage's params are not recorded: path = %v", got)
	}
}

func TestRunStagePanic(t *testing.T) {
	spec := exampleSpec(t, "iris.csv", "CrossEntropyLoss", 2)
	spec.Pipeline.Data = append(spec.Pipeline.Data, pipeline.Stage{Type: "noise", Section: "noise", Class: panicClass, Kind: stage.KindData})
	res := Run(context.Background(), spec, Options{})
	if res.Status != result.StatusFailed || !strings.Contains(res.Error, "panic: boom in a test stage") {
		t.Fatalf("status %s, error %q, want failed with the panic message", res.Status, res.Error)
	}
	if res.FinishedAt.IsZero() {
		t.Error("FinishedAt not set after a panic")
	}
	log, _ := os.ReadFile(res.Files["log"])
	if !bytes.Contains(log, []byte("stack of the panic")) || !bytes.Contains(log, []byte("panicStage.Apply")) {
		t.Errorf("run.log has no stack naming the panicking method:\n%s", log)
	}
}

func TestRunSetupErrors(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*pipeline.Spec)
		wants []string
	}{
		{"unknown class", func(s *pipeline.Spec) { s.Pipeline.Model[0].Class = "no_such_class" },
			[]string{"[model] no_such_class", "unknown class", "csv"}},
		{"model class in data slot", func(s *pipeline.Spec) { s.Pipeline.Data[1].Class = "mlp_brick" },
			[]string{"is a model stage, not a data stage"}},
		{"missing required", func(s *pipeline.Spec) { delete(s.Pipeline.Model[0].Params, "width") },
			[]string{"parameter width is required"}},
		{"no model", func(s *pipeline.Spec) { s.Pipeline.Model = nil }, []string{"no model stage"}},
		{"unknown loss", func(s *pipeline.Spec) { s.Pipeline.Process.LossFunction = "HingeLoss" },
			[]string{"loss_function", `"HingeLoss"`}},
		{"class loss on regression", func(s *pipeline.Spec) { s.Pipeline.Data[0].Params["path"] = "diabetes.csv" },
			[]string{"CrossEntropyLoss needs class targets", "MSELoss"}},
		{"no run folder", func(s *pipeline.Spec) { s.Pipeline.RunFilesPath = "" }, []string{"no run folder"}},
		{"bad run ID", func(s *pipeline.Spec) { s.RunID = "../escape" }, []string{"invalid run ID"}},
	}
	for _, tc := range cases {
		spec := exampleSpec(t, "iris.csv", "CrossEntropyLoss", 2)
		tc.edit(&spec)
		res := Run(context.Background(), spec, Options{})
		if res.Status != result.StatusFailed {
			t.Errorf("%s: status %s, want failed", tc.name, res.Status)
			continue
		}
		for _, want := range tc.wants {
			if !strings.Contains(res.Error, want) {
				t.Errorf("%s: error %q does not contain %q", tc.name, res.Error, want)
			}
		}
	}
}

func TestRunCancelledBeforeTraining(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := Run(ctx, exampleSpec(t, "iris.csv", "CrossEntropyLoss", 5), Options{})
	if res.Status != result.StatusRunning || res.Error != ErrInterrupted.Error() {
		t.Errorf("status %s error %q, want running and %q", res.Status, res.Error, ErrInterrupted)
	}
	if res.Epochs != 0 {
		t.Errorf("epochs = %d, want 0", res.Epochs)
	}
}

func TestRunResumeMatchesUninterrupted(t *testing.T) {
	spec := exampleSpec(t, "iris.csv", "CrossEntropyLoss", 6)
	full := Run(context.Background(), spec, Options{RunDir: t.TempDir(), Checkpoint: true})
	if full.Status != result.StatusDone {
		t.Fatalf("uninterrupted run: status %s, error %q", full.Status, full.Error)
	}

	// Stop after epoch 3, with the checkpoint of epoch 3 in place.
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopAt3 := func(epoch, _ int, _, _ float64) {
		if epoch == 3 {
			cancel()
		}
	}
	part := Run(ctx, spec, Options{RunDir: dir, Checkpoint: true, OnEpoch: stopAt3})
	if part.Status != result.StatusRunning || part.Error != "interrupted" {
		t.Fatalf("interrupted run: status %s, error %q", part.Status, part.Error)
	}
	if part.Epochs != 3 || part.Files["checkpoint"] != filepath.Join(dir, CheckpointFile) {
		t.Fatalf("interrupted run: %d epochs, checkpoint %q", part.Epochs, part.Files["checkpoint"])
	}

	var trained []int
	resumed := Run(context.Background(), spec, Options{RunDir: dir, Checkpoint: true, Resume: true,
		OnEpoch: func(epoch, _ int, _, _ float64) { trained = append(trained, epoch) }})
	if resumed.Status != result.StatusDone || resumed.Epochs != 6 {
		t.Fatalf("resumed run: status %s, %d epochs, error %q", resumed.Status, resumed.Epochs, resumed.Error)
	}
	// A restart from scratch would train epochs 1 to 6 and measure new epoch
	// times. A resumed run trains 4 to 6 and keeps the first three times.
	if !slices.Equal(trained, []int{4, 5, 6}) {
		t.Errorf("resumed run trained epochs %v, want [4 5 6]", trained)
	}
	if !slices.Equal(resumed.Curves.EpochSeconds[:3], part.Curves.EpochSeconds) {
		t.Errorf("epoch times of the checkpoint not kept: %v, then %v", part.Curves.EpochSeconds, resumed.Curves.EpochSeconds)
	}
	if !slices.Equal(resumed.Curves.TrainLoss, full.Curves.TrainLoss) || !slices.Equal(resumed.Curves.TestLoss, full.Curves.TestLoss) {
		t.Errorf("losses differ:\nresumed %v %v\n   full %v %v", resumed.Curves.TrainLoss, resumed.Curves.TestLoss, full.Curves.TrainLoss, full.Curves.TestLoss)
	}
	if !slices.Equal(resumed.Curves.TestAccuracy, full.Curves.TestAccuracy) {
		t.Errorf("test accuracies differ: resumed %v, full %v", resumed.Curves.TestAccuracy, full.Curves.TestAccuracy)
	}
	fullModel, _ := os.ReadFile(full.Files["model"])
	resumedModel, _ := os.ReadFile(resumed.Files["model"])
	if len(fullModel) == 0 || !bytes.Equal(fullModel, resumedModel) {
		t.Errorf("final weights differ (%d and %d bytes)", len(fullModel), len(resumedModel))
	}
	log, _ := os.ReadFile(filepath.Join(dir, LogFile))
	if !bytes.Contains(log, []byte("run interrupted")) || !bytes.Contains(log, []byte("resuming from checkpoint")) {
		t.Errorf("run.log does not keep both parts of the run:\n%s", log)
	}
}

// TestRunIgnoresStaleCheckpoint edits the data file after a finished run:
// the next run in the same folder must train again, not bring back the
// curves of the old data.
func TestRunIgnoresStaleCheckpoint(t *testing.T) {
	dataDir := t.TempDir()
	src, err := os.ReadFile("../examples/data/iris.csv")
	if err != nil {
		t.Fatal(err)
	}
	csvPath := filepath.Join(dataDir, "iris.csv")
	if err := os.WriteFile(csvPath, src, 0o644); err != nil {
		t.Fatal(err)
	}
	spec := exampleSpec(t, "iris.csv", "CrossEntropyLoss", 4)
	spec.Pipeline.BaseDir = dataDir
	dir := t.TempDir()

	first := Run(context.Background(), spec, Options{RunDir: dir, Checkpoint: true, Resume: true})
	if first.Status != result.StatusDone {
		t.Fatalf("first run: status %s, error %q", first.Status, first.Error)
	}

	// The same rows with the last two classes swapped: other data, same size.
	swapped := strings.NewReplacer(",1\n", ",2\n", ",2\n", ",1\n").Replace(string(src))
	if err := os.WriteFile(csvPath, []byte(swapped), 0o644); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour)
	if err := os.Chtimes(csvPath, future, future); err != nil {
		t.Fatal(err)
	}

	var trained []int
	second := Run(context.Background(), spec, Options{RunDir: dir, Checkpoint: true, Resume: true,
		OnEpoch: func(epoch, _ int, _, _ float64) { trained = append(trained, epoch) }})
	if second.Status != result.StatusDone {
		t.Fatalf("second run: status %s, error %q", second.Status, second.Error)
	}
	if !slices.Equal(trained, []int{1, 2, 3, 4}) {
		t.Errorf("after the data file changed the run trained epochs %v, want [1 2 3 4]", trained)
	}
	log, _ := os.ReadFile(filepath.Join(dir, LogFile))
	if !bytes.Contains(log, []byte("checkpoint does not match")) {
		t.Errorf("run.log does not say why the checkpoint was not used:\n%s", log)
	}
}

func TestRunNLLLossNeedsLogSoftmax(t *testing.T) {
	spec := exampleSpec(t, "iris.csv", "NLLLoss", 3)
	res := Run(context.Background(), spec, Options{RunDir: t.TempDir()})
	if res.Status != result.StatusFailed {
		t.Fatalf("NLLLoss on raw outputs: status %s, want failed", res.Status)
	}
	if !strings.Contains(res.Error, "log_softmax") {
		t.Errorf("error %q does not say how to fix the model", res.Error)
	}

	// A readout that ends with a log-softmax makes the same run train.
	spec.Pipeline.Model = append(spec.Pipeline.Model, pipeline.Stage{
		Type: "readout", Section: "readout", Class: "readout", Kind: stage.KindModel,
		Params: stage.Params{"output": "log_softmax"},
	})
	res = Run(context.Background(), spec, Options{RunDir: t.TempDir()})
	if res.Status != result.StatusDone {
		t.Fatalf("NLLLoss after a log-softmax readout: status %s, error %q", res.Status, res.Error)
	}
	if loss := *res.Indicators.TrainLoss; loss < 0 {
		t.Errorf("NLLLoss of log-probabilities is %g, want it non-negative", loss)
	}
}

// TestRunIgnoresLongerCheckpoint starts a run in a folder whose checkpoint
// was extended past the spec's epochs (by a rerun for another database): it
// must train the spec's epochs, not store the longer curve.
func TestRunIgnoresLongerCheckpoint(t *testing.T) {
	dir := t.TempDir()
	long := exampleSpec(t, "iris.csv", "CrossEntropyLoss", 6)
	if res := Run(context.Background(), long, Options{RunDir: dir, Checkpoint: true}); res.Status != result.StatusDone {
		t.Fatalf("6-epoch run: status %s, error %q", res.Status, res.Error)
	}

	short := exampleSpec(t, "iris.csv", "CrossEntropyLoss", 4)
	res := Run(context.Background(), short, Options{RunDir: dir, Checkpoint: true, Resume: true})
	if res.Status != result.StatusDone {
		t.Fatalf("4-epoch run: status %s, error %q", res.Status, res.Error)
	}
	if res.Epochs != 4 || len(res.Curves.TrainLoss) != 4 {
		t.Errorf("4-epoch run stored %d epochs and %d losses, want 4", res.Epochs, len(res.Curves.TrainLoss))
	}
}
