package analysis

import (
	"bytes"
	"context"
	"encoding/csv"
	"slices"
	"testing"
)

func TestExportColumns(t *testing.T) {
	db := irisFixture(t)
	var out bytes.Buffer

	if err := Export(context.Background(), db, &out); err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}

	header := records[0]
	for _, want := range []string{"run_id", "label", "test_loss", "nb_params", "lr", "path", "dataset",
		"width", "length", "activation", "dataset.data_size", "model.data_size"} {
		if !slices.Contains(header, want) {
			t.Errorf("header %v lacks %s", header, want)
		}
	}
	if slices.Contains(header, "data_size") {
		t.Errorf("header has a plain data_size, which two stage types store")
	}
	if len(records) != 1+38 {
		t.Fatalf("got %d records, want header and 38 runs", len(records))
	}

	column := func(name string) int { return slices.Index(header, name) }
	first := records[1]
	if got := first[column("run_id")]; got != "mlp_brick-w16-l1-r0" {
		t.Errorf("first run = %s, want mlp_brick-w16-l1-r0 (label order)", got)
	}
	if got := first[column("width")]; got != "16" {
		t.Errorf("width = %q, want 16", got)
	}
	if got := first[column("model.data_size")]; got != "120" {
		t.Errorf("model.data_size = %q, want 120", got)
	}
	if got := first[column("dataset")]; got != "iris" {
		t.Errorf("dataset = %q, want iris", got)
	}
}

func TestExportQualifiesColumnClash(t *testing.T) {
	res := irisResult(irisRun{"mlp_brick", 8, 1, 0, "done", 5})
	res.Params = append(res.Params, resultParam(1, "model", "seed", 7))
	db := openFixture(t, []*resultDoc{res})
	var out bytes.Buffer

	if err := Export(context.Background(), db, &out); err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}

	header, row := records[0], records[1]
	for _, want := range []string{"process.epochs", "process.seed", "model.seed"} {
		if !slices.Contains(header, want) {
			t.Errorf("header %v lacks %s", header, want)
		}
	}
	if n := len(slices.DeleteFunc(slices.Clone(header), func(h string) bool { return h != "epochs" })); n != 1 {
		t.Errorf("header has %d epochs columns, want only the results view's", n)
	}
	if got := row[slices.Index(header, "model.seed")]; got != "7" {
		t.Errorf("model.seed = %q, want 7", got)
	}
	if got := row[slices.Index(header, "seed")]; got != "1000" {
		t.Errorf("seed = %q, want the run seed 1000", got)
	}
}
