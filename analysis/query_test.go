package analysis

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestQueryTable(t *testing.T) {
	db := irisFixture(t)
	var out bytes.Buffer

	err := Query(context.Background(), db,
		"SELECT status, count(*) AS n, max(diverged_epoch) AS diverged FROM results GROUP BY status ORDER BY status", &out, false)
	if err != nil {
		t.Fatal(err)
	}

	want := "" +
		"status    n   diverged\n" +
		"diverged  1   13\n" +
		"done      36  NULL\n" +
		"failed    1   NULL\n"
	if out.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestQueryCSVNullIsEmpty(t *testing.T) {
	db := irisFixture(t)
	var out bytes.Buffer

	err := Query(context.Background(), db,
		"SELECT run_id, test_loss, error FROM results WHERE status <> 'done' ORDER BY run_id", &out, true)
	if err != nil {
		t.Fatal(err)
	}

	records, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 3 {
		t.Fatalf("got %d records, want header and 2 rows: %v", len(records), records)
	}
	if got := records[1]; got[0] != "mlp_brick-w64-l2-r0" || got[1] != "" || got[2] != "loss is NaN" {
		t.Errorf("diverged row = %q", got)
	}
	if got := records[2][1]; got != "" {
		t.Errorf("NULL test_loss printed as %q, want empty", got)
	}
}

func TestQueryRejectsWrites(t *testing.T) {
	db := irisFixture(t)
	statements := []string{
		"DELETE FROM runs",
		"  update runs SET status = 'x'",
		"DROP VIEW results",
		"SELECT 1; DELETE FROM runs",
		"WITH x AS (SELECT 1) DELETE FROM runs",
		"PRAGMA journal_mode = DELETE",
		"PRAGMA user_version(7)",
		"ATTACH DATABASE 'other.db' AS other",
		"/* SELECT */ INSERT INTO meta VALUES ('a', 'b')",
		"",
	}
	for _, s := range statements {
		err := Query(context.Background(), db, s, &bytes.Buffer{}, false)
		if !errors.Is(err, ErrNotReadOnly) {
			t.Errorf("Query(%q) error = %v, want ErrNotReadOnly", s, err)
		}
	}

	var out bytes.Buffer
	if err := Query(context.Background(), db, "SELECT count(*) FROM runs", &out, true); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.String()); got != "count(*)\n38" {
		t.Errorf("runs after rejected writes: %q, want 38", got)
	}
}

func TestQueryAcceptsReads(t *testing.T) {
	db := irisFixture(t)
	statements := []string{
		"select label from results where label = 'a;b'",
		"WITH best AS (SELECT min(test_loss) AS m FROM results) SELECT m FROM best;",
		"-- comment\nSELECT 1",
		"EXPLAIN QUERY PLAN SELECT * FROM results",
		"PRAGMA table_info(runs)",
		"PRAGMA user_version",
	}
	for _, s := range statements {
		if err := Query(context.Background(), db, s, &bytes.Buffer{}, false); err != nil {
			t.Errorf("Query(%q): %v", s, err)
		}
	}
}

func TestQueryRejectionListsAccepted(t *testing.T) {
	db := irisFixture(t)
	accepted := []string{
		"SELECT 1",
		"WITH x AS (SELECT 1) SELECT * FROM x",
		"VALUES (1), (2)",
		"EXPLAIN SELECT 1",
		"PRAGMA user_version",
	}
	rejection := checkReadOnlyStatement("DELETE FROM runs")
	if rejection == nil {
		t.Fatal("DELETE accepted")
	}

	for _, s := range accepted {
		if err := Query(context.Background(), db, s, &bytes.Buffer{}, false); err != nil {
			t.Errorf("Query(%q): %v", s, err)
		}
		first := strings.Fields(s)[0]
		if !strings.Contains(rejection.Error(), first) {
			t.Errorf("rejection %q does not list the accepted %s", rejection, first)
		}
	}
}

func TestQueryReportsSQLiteError(t *testing.T) {
	db := irisFixture(t)

	err := Query(context.Background(), db, "SELECT no_such_column FROM results", &bytes.Buffer{}, false)
	if err == nil || !strings.Contains(err.Error(), "no_such_column") {
		t.Errorf("error = %v, want SQLite's message naming the column", err)
	}
}

func TestQueryTypoSaysWhatIsAccepted(t *testing.T) {
	db := irisFixture(t)
	err := Query(context.Background(), db, "SELEC 1", io.Discard, false)
	if err == nil || !strings.Contains(err.Error(), "SELEC") || !strings.Contains(err.Error(), "not an SQL statement this command runs") {
		t.Errorf("typo: error %v, want one naming SELEC and what is accepted", err)
	}
	err = Query(context.Background(), db, "DELETE FROM runs", io.Discard, false)
	if err == nil || !strings.Contains(err.Error(), "changes the database") {
		t.Errorf("DELETE: error %v, want one saying it changes the database", err)
	}
}
