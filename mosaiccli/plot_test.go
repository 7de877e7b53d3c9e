package mosaiccli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPlotCurvesPrintsFilesWritten(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "study.db")
	for _, id := range []string{"0123456789abcdef-0", "0123456789abcdef-1", "0123456789abcdef-2"} {
		writeCollectedRun(t, dir, db, id)
	}
	out := filepath.Join(dir, "curves.png")

	printed, err := runApp(t, "plot", "curves", "--db", db, "--per-page", "1", "-o", out)
	if err != nil {
		t.Fatalf("plot curves: %v\n%s", err, printed)
	}
	var files []string
	for i := range 3 {
		path := filepath.Join(dir, "curves_"+string(rune('1'+i))+".png")
		if _, err := os.Stat(path); err != nil {
			t.Error(err)
		}
		files = append(files, path)
	}
	if want := "wrote " + strings.Join(files, ", ") + " (3 pages)\n"; printed != want {
		t.Errorf("plot curves printed %q, want %q", printed, want)
	}
}
