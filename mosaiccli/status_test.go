package mosaiccli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/mosaic-go/mosaic/result"
	"github.com/mosaic-go/mosaic/store"
	"github.com/mosaic-go/mosaic/submit/layout"
	"github.com/mosaic-go/mosaic/submit/submittest"
)

// runApp runs mosaic with args, as Main does, and returns what it printed.
func runApp(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	app := App()
	app.Writer, app.ErrWriter = &out, &out
	app.ExitErrHandler = func(*cli.Context, error) {} // keep the test process alive
	all := append([]string{"mosaic"}, args...)
	err := app.Run(interspersed(app, all))
	return out.String(), err
}

// writeStudyResults writes a done result file, as a job writes it, for every
// run of the study's first run list, and returns their ids.
func writeStudyResults(t *testing.T, study string) []string {
	t.Helper()
	p, err := layout.New(study)
	if err != nil {
		t.Fatal(err)
	}
	list, err := os.ReadFile(p.List(1))
	if err != nil {
		t.Fatal(err)
	}
	ids := strings.Fields(string(list))
	for _, id := range ids {
		data, err := json.Marshal(result.Result{
			SchemaVersion: result.SchemaVersion, RunID: id,
			PipelineID: strings.Split(id, "-")[0], Label: "mlp", Status: result.StatusDone,
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p.Result(id), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// writeSubmittedStudy writes the submit files of a four-run Slurm study,
// without submitting it, and returns the config, the study folder and the
// job binary.
func writeSubmittedStudy(t *testing.T) (config, study, bin string) {
	t.Helper()
	dir := t.TempDir()
	config = submittest.WriteStudy(t, dir, submittest.Study{Epochs: 2, Widths: []int{4, 8}, Multiplicity: 2})
	bin = filepath.Join(dir, "mosaic-job")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	study = filepath.Join(dir, "cl")
	if _, err := runApp(t, "submit", "--slurm", config, "--out", study, "--job-binary", bin); err != nil {
		t.Fatal(err)
	}
	return config, study, bin
}

func TestStatusJobsUncollected(t *testing.T) {
	_, study, _ := writeSubmittedStudy(t)
	writeStudyResults(t, study)
	db := filepath.Join(t.TempDir(), "cl.db")

	out, err := runApp(t, "status", "--db", db, "--jobs", study)
	if err != nil {
		t.Fatal(err)
	}
	if want := "4 runs submitted from " + study + ": 4 uncollected"; !strings.Contains(out, want) {
		t.Errorf("status output lacks %q:\n%s", want, out)
	}
	if want := "run: mosaic collect " + filepath.Join(study, "results") + " --db " + db; !strings.Contains(out, want) {
		t.Errorf("status output lacks %q:\n%s", want, out)
	}
	if !strings.Contains(out, "uncollected") || !strings.Contains(strings.Split(out, "\n")[1], "uncollected") {
		t.Errorf("per-pipeline table has no uncollected column:\n%s", out)
	}
}

func TestStatusAfterCollect(t *testing.T) {
	_, study, _ := writeSubmittedStudy(t)
	writeStudyResults(t, study)
	db := filepath.Join(t.TempDir(), "cl.db")
	if _, err := runApp(t, "collect", filepath.Join(study, "results"), "--db", db); err != nil {
		t.Fatal(err)
	}

	out, err := runApp(t, "status", "--db", db, "--jobs", study)
	if err != nil {
		t.Fatal(err)
	}
	if want := "4 runs submitted from " + study + ": 4 done"; !strings.Contains(out, want) {
		t.Errorf("status output lacks %q:\n%s", want, out)
	}
	if strings.Contains(out, "mosaic collect") {
		t.Errorf("status asks to collect after collect:\n%s", out)
	}
}

// writeCollectedRun writes a done result of runID into dir and collects it
// into db.
func writeCollectedRun(t *testing.T, dir, db, runID string) {
	t.Helper()
	data, err := json.Marshal(result.Result{
		SchemaVersion: result.SchemaVersion, RunID: runID,
		PipelineID: strings.Split(runID, "-")[0], Label: "mlp", Status: result.StatusDone,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, runID+".json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := runApp(t, "collect", dir, "--db", db); err != nil {
		t.Fatalf("collect: %v\n%s", err, out)
	}
}

func TestStatusOneRun(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "other.db")
	writeCollectedRun(t, dir, db, "0123456789abcdef-0")

	out, err := runApp(t, "status", "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	if want := "1 run in " + db + "\n"; !strings.HasPrefix(out, want) {
		t.Errorf("status output starts %q, want %q", strings.SplitN(out, "\n", 2)[0], want)
	}
}

func TestSubmitSkipsUncollectedRuns(t *testing.T) {
	config, study, bin := writeSubmittedStudy(t)
	ids := writeStudyResults(t, study)
	// The last run has not ended: its result file does not exist.
	if err := os.Remove(filepath.Join(study, "results", ids[3]+".json")); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "cl.db")

	out, err := runApp(t, "submit", "--slurm", config, "--out", study, "--db", db, "--job-binary", bin, "--dry-run")
	if err != nil {
		t.Fatal(err)
	}
	if want := "4 runs in the study, 0 already finished, 3 not yet collected, 1 to submit"; !strings.Contains(out, want) {
		t.Errorf("submit output lacks %q:\n%s", want, out)
	}
	if want := "Run mosaic collect " + filepath.Join(study, "results") + " --db " + db + " first"; !strings.Contains(out, want) {
		t.Errorf("submit output lacks %q:\n%s", want, out)
	}
}

// collectLossStudy collects into a new database one done run per label:
// mse labels with loss function MSELoss and test losses 0.1 to 0.1*mse,
// huber labels with HuberLoss and test losses 0.01 to 0.01*huber. It
// returns the database path.
func collectLossStudy(t *testing.T, mse, huber int) string {
	t.Helper()
	dir := t.TempDir()
	results := filepath.Join(dir, "results")
	if err := os.Mkdir(results, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(loss string, i int, testLoss float64) {
		id := fmt.Sprintf("%s%012d-0", strings.ToLower(loss[:4]), i)
		data, err := json.Marshal(result.Result{
			SchemaVersion: result.SchemaVersion, RunID: id, PipelineID: strings.Split(id, "-")[0],
			Label: fmt.Sprintf("%s-%02d", loss, i), Status: result.StatusDone,
			Params: []result.Param{{Stage: -1, StageType: "process", Class: "process", Kind: "param",
				Name: "loss_function", Value: loss}},
			Indicators: result.Indicators{TestLoss: &testLoss},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(results, id+".json"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= mse; i++ {
		write("MSELoss", i, 0.1*float64(i))
	}
	for i := 1; i <= huber; i++ {
		write("HuberLoss", i, 0.01*float64(i))
	}
	db := filepath.Join(dir, "loss.db")
	if out, err := runApp(t, "collect", results, "--db", db); err != nil {
		t.Fatalf("collect: %v\n%s", err, out)
	}
	return db
}

func TestStatusBestPerLossFunction(t *testing.T) {
	db := collectLossStudy(t, 2, 2)

	out, err := runApp(t, "status", "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	_, table, found := strings.Cut(out, "best runs per label")
	if !found {
		t.Fatalf("status output has no best runs table:\n%s", out)
	}
	var rows []string
	for _, line := range strings.Split(table, "\n")[2:] {
		if fields := strings.Fields(line); len(fields) >= 2 {
			rows = append(rows, fields[0]+" "+fields[1])
		}
	}
	want := []string{"HuberLoss HuberLoss-01", "HuberLoss HuberLoss-02", "MSELoss MSELoss-01", "MSELoss MSELoss-02"}
	if !slices.Equal(rows, want) {
		t.Errorf("best runs rows = %q, want %q:\n%s", rows, want, out)
	}
	if strings.Contains(out, "showing") {
		t.Errorf("status says labels are left out, but --top lists all:\n%s", out)
	}
}

func TestStatusTopCutsLabels(t *testing.T) {
	db := collectLossStudy(t, 3, 2)

	out, err := runApp(t, "status", "--db", db, "--top", "2")
	if err != nil {
		t.Fatal(err)
	}
	if want := "showing 4 of 5 labels; --top N shows more"; !strings.Contains(out, want) {
		t.Errorf("status output lacks %q:\n%s", want, out)
	}
	if strings.Contains(out, "MSELoss-03") {
		t.Errorf("status lists the third MSELoss label with --top 2:\n%s", out)
	}
}

func TestStatusJSONKeys(t *testing.T) {
	db := collectLossStudy(t, 3, 2)

	out, err := runApp(t, "status", "--db", db, "--json", "--top", "1")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("decode status --json: %v\n%s", err, out)
	}
	if _, ok := doc["data_cache"]; ok {
		t.Errorf("status --json has data_cache without cache lookups:\n%s", out)
	}
	if total, _ := doc["best_total"].(float64); total != 5 {
		t.Errorf("best_total = %v, want 5", doc["best_total"])
	}
	best, _ := doc["best"].([]any)
	if len(best) != 2 {
		t.Fatalf("best has %d entries, want 1 per loss function:\n%s", len(best), out)
	}
	first, _ := best[0].(map[string]any)
	for _, key := range []string{"loss_function", "label", "done", "best_test_loss", "mean_test_loss", "best_test_accuracy"} {
		if _, ok := first[key]; !ok {
			t.Errorf("best entry lacks key %q: %v", key, first)
		}
	}
	if first["loss_function"] != "HuberLoss" || first["label"] != "HuberLoss-01" {
		t.Errorf("first best entry = %v, want HuberLoss-01 of HuberLoss", first)
	}
}

func TestStatusJSONDataCache(t *testing.T) {
	db := collectLossStudy(t, 1, 0)
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddCacheCounts(context.Background(), store.CacheCounts{Hits: 3, Misses: 1}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	out, err := runApp(t, "status", "--db", db, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cache *store.CacheCounts `json:"data_cache"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("decode status --json: %v\n%s", err, out)
	}
	if doc.Cache == nil || *doc.Cache != (store.CacheCounts{Hits: 3, Misses: 1}) {
		t.Errorf("data_cache = %+v, want 3 hits and 1 miss:\n%s", doc.Cache, out)
	}
}
