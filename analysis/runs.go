package analysis

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
)

// storedParam is one row of the params table.
type storedParam struct {
	stage     int
	stageType string
	class     string
	kind      string // "param" or "info"
	name      string
	text      string
	num       float64
	isNum     bool
}

// storedRun is one row of the results view with its parameters.
type storedRun struct {
	id      string
	label   string
	replica int64
	status  string
	// fields holds every column of the results view by name, as the driver
	// returned it (nil for NULL).
	fields map[string]any
	// params are sorted by kind ("param" first), then stage, then name.
	params []storedParam
}

// lookup returns the parameter of the given stage type (any type when
// empty) and name. A configured value wins over an info value, then the
// earlier stage.
func (r *storedRun) lookup(stageType, name string) (storedParam, bool) {
	for _, p := range r.params {
		if p.name == name && (stageType == "" || p.stageType == stageType) {
			return p, true
		}
	}
	return storedParam{}, false
}

// study is everything the results view and params table hold.
type study struct {
	// columns are the columns of the results view, in order.
	columns []string
	runs    []*storedRun
	// stageTypes maps a parameter or info name to the stage types that
	// store it, sorted.
	stageTypes map[string][]string
}

// loadStudy reads the results view and the params table.
func loadStudy(ctx context.Context, db *sql.DB) (*study, error) {
	rows, err := db.QueryContext(ctx, "SELECT * FROM results ORDER BY label, replica, run_id")
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	defer rows.Close()
	columns, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("read results columns: %w", err)
	}

	s := &study{columns: columns, stageTypes: map[string][]string{}}
	byID := map[string]*storedRun{}
	for rows.Next() {
		values, err := scanRow(rows, len(columns))
		if err != nil {
			return nil, fmt.Errorf("read results row: %w", err)
		}
		r := &storedRun{fields: make(map[string]any, len(columns))}
		for i, c := range columns {
			r.fields[c] = values[i]
		}
		r.id = formatValue(r.fields["run_id"], true)
		r.label = formatValue(r.fields["label"], true)
		r.status = formatValue(r.fields["status"], true)
		r.replica, _ = r.fields["replica"].(int64)
		s.runs = append(s.runs, r)
		byID[r.id] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read results rows: %w", err)
	}

	if err := s.loadParams(ctx, db, byID); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *study) loadParams(ctx context.Context, db *sql.DB, byID map[string]*storedRun) error {
	rows, err := db.QueryContext(ctx, `SELECT run_id, stage, stage_type, class, kind, name, value_text, value_num
		FROM params ORDER BY run_id, kind DESC, stage, name`)
	if err != nil {
		return fmt.Errorf("read params: %w", err)
	}
	defer rows.Close()

	seen := map[string]map[string]bool{}
	for rows.Next() {
		var runID string
		var p storedParam
		var text sql.NullString
		var num sql.NullFloat64
		if err := rows.Scan(&runID, &p.stage, &p.stageType, &p.class, &p.kind, &p.name, &text, &num); err != nil {
			return fmt.Errorf("read params row: %w", err)
		}
		p.text, p.num, p.isNum = text.String, num.Float64, num.Valid
		r, ok := byID[runID]
		if !ok {
			continue // a run the results view leaves out
		}
		r.params = append(r.params, p)
		if seen[p.name] == nil {
			seen[p.name] = map[string]bool{}
		}
		seen[p.name][p.stageType] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read params rows: %w", err)
	}

	for name, types := range seen {
		for t := range types {
			s.stageTypes[name] = append(s.stageTypes[name], t)
		}
		sort.Strings(s.stageTypes[name])
	}
	return nil
}

// hasColumn reports whether the results view has the named column.
func (s *study) hasColumn(name string) bool {
	for _, c := range s.columns {
		if c == name {
			return true
		}
	}
	return false
}

// paramNames returns every parameter and info name, qualified as
// stage_type.name where it is ambiguous, sorted.
func (s *study) paramNames() []string {
	var names []string
	for name, types := range s.stageTypes {
		if len(types) == 1 && !s.hasColumn(name) {
			names = append(names, name)
			continue
		}
		for _, t := range types {
			names = append(names, t+"."+name)
		}
	}
	sort.Strings(names)
	return names
}

// describeNames lists what a plot may name, for an error message.
func (s *study) describeNames() string {
	return "indicators: " + strings.Join(s.columns, ", ") + "; parameters: " + strings.Join(s.paramNames(), ", ")
}
