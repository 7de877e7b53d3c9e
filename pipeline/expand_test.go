package pipeline

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/mosaic-go/mosaic/config"
	"github.com/mosaic-go/mosaic/stage"
)

// gridConfig has two slots: dataset with 2 + 6 = 8 alternatives and mlp
// with 2 + 6 + 2 = 10, swept over 2 lr × 1 epochs × 2 losses.
const gridConfig = `[PROCESS]
lr = 0.01, 1e-3
epochs = 5
loss_function = MSELoss, CrossEntropyLoss
data_scheme = dataset
pipeline_scheme = mlp
run_files_path = runs
seed = 7

[MONITOR]
multiplicity = 3

[small]
type = dataset
class = test_data
name = iris
rows = {1-2}

[large]
type = dataset
class = test_data
name = wine
rows = {1-3}
shuffle = True, False

[drop]
type = mlp
class = test_mlp
dropout = 0.1, 0.2

[deep]
type = mlp
class = test_mlp
width = {1-3}
length = {2-3}
key = {class}_{width}x{length}

[wide]
type = mlp
class = test_mlp
width = 32, 64
activation = tanh
`

func mustParse(t *testing.T, text string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("grid.ini", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func mustExpand(t *testing.T, text string) []Pipeline {
	t.Helper()
	pipelines, err := Expand(mustParse(t, text))
	if err != nil {
		t.Fatal(err)
	}
	return pipelines
}

func TestExpandCount(t *testing.T) {
	cfg := mustParse(t, gridConfig)
	pipelines, err := Expand(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(pipelines) != 8*10*2*2 {
		t.Fatalf("got %d pipelines, want 320", len(pipelines))
	}
	count, runs := cfg.Count()
	if count != len(pipelines) || runs != 3*len(pipelines) {
		t.Errorf("Count() = %d, %d; want %d, %d", count, runs, len(pipelines), 3*len(pipelines))
	}
	ids := map[string]bool{}
	for _, p := range pipelines {
		ids[p.ID] = true
	}
	if len(ids) != len(pipelines) {
		t.Errorf("got %d distinct ids for %d pipelines", len(ids), len(pipelines))
	}
}

func TestExpandOrder(t *testing.T) {
	pipelines := mustExpand(t, gridConfig)

	// The dataset slot varies slowest: 10 model alternatives × 4 process
	// combinations share each dataset alternative.
	for i, p := range pipelines[:40] {
		if got := p.Data[0].Label; got != "data(iris/1)" {
			t.Fatalf("pipeline %d has dataset %s, want data(iris/1)", i, got)
		}
	}
	if got := pipelines[40].Data[0].Label; got != "data(iris/2)" {
		t.Errorf("pipeline 40 has dataset %s, want data(iris/2)", got)
	}

	// loss_function varies fastest, then lr.
	want := []Process{
		{LR: 0.01, Epochs: 5, LossFunction: "MSELoss", Seed: 7},
		{LR: 0.01, Epochs: 5, LossFunction: "CrossEntropyLoss", Seed: 7},
		{LR: 0.001, Epochs: 5, LossFunction: "MSELoss", Seed: 7},
	}
	for i, w := range want {
		if pipelines[i].Process != w {
			t.Errorf("pipeline %d process = %+v, want %+v", i, pipelines[i].Process, w)
		}
	}
	if got := pipelines[4].Model[0].Params["dropout"]; got != 0.2 {
		t.Errorf("pipeline 4 dropout = %v, want 0.2", got)
	}
}

func TestExpandLabelsAndParams(t *testing.T) {
	pipelines := mustExpand(t, gridConfig)

	first := pipelines[0]
	if want := "data(iris/1) | test_mlp(0.1) | lr=0.01 | loss_function=MSELoss"; first.Label != want {
		t.Errorf("label = %q, want %q", first.Label, want)
	}
	wantParams := stage.Params{"width": 8, "length": 1, "dropout": 0.1, "activation": "relu"}
	if !reflect.DeepEqual(first.Model[0].Params, wantParams) {
		t.Errorf("params = %#v, want %#v (defaults filled, no value for init)", first.Model[0].Params, wantParams)
	}
	if s := first.Data[0]; s.Type != "dataset" || s.Section != "small" || s.Class != "test_data" || s.Kind != stage.KindData {
		t.Errorf("data stage = %+v", s)
	}

	// The sixth model alternative is [deep] with width 2, length 3.
	deep := pipelines[5*4]
	if got := deep.Model[0]; got.Label != "test_mlp(2,3)" || got.Key != "test_mlp_2x3" {
		t.Errorf("deep stage label %q key %q, want test_mlp(2,3) and test_mlp_2x3", got.Label, got.Key)
	}
	if first.Model[0].Key != "" {
		t.Errorf("key of a section without template = %q, want empty", first.Model[0].Key)
	}
}

func TestExpandLabelWithoutSweep(t *testing.T) {
	text := strings.Replace(gridConfig, "lr = 0.01, 1e-3", "lr = 0.01", 1)
	text = strings.Replace(text, "loss_function = MSELoss, CrossEntropyLoss", "loss_function = MSELoss", 1)
	text = strings.Replace(text, "data_scheme = dataset", "data_scheme = dataset, norm", 1)
	text += "\n[n]\ntype = norm\nclass = test_norm\n"
	pipelines := mustExpand(t, text)
	if want := "data(iris/1) | test_norm | test_mlp(0.1)"; pipelines[0].Label != want {
		t.Errorf("label = %q, want %q", pipelines[0].Label, want)
	}
	if got := pipelines[0].Data[1].Params; !reflect.DeepEqual(got, stage.Params{"style": "standard"}) {
		t.Errorf("norm params = %#v", got)
	}
}

func TestExpandRejectsLargeGrid(t *testing.T) {
	text := strings.Replace(gridConfig, "dropout = 0.1, 0.2", "dropout = 0.1, 0.2\nwidth = {1-200}", 1)
	cfg := mustParse(t, text)
	_, err := Expand(cfg, WithMaxPipelines(1000))
	if !errors.Is(err, config.ErrTooManyPipelines) {
		t.Fatalf("Expand with limit 1000 = %v, want ErrTooManyPipelines", err)
	}
	pipelines, err := Expand(cfg, WithMaxPipelines(100_000))
	if err != nil {
		t.Fatal(err)
	}
	if want := 8 * (400 + 6 + 2) * 4; len(pipelines) != want {
		t.Errorf("got %d pipelines, want %d", len(pipelines), want)
	}
}

func TestExpandRemovesDuplicates(t *testing.T) {
	text := gridConfig + "\n[again]\ntype = mlp\nclass = test_mlp\nwidth = 64, 128\nactivation = tanh\n"
	cfg := mustParse(t, text)
	pipelines, err := Expand(cfg)
	if err != nil {
		t.Fatal(err)
	}
	counted, _ := cfg.Count()
	// [again] repeats [wide]'s width 64, so 8 × 4 pipelines appear once.
	if counted != 8*12*4 || len(pipelines) != 8*11*4 {
		t.Errorf("Count() = %d and %d pipelines, want %d and %d", counted, len(pipelines), 8*12*4, 8*11*4)
	}
}

// BenchmarkExpand expands a grid of 8 × 408 × 4 = 13,056 pipelines.
func BenchmarkExpand(b *testing.B) {
	text := strings.Replace(gridConfig, "dropout = 0.1, 0.2", "dropout = 0.1, 0.2\nwidth = {1-200}", 1)
	cfg, err := config.Parse("grid.ini", []byte(text))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Expand(cfg); err != nil {
			b.Fatal(err)
		}
	}
}

func TestExpandLabelLeavesOutSharedValues(t *testing.T) {
	text := `[PROCESS]
lr = 0.01
epochs = 5
loss_function = MSELoss
data_scheme = dataset
pipeline_scheme = mlp
run_files_path = runs

[d]
type = dataset
class = test_data
name = iris

[funnel]
type = mlp
class = test_mlp
width = 4, 8
length = 2
activation = tanh

[other]
type = mlp
class = test_mlp
width = 4
length = 3
activation = tanh
`
	pipelines := mustExpand(t, text)
	var labels []string
	for _, p := range pipelines {
		labels = append(labels, p.Model[0].Label)
	}
	// activation is tanh everywhere, so no label shows it; width and length
	// take several values across the two sections.
	want := []string{"test_mlp(4,2)", "test_mlp(8,2)", "test_mlp(4,3)"}
	if !reflect.DeepEqual(labels, want) {
		t.Errorf("labels = %q, want %q", labels, want)
	}
}

func TestExpandLabelQuotesLists(t *testing.T) {
	text := strings.Replace(gridConfig, "width = 32, 64", `width = 32, 64
init = "uniform, scaled", normal`, 1)
	pipelines := mustExpand(t, text)
	found := false
	for _, p := range pipelines {
		if p.Model[0].Section == "wide" && strings.Contains(p.Model[0].Label, `"uniform, scaled"`) {
			found = true
		}
	}
	if !found {
		t.Error(`no [wide] label shows the value "uniform, scaled" in quotes`)
	}
}

func TestExpandLabelAppendsToClassLabel(t *testing.T) {
	text := strings.Replace(gridConfig, "name = iris\nrows = {1-2}", "name = iris\nrows = {1-2}\nshuffle = True, False", 1)
	pipelines := mustExpand(t, text)
	labels := map[string]bool{}
	for _, p := range pipelines {
		if p.Data[0].Section == "small" {
			labels[p.Data[0].Label] = true
		}
	}
	// [small] has 2 rows × 2 shuffle values: four stages, four labels, each
	// the class label with the shuffle value appended.
	for _, want := range []string{"data(iris/1,True)", "data(iris/1,False)", "data(iris/2,True)", "data(iris/2,False)"} {
		if !labels[want] {
			t.Errorf("no [small] stage labelled %s; labels: %v", want, labels)
		}
	}
}
