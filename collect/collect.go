// Package collect merges the result documents that cluster jobs write into
// a study database. It is the only writer of the database of a cluster
// study. Collecting is idempotent: a run already stored with the same
// document is left unchanged, so collect may run any number of times, also
// while jobs are still writing.
package collect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"

	"github.com/mosaic-go/mosaic/result"
	"github.com/mosaic-go/mosaic/store"
)

// DefaultBatchSize is the number of results written per transaction.
const DefaultBatchSize = 500

// Options configure Collect.
type Options struct {
	// Dirs are the folders searched, recursively, for *.json result files.
	Dirs []string
	// DB is the study database, created when missing.
	DB string
	// Workers is the number of files decoded at once; 0 means GOMAXPROCS.
	Workers int
	// BatchSize is the number of results per transaction; 0 means
	// DefaultBatchSize.
	BatchSize int
}

// Rejected is a file that collect left out, with the reason.
type Rejected struct {
	Path   string
	Reason string
}

// Report is what Collect did.
type Report struct {
	// Files is the number of *.json files found; Valid of them decoded.
	Files, Valid int
	// Temporary is the number of .*.tmp files of jobs still writing,
	// skipped.
	Temporary int
	// Rejected are the truncated, malformed or foreign files, left in place
	// and not imported, and the folders that could not be listed.
	Rejected []Rejected
	// MissingDirs are the folders of Options.Dirs that do not exist. Each
	// is also in Rejected, and the other folders are collected.
	MissingDirs []string
	// Inserted, Unchanged and Conflicts count the store's outcomes (see
	// store.Outcome): a conflict is a different result for a run stored as
	// done, which keeps the stored one.
	Inserted, Unchanged, Conflicts int
}

// Collect reads every result file under opts.Dirs, in parallel, and saves
// the valid ones into opts.DB in batched transactions.
func Collect(ctx context.Context, opts Options) (*Report, error) {
	if len(opts.Dirs) == 0 {
		return nil, errors.New("collect: no result folder given")
	}
	db, err := store.Open(ctx, opts.DB)
	if err != nil {
		return nil, fmt.Errorf("collect into %s: %w", opts.DB, err)
	}
	defer db.Close()
	return CollectInto(ctx, db, opts)
}

// CollectInto is Collect on a store the caller opened; opts.DB is ignored.
func CollectInto(ctx context.Context, db *store.Store, opts Options) (*Report, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	report := &Report{}
	paths := make(chan string, 256)
	walkErr := make(chan error, 1)
	// The walk records the folders it cannot list in its own report, because the
	// loop below appends to report.Rejected at the same time.
	listed := &Report{}
	go func() {
		defer close(paths)
		walkErr <- walk(ctx, opts.Dirs, paths, listed)
	}()
	decoded := decodeAll(ctx, paths, opts.Workers)

	batchSize := opts.BatchSize
	if batchSize <= 0 {
		batchSize = DefaultBatchSize
	}
	batch := make([]*result.Result, 0, batchSize)
	var saveErr error
	for d := range decoded {
		if saveErr != nil {
			continue // drain so the workers can end
		}
		if d.err != nil {
			report.Rejected = append(report.Rejected, Rejected{Path: d.path, Reason: d.err.Error()})
			continue
		}
		report.Valid++
		batch = append(batch, d.res)
		if len(batch) == batchSize {
			saveErr = save(ctx, db, batch, report)
			batch = batch[:0]
			if saveErr != nil {
				cancel()
			}
		}
	}
	err := <-walkErr
	report.Files, report.Temporary = listed.Files, listed.Temporary
	report.Rejected = append(report.Rejected, listed.Rejected...)
	report.MissingDirs = listed.MissingDirs
	if err != nil && saveErr == nil {
		return report, err
	}
	if saveErr != nil {
		return report, saveErr
	}
	if len(batch) > 0 {
		if err := save(ctx, db, batch, report); err != nil {
			return report, err
		}
	}
	return report, nil
}

