package analysis

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/plot/cmpimg"
)

var update = flag.Bool("update", false, "rewrite the golden images under testdata")

// goldenDelta is the cmpimg.EqualApprox tolerance: small enough to catch a
// moved line or a missing legend, loose enough for anti-aliasing
// differences between builds.
const goldenDelta = 0.02

// checkGolden compares the PNG at got with testdata/name, or replaces the
// golden file when -update is set. On a mismatch it keeps the new image in
// a new folder under the system's temporary folder for inspection.
func checkGolden(t *testing.T, got, name string) {
	t.Helper()
	golden := filepath.Join("testdata", name)
	gotBytes, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(golden, gotBytes, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}

	wantBytes, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	ok, err := cmpimg.EqualApprox("png", gotBytes, wantBytes, goldenDelta)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		// Keep the new image past the test's temporary folder, outside the
		// repository.
		dir, err := os.MkdirTemp("", "analysis-golden-")
		if err != nil {
			t.Fatal(err)
		}
		failed := filepath.Join(dir, name)
		if err := os.WriteFile(failed, gotBytes, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Errorf("%s differs from %s; the new image is %s (go test -update accepts it)", got, golden, failed)
	}
}

func TestCurvesGolden(t *testing.T) {
	db := irisFixture(t)
	out := filepath.Join(t.TempDir(), "curves.png")

	written, err := PlotCurves(context.Background(), db, CurvesOptions{
		Where: "replica = 0 AND (label LIKE '%(8,1)' OR status <> 'done')",
		Out:   out,
	})
	if err != nil {
		t.Fatal(err)
	}

	if written.Pages != 1 {
		t.Fatalf("wrote %d pages, want 1", written.Pages)
	}
	checkGolden(t, out, "curves.golden.png")
}

func TestMetaGolden(t *testing.T) {
	db := irisFixture(t)
	out := filepath.Join(t.TempDir(), "meta.png")

	files, err := PlotMeta(context.Background(), db, filepath.Join("testdata", "golden.plot.ini"), out)
	if err != nil {
		t.Fatal(err)
	}

	names := []string{"meta_line_bars.golden.png", "meta_line_filled.golden.png", "meta_violin.golden.png"}
	if len(files) != len(names) {
		t.Fatalf("wrote %v, want %d files", files, len(names))
	}
	for i, name := range names {
		if want := filepath.Join(filepath.Dir(out), "meta_"+string(rune('1'+i))+".png"); files[i] != want {
			t.Errorf("file %d = %s, want %s", i, files[i], want)
		}
		checkGolden(t, files[i], name)
	}
}
