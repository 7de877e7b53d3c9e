package mosaiccli

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

func TestParseSelectionIDs(t *testing.T) {
	sel, err := parseSelection("slope < 0", "3, 7-9,5d5efb7bfff8e623-0,,5d5efb7bfff8e623", "%mlp%")
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{3, 7, 8, 9}; !slices.Equal(sel.Numbers, want) {
		t.Errorf("numbers = %v, want %v", sel.Numbers, want)
	}
	if want := []string{"5d5efb7bfff8e623-0", "5d5efb7bfff8e623"}; !slices.Equal(sel.IDs, want) {
		t.Errorf("ids = %v, want %v", sel.IDs, want)
	}
	if sel.Where != "slope < 0" || sel.LabelLike != "%mlp%" {
		t.Errorf("where, label-like = %q, %q", sel.Where, sel.LabelLike)
	}
}

func TestParseSelectionRejectsReversedRange(t *testing.T) {
	if _, err := parseSelection("", "9-7", ""); err == nil {
		t.Error("range 9-7 was accepted")
	}
}

func TestParseSelectionDigitOnlyIDs(t *testing.T) {
	sel, err := parseSelection("", "1234567890123456-0,1234567890123456,3f2a9c0d1e2b4a5c-1,4", "")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"1234567890123456-0", "1234567890123456", "3f2a9c0d1e2b4a5c-1"}; !slices.Equal(sel.IDs, want) {
		t.Errorf("ids = %v, want %v", sel.IDs, want)
	}
	if want := []int64{4}; !slices.Equal(sel.Numbers, want) {
		t.Errorf("numbers = %v, want %v", sel.Numbers, want)
	}
}

func TestRerunNoMatchFails(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "study.db")
	writeCollectedRun(t, dir, db, "3f2a9c0d1e2b4a5c-0")

	out, err := runApp(t, "rerun", "--db", db, "--epochs", "1", "--ids", "3f2a9c0d1e2b4a5c-1,99")
	var exit cli.ExitCoder
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("rerun of no run returned %v, want a non-zero exit; output:\n%s", err, out)
	}
	for _, want := range []string{"no run of " + db + " matches the selection", "mosaic query --db " + db, "mosaic status --db " + db} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
}

func TestRerunSelectsByRunID(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "study.db")
	writeCollectedRun(t, dir, db, "3f2a9c0d1e2b4a5c-0")

	// The run is known from a collected result only, so it is selected
	// but not continued.
	out, err := runApp(t, "rerun", "--db", db, "--epochs", "1", "--ids", "99,3f2a9c0d1e2b4a5c-0")
	if err != nil {
		t.Fatalf("rerun: %v; output:\n%s", err, out)
	}
	if !strings.Contains(out, "1 run selected, 0 continued") || !strings.Contains(out, "3f2a9c0d1e2b4a5c-0") {
		t.Errorf("rerun output does not show the selected run:\n%s", out)
	}
}
