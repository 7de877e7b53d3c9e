// Package submittest holds the helpers that the cluster tests share: it
// builds the static mosaic-job binary and writes small iris studies.
package submittest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// moduleRoot returns the repository root, found from this file's path.
func moduleRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the submittest source file")
	}
	return filepath.Dir(filepath.Dir(filepath.Dir(file)))
}

// BuildJob builds cmd/mosaic-job with CGO_ENABLED=0 into a temporary folder
// and returns the binary's path.
func BuildJob(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mosaic-job")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/mosaic-job")
	cmd.Dir = moduleRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build mosaic-job: %v\n%s", err, out)
	}
	return bin
}

// Study describes a small iris study.
type Study struct {
	// Epochs is the number of epochs of every run.
	Epochs int
	// Widths are the alternatives of the MLP width; their count times
	// Multiplicity is the number of runs.
	Widths []int
	// Multiplicity is the number of replicas per pipeline; 0 means 1.
	Multiplicity int
}

// WriteStudy writes the study's config and a copy of the iris data into dir
// and returns the config's path.
func WriteStudy(t testing.TB, dir string, s Study) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(moduleRoot(t), "examples", "data", "iris.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data", "iris.csv"), data, 0o644); err != nil {
		t.Fatal(err)
	}

	widths := make([]string, len(s.Widths))
	for i, w := range s.Widths {
		widths[i] = fmt.Sprint(w)
	}
	config := fmt.Sprintf(`[PROCESS]
lr = 1e-2
epochs = %d
loss_function = CrossEntropyLoss
data_scheme = dataset, scaling
pipeline_scheme = model
run_files_path = runs
seed = 7

[MONITOR]
need_gpu = False
multiplicity = %d

[iris]
type = dataset
class = csv
path = data/iris.csv
train_prop = 0.7
batch_size = 16

[standard]
type = scaling
class = normalize
style = standardisation

[funnel]
type = model
class = mlp_funnel
width = %s
length = 1
activation = relu
`, s.Epochs, max(1, s.Multiplicity), strings.Join(widths, ", "))
	path := filepath.Join(dir, "study.ini")
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// CheckGolden compares got with the file testdata/name, after writing got
// there when update is set (the tests' -update flag).
func CheckGolden(t *testing.T, name string, got []byte, update bool) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; got:\n%s", name, got)
	}
}
