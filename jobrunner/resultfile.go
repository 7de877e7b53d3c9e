package jobrunner

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/mosaic-go/mosaic/result"
)

// ErrSchemaVersion is wrapped by ReadResult's error for a result document
// of a schema version this build does not read.
var ErrSchemaVersion = errors.New("unsupported result schema version")

// WriteResult writes r as indented JSON to <dir>/<run_id>.json and returns
// the path. The file appears atomically: the document is written to
// .<run_id>.json.<random>.tmp in dir, synced, then renamed, so a reader polling dir
// never sees a partial document.
func WriteResult(dir string, r *result.Result) (string, error) {
	if r == nil {
		return "", fmt.Errorf("write result: no result")
	}
	if err := checkRunID(r.RunID); err != nil {
		return "", fmt.Errorf("write result: %w", err)
	}
	doc, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode result %s: %w", r.RunID, err)
	}
	doc = append(doc, '\n')

	// The folder may not exist yet: a job's first result creates results/.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("write result %s: %w", r.RunID, err)
	}
	path := filepath.Join(dir, r.RunID+".json")
	err = writeAtomic(path, func(w io.Writer) error {
		_, err := w.Write(doc)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("write result %s: %w", r.RunID, err)
	}
	return path, nil
}

// ReadResult reads a result document written by WriteResult. A document of
// another schema version gives an error wrapping ErrSchemaVersion. Parameter
// values decode as JSON does: numbers become float64.
func ReadResult(path string) (*result.Result, error) {
	doc, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read result: %w", err)
	}

	// Check the version first, so a document of another version is rejected
	// for its version rather than for a field that changed.
	var head struct {
		SchemaVersion *int `json:"schema_version"`
	}
	if err := json.Unmarshal(doc, &head); err != nil {
		return nil, fmt.Errorf("decode result %s: %w", path, err)
	}
	if head.SchemaVersion == nil {
		return nil, fmt.Errorf("result %s has no schema_version: %w", path, ErrSchemaVersion)
	}
	if *head.SchemaVersion != result.SchemaVersion {
		return nil, fmt.Errorf("result %s has schema version %d, but this build reads version %d: %w",
			path, *head.SchemaVersion, result.SchemaVersion, ErrSchemaVersion)
	}

	var r result.Result
	if err := json.Unmarshal(doc, &r); err != nil {
		return nil, fmt.Errorf("decode result %s: %w", path, err)
	}
	return &r, nil
}
