package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/mosaic-go/mosaic/pipeline"
	"github.com/mosaic-go/mosaic/result"
)

// upsertPipelineSQL inserts a pipeline or updates its label and spec_json,
// keeping its created_at.
const upsertPipelineSQL = `INSERT INTO pipelines (pipeline_id, label, spec_json, created_at)
VALUES (?, ?, ?, ?)
ON CONFLICT (pipeline_id) DO UPDATE SET label = excluded.label, spec_json = excluded.spec_json`

// fillPipelineSQL inserts a pipeline when missing, and sets its spec_json
// when it is known only from collected results.
const fillPipelineSQL = `INSERT INTO pipelines (pipeline_id, label, spec_json, created_at)
VALUES (?, ?, ?, ?)
ON CONFLICT (pipeline_id) DO UPDATE SET spec_json = coalesce(pipelines.spec_json, excluded.spec_json)`

// SavePipelines inserts or updates the pipelines in one transaction, keyed
// by ID, with their label and their document as spec_json.
func (s *Store) SavePipelines(ctx context.Context, pipelines []pipeline.Pipeline) error {
	if err := s.checkWritable(); err != nil {
		return fmt.Errorf("save pipelines to %s: %w", s.path, err)
	}

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save pipelines to %s: begin transaction: %w", s.path, err)
	}
	defer tx.Rollback()

	stmt, err := tx.PrepareContext(ctx, upsertPipelineSQL)
	if err != nil {
		return fmt.Errorf("save pipelines to %s: prepare statement: %w", s.path, err)
	}
	defer stmt.Close()

	now := formatTime(time.Now())
	for _, p := range pipelines {
		if p.ID == "" {
			return fmt.Errorf("save pipelines to %s: pipeline %q has no id", s.path, p.Label)
		}
		spec, err := json.Marshal(p)
		if err != nil {
			return fmt.Errorf("save pipelines to %s: encode pipeline %s: %w", s.path, p.ID, err)
		}
		if _, err := stmt.ExecContext(ctx, p.ID, p.Label, string(spec), now); err != nil {
			return fmt.Errorf("save pipelines to %s: pipeline %s: %w", s.path, p.ID, err)
		}
	}

	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save pipelines to %s: commit: %w", s.path, err)
	}
	return nil
}

// MarkRunning records that the run of spec started at startedAt. It
// discards whatever the database holds for the run, indicators, params and
// curves included, and inserts a runs row with status running. It creates
// the pipelines row from spec.Pipeline when missing.
func (s *Store) MarkRunning(ctx context.Context, spec pipeline.Spec, startedAt time.Time) error {
	if err := s.checkWritable(); err != nil {
		return fmt.Errorf("mark run %s running: %w", spec.RunID, err)
	}
	if spec.RunID == "" || spec.Pipeline.ID == "" {
		return fmt.Errorf("mark run running: run id %q or pipeline id %q is missing",
			spec.RunID, spec.Pipeline.ID)
	}

	pipelineJSON, err := json.Marshal(spec.Pipeline)
	if err != nil {
		return fmt.Errorf("mark run %s running: encode pipeline %s: %w", spec.RunID, spec.Pipeline.ID, err)
	}

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("mark run %s running: begin transaction: %w", spec.RunID, err)
	}
	defer tx.Rollback()

	_, err = tx.ExecContext(ctx, fillPipelineSQL,
		spec.Pipeline.ID, spec.Pipeline.Label, string(pipelineJSON), formatTime(time.Now()))
	if err != nil {
		return fmt.Errorf("mark run %s running: save pipeline %s: %w", spec.RunID, spec.Pipeline.ID, err)
	}
	if _, err := tx.ExecContext(ctx, deleteRunSQL, spec.RunID); err != nil {
		return fmt.Errorf("mark run %s running: delete stored run: %w", spec.RunID, err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO runs (run_id, pipeline_id, replica, seed, status, started_at)
VALUES (?, ?, ?, ?, ?, ?)`,
		spec.RunID, spec.Pipeline.ID, spec.Replica, seedValue(spec.Seed), string(result.StatusRunning),
		formatTime(startedAt))
	if err != nil {
		return fmt.Errorf("mark run %s running: insert run: %w", spec.RunID, err)
	}

	if err := tx.Commit(); err != nil {
		return fmt.Errorf("mark run %s running: commit: %w", spec.RunID, err)
	}
	return nil
}
