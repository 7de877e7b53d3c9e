package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// IndexFile is the name of the index WriteDir writes beside the pipelines.
const IndexFile = "index.json"

// ErrSchemaVersion is wrapped by the read functions when a document has a
// schema version this build does not read.
var ErrSchemaVersion = errors.New("unsupported schema version")

// Index lists the pipelines of a folder written by WriteDir.
type Index struct {
	SchemaVersion int          `json:"schema_version"`
	ConfigPath    string       `json:"config_path"`
	Count         int          `json:"count"`
	Pipelines     []IndexEntry `json:"pipelines"`
}

// IndexEntry is one pipeline of an Index.
type IndexEntry struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	// File is the pipeline's file name, relative to the index's folder.
	File string `json:"file"`
}

// WriteDir writes one indented <id>.json per pipeline into dir, creating
// it, and then index.json. Each file is written to a temporary file and
// renamed, so a reader never sees a partial document.
func WriteDir(dir string, pipelines []Pipeline) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create pipeline folder: %w", err)
	}
	index := Index{SchemaVersion: SpecVersion, Count: len(pipelines), Pipelines: make([]IndexEntry, 0, len(pipelines))}
	for _, p := range pipelines {
		file := p.ID + ".json"
		if err := writeJSON(filepath.Join(dir, file), p); err != nil {
			return err
		}
		index.ConfigPath = p.ConfigPath
		index.Pipelines = append(index.Pipelines, IndexEntry{ID: p.ID, Label: p.Label, File: file})
	}
	return writeJSON(filepath.Join(dir, IndexFile), index)
}

// WriteSpec writes one run spec as indented JSON, atomically.
func WriteSpec(path string, s Spec) error {
	return writeJSON(path, s)
}

// writeJSON writes v as indented JSON to a temporary file in the target's
// folder and renames it over path.
func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, werr := tmp.Write(append(data, '\n'))
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// ReadPipeline reads a pipeline document written by WriteDir.
func ReadPipeline(path string) (Pipeline, error) {
	var p Pipeline
	if err := readDocument(path, "pipeline", &p, &p.SchemaVersion); err != nil {
		return Pipeline{}, err
	}
	if p.ID == "" {
		return Pipeline{}, fmt.Errorf("read pipeline %s: missing id", path)
	}
	return p, nil
}

// ReadSpec reads a run spec document.
func ReadSpec(path string) (Spec, error) {
	var s Spec
	if err := readDocument(path, "run spec", &s, &s.SchemaVersion); err != nil {
		return Spec{}, err
	}
	if s.RunID == "" || s.Pipeline.ID == "" {
		return Spec{}, fmt.Errorf("read run spec %s: missing run_id or pipeline id", path)
	}
	if s.Pipeline.SchemaVersion != SpecVersion {
		return Spec{}, fmt.Errorf("read run spec %s: %w %d of the embedded pipeline: this build reads version %d",
			path, ErrSchemaVersion, s.Pipeline.SchemaVersion, SpecVersion)
	}
	return s, nil
}

// ReadIndex reads the index.json of a folder written by WriteDir.
func ReadIndex(path string) (Index, error) {
	var x Index
	if err := readDocument(path, "pipeline index", &x, &x.SchemaVersion); err != nil {
		return Index{}, err
	}
	return x, nil
}

// readDocument decodes a JSON file into v and checks its schema version.
func readDocument(path, what string, v any, version *int) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("read %s %s: invalid JSON: %w", what, path, err)
	}
	if *version == 0 {
		return fmt.Errorf("read %s %s: %w: schema_version is missing, so the file is not a MOSAIC %s", what, path, ErrSchemaVersion, what)
	}
	if *version != SpecVersion {
		return fmt.Errorf("read %s %s: %w %d: this build reads version %d; regenerate the file with this build's mosaic generate",
			what, path, ErrSchemaVersion, *version, SpecVersion)
	}
	return nil
}
