package analysis

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
)

// exportColumn is one parameter column of an export.
type exportColumn struct {
	header    string
	stageType string
	name      string
	// order sorts columns: the first stage that stores the name, then
	// configured values before info values.
	stage int
	kind  string
}

// Export writes the results view as CSV, one row per run ordered by label
// and replica, with every stored parameter and info value as an extra
// column. A parameter column is named after the parameter, or
// stage_type.name when several stage types store that name or the name is
// also a column of the results view. A run without the value has an empty
// field, as has every NULL.
func Export(ctx context.Context, db *sql.DB, w io.Writer) error {
	s, err := loadStudy(ctx, db)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	extra := s.exportColumns()

	out := csv.NewWriter(w)
	header := append([]string(nil), s.columns...)
	for _, c := range extra {
		header = append(header, c.header)
	}
	if err := out.Write(header); err != nil {
		return fmt.Errorf("export: write csv header: %w", err)
	}

	for _, r := range s.runs {
		record := make([]string, 0, len(header))
		for _, c := range s.columns {
			record = append(record, formatValue(r.fields[c], true))
		}
		for _, c := range extra {
			p, ok := r.lookup(c.stageType, c.name)
			if !ok {
				record = append(record, "")
				continue
			}
			record = append(record, p.text)
		}
		if err := out.Write(record); err != nil {
			return fmt.Errorf("export: write run %s: %w", r.id, err)
		}
	}

	out.Flush()
	if err := out.Error(); err != nil {
		return fmt.Errorf("export: write csv: %w", err)
	}
	return nil
}

// exportColumns returns one column per stored (stage type, name) pair.
func (s *study) exportColumns() []exportColumn {
	byKey := map[[2]string]*exportColumn{}
	for _, r := range s.runs {
		for _, p := range r.params {
			key := [2]string{p.stageType, p.name}
			c, ok := byKey[key]
			if !ok {
				c = &exportColumn{stageType: p.stageType, name: p.name, stage: p.stage, kind: p.kind}
				byKey[key] = c
			}
			if p.stage < c.stage {
				c.stage = p.stage
			}
			if p.kind == "param" {
				c.kind = p.kind
			}
		}
	}

	columns := make([]exportColumn, 0, len(byKey))
	for _, c := range byKey {
		c.header = c.name
		if len(s.stageTypes[c.name]) > 1 || s.hasColumn(c.name) {
			c.header = c.stageType + "." + c.name
		}
		columns = append(columns, *c)
	}
	sort.Slice(columns, func(i, j int) bool {
		a, b := columns[i], columns[j]
		if a.stage != b.stage {
			return a.stage < b.stage
		}
		if a.kind != b.kind {
			return a.kind == "param"
		}
		return a.header < b.header
	})
	return columns
}
