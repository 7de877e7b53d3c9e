package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const validConfig = `# a study
[PROCESS]
lr = 1e-2, 0.001
epochs = {10-12}
loss_function = CrossEntropyLoss
data_scheme = dataset, normalization
pipeline_scheme = mlp
run_files_path = runs
seed = 42

[monitor]
nb_processus = 4
multiplicity = 3
need_gpu = True
gpu_available = cuda:0, 1
cache_database_path = cache/db.sqlite
cache_size = 500M

[iris]
type = dataset
class = test_data
path = "data/iris,v2.csv"
train_prop = 1, 0.5
key = {class}_{rows}

[norm]
type = normalization
class = test_norm
style = standard, minmax

[funnel]
type = mlp
class = test_mlp
width = {2-4},8
dropout = 0
activation = relu ; not a comment
`

func TestParseValid(t *testing.T) {
	cfg, err := Parse("study.ini", []byte(strings.Replace(validConfig, " ; not a comment", "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	pr := cfg.Process
	if !reflect.DeepEqual(pr.LR, []float64{0.01, 0.001}) {
		t.Errorf("LR = %v", pr.LR)
	}
	if !reflect.DeepEqual(pr.Epochs, []int{10, 11, 12}) {
		t.Errorf("Epochs = %v", pr.Epochs)
	}
	if !reflect.DeepEqual(pr.LossFunction, []string{"CrossEntropyLoss"}) {
		t.Errorf("LossFunction = %v", pr.LossFunction)
	}
	if !reflect.DeepEqual(pr.DataScheme, []string{"dataset", "normalization"}) || !reflect.DeepEqual(pr.PipelineScheme, []string{"mlp"}) {
		t.Errorf("schemes = %v, %v", pr.DataScheme, pr.PipelineScheme)
	}
	if pr.Seed != 42 {
		t.Errorf("Seed = %d, want 42", pr.Seed)
	}
	wd, _ := os.Getwd()
	if pr.RunFilesPath != filepath.Join(wd, "runs") {
		t.Errorf("RunFilesPath = %q, want runs under %s", pr.RunFilesPath, wd)
	}

	m := cfg.Monitor
	want := Monitor{Processes: 4, Multiplicity: 3, NeedGPU: true, GPUs: []string{"cuda:0", "cuda:1"},
		CacheDatabasePath: filepath.Join(wd, "cache/db.sqlite"), CacheSize: 500 << 20}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("Monitor = %+v, want %+v", m, want)
	}

	if len(cfg.Sections) != 3 {
		t.Fatalf("got %d sections, want 3", len(cfg.Sections))
	}
	iris := cfg.Sections[0]
	if iris.Name != "iris" || iris.Type != "dataset" || iris.Class != "test_data" || iris.KeyTemplate != "{class}_{rows}" || iris.Line != 19 {
		t.Errorf("section iris = %+v", iris)
	}
	wantParams := []Param{
		{Name: "path", Values: []any{"data/iris,v2.csv"}, Line: 22},
		{Name: "train_prop", Values: []any{1.0, 0.5}, Line: 23},
	}
	if !reflect.DeepEqual(iris.Params, wantParams) {
		t.Errorf("iris params = %#v, want %#v", iris.Params, wantParams)
	}
	funnel := cfg.Sections[2]
	if got := funnel.Params[0].Values; !reflect.DeepEqual(got, []any{2, 3, 4, 8}) {
		t.Errorf("width = %#v", got)
	}
	if got := funnel.Params[1].Values; !reflect.DeepEqual(got, []any{0.0}) {
		t.Errorf("dropout = %#v, want float64 0", got)
	}

	pipelines, runs := cfg.Count()
	// 2 lr × 3 epochs × 2 train_prop × 2 styles × 4 widths.
	if pipelines != 96 || runs != 288 {
		t.Errorf("Count() = %d, %d; want 96, 288", pipelines, runs)
	}
}

func TestParseInlineSemicolonIsValue(t *testing.T) {
	_, err := Parse("study.ini", []byte(validConfig))
	if err == nil || !strings.Contains(err.Error(), `"relu ; not a comment" is not one of the allowed values relu, tanh`) {
		t.Fatalf("error = %v, want the whole value after = checked against the choices", err)
	}
}

func TestParseMonitorDefaults(t *testing.T) {
	text := validConfig[:strings.Index(validConfig, "[monitor]")] + validConfig[strings.Index(validConfig, "[iris]"):]
	text = strings.Replace(text, " ; not a comment", "", 1)
	cfg, err := Parse("study.ini", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	want := Monitor{Processes: 1, Multiplicity: 1}
	if !reflect.DeepEqual(cfg.Monitor, want) {
		t.Errorf("Monitor = %+v, want %+v", cfg.Monitor, want)
	}
}

func TestLoadResolvesAgainstConfigFolder(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "study.ini")
	text := strings.Replace(validConfig, " ; not a comment", "", 1)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Dir != dir {
		t.Errorf("Dir = %q, want %q", cfg.Dir, dir)
	}
	if cfg.Process.RunFilesPath != filepath.Join(dir, "runs") {
		t.Errorf("RunFilesPath = %q", cfg.Process.RunFilesPath)
	}
	if cfg.Monitor.CacheDatabasePath != filepath.Join(dir, "cache", "db.sqlite") {
		t.Errorf("CacheDatabasePath = %q", cfg.Monitor.CacheDatabasePath)
	}
	if _, err := Load(filepath.Join(dir, "missing.ini")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file: %v, want os.ErrNotExist", err)
	}
}

func TestCheckCount(t *testing.T) {
	text := strings.Replace(validConfig, " ; not a comment", "", 1)
	text = strings.Replace(text, "width = {2-4},8", "width = {1-500}\nlength = {1-300}", 1)
	cfg, err := Parse("big.ini", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	pipelines, runs := cfg.Count()
	if pipelines != 2*3*2*2*500*300 || runs != 3*pipelines {
		t.Fatalf("Count() = %d, %d", pipelines, runs)
	}
	err = cfg.CheckCount(0)
	if !errors.Is(err, ErrTooManyPipelines) || !strings.Contains(err.Error(), "big.ini expands to 3600000 pipelines (10800000 runs), more than the limit of 100000") {
		t.Errorf("CheckCount(0) = %v", err)
	}
	if err := cfg.CheckCount(4_000_000); err != nil {
		t.Errorf("CheckCount(4000000) = %v, want nil", err)
	}
}

func TestCountSaturates(t *testing.T) {
	cfg := &Config{Process: Process{LR: []float64{1}, Epochs: []int{1}, LossFunction: []string{"MSELoss"}, PipelineScheme: []string{"m"}}}
	values := make([]any, 1000)
	s := Section{Type: "m"}
	for range 8 {
		s.Params = append(s.Params, Param{Values: values})
	}
	cfg.Sections = []Section{s}
	if pipelines, _ := cfg.Count(); pipelines != int(^uint(0)>>1) {
		t.Errorf("Count() = %d, want math.MaxInt for 1000^8 pipelines", pipelines)
	}
}

func TestParseMultilineValue(t *testing.T) {
	text := edit(t, "width = {2-4},8\n", "width = {2-4},\n    8, 16\n")
	cfg, err := Parse("study.ini", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Sections[2].Params[0].Values; !reflect.DeepEqual(got, []any{2, 3, 4, 8, 16}) {
		t.Errorf("width = %#v, want the indented line joined to the value", got)
	}
	if got := cfg.Sections[2].Params[1]; got.Name != "dropout" || got.Line != 36 {
		t.Errorf("param after the multi-line value = %+v, want dropout on line 36", got)
	}
}

func TestParseKeepsPercentText(t *testing.T) {
	text := edit(t, `path = "data/iris,v2.csv"`, `path = %(class)s.csv`)
	cfg, err := Parse("study.ini", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Sections[0].Params[0].Values; !reflect.DeepEqual(got, []any{"%(class)s.csv"}) {
		t.Errorf("path = %#v, want the text as written", got)
	}
}

func TestParseByteOrderMark(t *testing.T) {
	text := "\ufeff" + edit(t, "# a study\n", "")
	cfg, err := Parse("study.ini", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Sections[0].Line; got != 18 {
		t.Errorf("[iris] line = %d, want 18", got)
	}
}

func TestParseMonitorResources(t *testing.T) {
	text := strings.Replace(validConfig, " ; not a comment", "", 1)
	text = strings.Replace(text, "cache_size = 500M", "cache_size = 500M\ncpus_per_run = 2\nmemory_per_run = 3G\ntime_limit = 1h30m", 1)
	cfg, err := Parse("study.ini", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	m := cfg.Monitor
	if m.CPUsPerRun != 2 {
		t.Errorf("CPUsPerRun = %d, want 2", m.CPUsPerRun)
	}
	if m.MemoryPerRun != 3<<30 {
		t.Errorf("MemoryPerRun = %d, want %d", m.MemoryPerRun, int64(3<<30))
	}
	if m.TimeLimit != 90*time.Minute {
		t.Errorf("TimeLimit = %v, want 1h30m", m.TimeLimit)
	}

	minutes, err := Parse("study.ini", []byte(strings.Replace(text, "time_limit = 1h30m", "time_limit = 45", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if minutes.Monitor.TimeLimit != 45*time.Minute {
		t.Errorf("time_limit = 45 gives %v, want 45m", minutes.Monitor.TimeLimit)
	}
}
