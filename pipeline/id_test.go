package pipeline

import (
	"crypto/sha256"
	"encoding/binary"
	"regexp"
	"strings"
	"testing"

	"github.com/mosaic-go/mosaic/stage"
)

func TestIDStable(t *testing.T) {
	a := mustExpand(t, gridConfig)
	b := mustExpand(t, gridConfig)
	hex16 := regexp.MustCompile(`^[0-9a-f]{16}$`)
	for i := range a {
		if a[i].ID != b[i].ID {
			t.Fatalf("pipeline %d: id %s then %s for the same config", i, a[i].ID, b[i].ID)
		}
		if !hex16.MatchString(a[i].ID) {
			t.Fatalf("id %q is not 16 hex digits", a[i].ID)
		}
	}
}

func TestIDUnchangedInGrownConfig(t *testing.T) {
	old := mustExpand(t, gridConfig)
	grown := strings.Replace(gridConfig, "width = 32, 64", "width = 32, 64, 128", 1)
	grown = strings.Replace(grown, "lr = 0.01, 1e-3", "lr = 0.01, 1e-3, 1e-4", 1)
	grown += "\n[extra]\ntype = dataset\nclass = test_data\nname = digits\n"
	// Renaming a section changes no id either.
	grown = strings.Replace(grown, "[wide]", "[broad]", 1)
	labels := map[string]string{}
	for _, p := range mustExpand(t, grown) {
		labels[p.ID] = p.Label
	}
	if len(labels) != 9*11*3*2 {
		t.Fatalf("grown config has %d pipelines, want %d", len(labels), 9*11*3*2)
	}
	for _, p := range old {
		label, ok := labels[p.ID]
		if !ok {
			t.Fatalf("id %s (%s) of the original config is missing from the grown one", p.ID, p.Label)
		}
		if label != p.Label {
			t.Errorf("id %s: label %q, was %q", p.ID, label, p.Label)
		}
	}
}

func TestIDIgnoresNumberSpelling(t *testing.T) {
	// dropout is a float parameter, so 1 and 1.0 are the same value; the
	// explicit default 8 for width equals leaving it out.
	a := mustExpand(t, strings.Replace(gridConfig, "dropout = 0.1, 0.2", "dropout = 1", 1))
	b := mustExpand(t, strings.Replace(gridConfig, "dropout = 0.1, 0.2", "dropout = 1.0\nwidth = 8", 1))
	if a[0].ID != b[0].ID {
		t.Errorf("ids differ: %s (%s) and %s (%s)", a[0].ID, a[0].Label, b[0].ID, b[0].Label)
	}
}

func TestIDDependsOnSeed(t *testing.T) {
	a := mustExpand(t, gridConfig)
	b := mustExpand(t, strings.Replace(gridConfig, "seed = 7", "seed = 8", 1))
	if a[0].ID == b[0].ID {
		t.Errorf("study seeds 7 and 8 give the same id %s", a[0].ID)
	}
}

func TestRuns(t *testing.T) {
	p := mustExpand(t, gridConfig)[0]
	specs := Runs(p, 3)
	if len(specs) != 3 {
		t.Fatalf("got %d runs, want 3", len(specs))
	}
	seeds := map[uint64]bool{}
	for i, s := range specs {
		wantID := p.ID + "-" + string(rune('0'+i))
		if s.RunID != wantID || s.Replica != i || s.SchemaVersion != SpecVersion || s.Pipeline.ID != p.ID {
			t.Errorf("run %d = id %s replica %d version %d", i, s.RunID, s.Replica, s.SchemaVersion)
		}
		sum := sha256.Sum256([]byte(wantID + "7"))
		if want := binary.BigEndian.Uint64(sum[:8]) &^ (1 << 63); s.Seed != want {
			t.Errorf("run %d seed = %d, want %d", i, s.Seed, want)
		}
		seeds[s.Seed] = true
	}
	if len(seeds) != 3 {
		t.Errorf("got %d distinct seeds for 3 runs", len(seeds))
	}
	if got := Runs(p, 0); len(got) != 0 {
		t.Errorf("Runs(p, 0) returned %d runs", len(got))
	}
	if RunSeed("x-0", 1) == RunSeed("x-0", 2) {
		t.Error("RunSeed ignores the study seed")
	}
}

func TestIDIgnoresDefaultValues(t *testing.T) {
	base := Pipeline{
		Model:   []Stage{{Type: "model", Class: "test_mlp", Params: stage.Params{"width": 2, "length": 3}}},
		Process: Process{LR: 0.01, Epochs: 5, LossFunction: "MSELoss"},
	}
	withDefaults := base
	withDefaults.Model = []Stage{{Type: "model", Class: "test_mlp", Params: stage.Params{
		"width": 2, "length": 3, "dropout": 0.0, "activation": "relu",
	}}}
	if ComputeID(base) != ComputeID(withDefaults) {
		t.Error("parameters set to their default changed the ID: a new parameter with a default would change every stored ID")
	}

	changed := base
	changed.Model = []Stage{{Type: "model", Class: "test_mlp", Params: stage.Params{
		"width": 2, "length": 3, "dropout": 0.5,
	}}}
	if ComputeID(base) == ComputeID(changed) {
		t.Error("a parameter away from its default did not change the ID")
	}
}
