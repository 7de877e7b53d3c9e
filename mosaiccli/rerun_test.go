package mosaiccli

import (
	"slices"
	"testing"
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