func save(ctx context.Context, db *store.Store, batch []*result.Result, report *Report) error {
	sum, err := db.SaveResults(ctx, batch)
	if err != nil {
		return fmt.Errorf("save %d results (from run %s): %w", len(batch), batch[0].RunID, err)
	}
	report.Inserted += sum.Inserted
	report.Unchanged += sum.Unchanged
	report.Conflicts += sum.Conflicts
	return nil
}

// walk sends the path of every *.json file under dirs, counting the files
// found and the temporary files skipped. A folder that does not exist or
// cannot be read is recorded in report.Rejected and skipped, so walk
// returns an error only when ctx is done.
func walk(ctx context.Context, dirs []string, paths chan<- string, report *Report) error {
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				// WalkDir passes a nil d only when it cannot stat the
				// folder argument itself. ENOTDIR is a path through a file.
				if d == nil && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)) {
					report.MissingDirs = append(report.MissingDirs, dir)
					report.Rejected = append(report.Rejected, Rejected{Path: dir, Reason: "folder not found"})
					return nil
				}
				report.Rejected = append(report.Rejected, Rejected{Path: path, Reason: fmt.Sprintf("cannot list folder: %v", err)})
				return fs.SkipDir
			}
			name := d.Name()
			if d.IsDir() {
				return nil
			}
			if strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".tmp") {
				report.Temporary++
				return nil
			}
			if !strings.HasSuffix(name, ".json") || strings.HasPrefix(name, ".") {
				return nil
			}
			report.Files++
			select {
			case paths <- path:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		if err != nil {
			return fmt.Errorf("list result files under %s: %w", dir, err)
		}
	}
	return nil
}

type decodedFile struct {
	path string
	res  *result.Result
	err  error
}

// decodeAll decodes the files sent on paths with workers goroutines and
// closes the returned channel when all are done.
func decodeAll(ctx context.Context, paths <-chan string, workers int) <-chan decodedFile {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	out := make(chan decodedFile, 256)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for path := range paths {
				res, err := ReadFile(path)
				select {
				case out <- decodedFile{path: path, res: res, err: err}:
				case <-ctx.Done():
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	return out
}

// ReadFile decodes and validates the result document at path.
func ReadFile(path string) (*result.Result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	return Decode(data)
}

// Decode decodes and validates one result document: one JSON object of the
// fields of result.Result and nothing else, of result.SchemaVersion, with a
// run id, a pipeline id, a known status and one curve entry per epoch.
func Decode(data []byte) (*result.Result, error) {
	var probe struct {
		SchemaVersion *int `json:"schema_version"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("invalid JSON (truncated or not a result file): %w", err)
	}
	if probe.SchemaVersion == nil {
		return nil, errors.New("not a result document: schema_version is missing")
	}
	if *probe.SchemaVersion != result.SchemaVersion {
		return nil, fmt.Errorf("result schema version %d, expected %d", *probe.SchemaVersion, result.SchemaVersion)
	}

	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r result.Result
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("not a result document: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("not a result document: data after the JSON object")
	}
	if err := validate(&r); err != nil {
		return nil, err
	}
	return &r, nil
}

func validate(r *result.Result) error {
	switch {
	case r.RunID == "":
		return errors.New("invalid result: run_id is empty")
	case r.PipelineID == "":
		return fmt.Errorf("invalid result of run %s: pipeline_id is empty", r.RunID)
	case len(r.Curves.TrainLoss) != r.Epochs:
		return fmt.Errorf("invalid result of run %s: %d train_loss entries for %d epochs", r.RunID, len(r.Curves.TrainLoss), r.Epochs)
	}
	switch r.Status {
	case result.StatusDone, result.StatusFailed, result.StatusDiverged, result.StatusRunning, result.StatusTimeout:
		return nil
	}
	return fmt.Errorf("invalid result of run %s: unknown status %q", r.RunID, r.Status)
}
