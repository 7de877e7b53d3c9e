package mosaiccli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/mosaic-go/mosaic/result"
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
