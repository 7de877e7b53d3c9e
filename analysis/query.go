package analysis

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Query runs one read-only SQL statement and writes its rows to w: an
// aligned table where NULL prints as "NULL", or, with asCSV, CSV with a
// header row where NULL is an empty field. Statements other than SELECT,
// WITH … SELECT, VALUES, EXPLAIN and a reading PRAGMA are rejected with
// ErrNotReadOnly before they reach the database. This check is the second
// guard, so db should be opened with store.OpenReadOnly, which is the first.
func Query(ctx context.Context, db *sql.DB, query string, w io.Writer, asCSV bool) error {
	if err := checkReadOnlyStatement(query); err != nil {
		return err
	}

	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("run query: %w", err)
	}
	defer rows.Close()
	columns, err := rows.Columns()
	if err != nil {
		return fmt.Errorf("read query columns: %w", err)
	}

	out := newRowWriter(w, asCSV)
	if err := out.write(columns); err != nil {
		return err
	}
	for rows.Next() {
		values, err := scanRow(rows, len(columns))
		if err != nil {
			return fmt.Errorf("read query row: %w", err)
		}
		if err := out.write(formatRow(values, asCSV)); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read query rows: %w", err)
	}
	return out.flush()
}

// rowWriter writes rows as CSV or as a tab-aligned table.
type rowWriter struct {
	csv   *csv.Writer
	table *tabwriter.Writer
}

func newRowWriter(w io.Writer, asCSV bool) *rowWriter {
	if asCSV {
		return &rowWriter{csv: csv.NewWriter(w)}
	}
	return &rowWriter{table: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
}

func (r *rowWriter) write(fields []string) error {
	if r.csv != nil {
		if err := r.csv.Write(fields); err != nil {
			return fmt.Errorf("write csv row: %w", err)
		}
		return nil
	}
	// A tab or newline inside a value would break the alignment.
	clean := make([]string, len(fields))
	for i, f := range fields {
		clean[i] = strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(f)
	}
	if _, err := io.WriteString(r.table, strings.Join(clean, "\t")+"\n"); err != nil {
		return fmt.Errorf("write table row: %w", err)
	}
	return nil
}

func (r *rowWriter) flush() error {
	if r.csv != nil {
		r.csv.Flush()
		if err := r.csv.Error(); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
		return nil
	}
	if err := r.table.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// scanRow reads one row into driver values (nil for NULL).
func scanRow(rows *sql.Rows, n int) ([]any, error) {
	values := make([]any, n)
	pointers := make([]any, n)
	for i := range values {
		pointers[i] = &values[i]
	}
	if err := rows.Scan(pointers...); err != nil {
		return nil, err
	}
	return values, nil
}

// formatRow turns driver values into text. CSV keeps every digit of a
// float; the table rounds to 6 significant digits so columns stay narrow.
func formatRow(values []any, asCSV bool) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = formatValue(v, asCSV)
	}
	return out
}

func formatValue(v any, asCSV bool) string {
	switch x := v.(type) {
	case nil:
		if asCSV {
			return ""
		}
		return "NULL"
	case float64:
		if asCSV || math.IsInf(x, 0) || math.IsNaN(x) {
			return strconv.FormatFloat(x, 'g', -1, 64)
		}
		return strconv.FormatFloat(x, 'g', 6, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case []byte:
		return string(x)
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	default:
		return fmt.Sprint(x)
	}
}
