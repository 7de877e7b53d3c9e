package jobrunner

import (
	"bufio"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mosaic-go/mosaic/engine"
	"github.com/mosaic-go/mosaic/pipeline"
	"github.com/mosaic-go/mosaic/result"
	"github.com/mosaic-go/mosaic/training"
)

var nan = math.NaN()

// openRunDir creates the run folder and opens run.log in it: appended to
// when resuming, truncated otherwise.
func (r *runner) openRunDir() error {
	dir := r.opts.RunDir
	if dir == "" {
		if r.spec.Pipeline.RunFilesPath == "" {
			return fmt.Errorf("no run folder: set the pipeline's run_files_path or Options.RunDir")
		}
		if err := checkRunID(r.spec.RunID); err != nil {
			return err
		}
		dir = filepath.Join(r.spec.Pipeline.RunFilesPath, r.spec.RunID)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create run folder: %w", err)
	}

	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if r.opts.Resume {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	path := filepath.Join(dir, LogFile)
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return fmt.Errorf("open run log: %w", err)
	}
	r.dir = dir
	r.logFile = f
	r.log = slog.New(slog.NewTextHandler(f, nil))
	r.res.Files["log"] = path
	return nil
}

// closeLog flushes and closes run.log, if it is open.
func (r *runner) closeLog() {
	if r.logFile == nil {
		return
	}
	r.logFile.Sync()
	r.logFile.Close()
	r.logFile = nil
	r.log = slog.New(slog.DiscardHandler)
}

// checkRunID rejects run IDs that cannot be a single file name.
func checkRunID(id string) error {
	if id == "" || id == "." || id == ".." || strings.ContainsAny(id, `/\`) {
		return fmt.Errorf("invalid run ID %q: expected a non-empty file name without path separators", id)
	}
	return nil
}

// loadCheckpoint returns the checkpoint to resume from: nil unless
// Options.Resume is set and checkpoint.bin exists.
func (r *runner) loadCheckpoint() (*training.Checkpoint, error) {
	if !r.opts.Resume {
		return nil, nil
	}
	path := filepath.Join(r.dir, CheckpointFile)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		r.log.Info("no checkpoint to resume from, starting at epoch 1", "path", path)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open checkpoint: %w", err)
	}
	defer f.Close()

	// A checkpoint of another pipeline, or of data files that changed since,
	// would silently bring back stale curves: start over instead.
	if key, err := os.ReadFile(path + keySuffix); err != nil || string(key) != r.checkpointKey() {
		r.log.Warn("checkpoint does not match the run's spec and data files, starting at epoch 1", "path", path)
		f.Close()
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("remove stale checkpoint: %w", err)
		}
		return nil, nil
	}
	cp, err := training.ReadCheckpoint(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("read checkpoint %s: %w", path, err)
	}
	// A checkpoint past this run's epochs comes from `mosaic rerun`, which
	// continued the run for another study database. Resuming from it would
	// store more epochs than the spec sets.
	if epochs := r.spec.Pipeline.Process.Epochs; cp.Epoch > epochs {
		r.log.Warn("checkpoint has more epochs than the run, starting at epoch 1",
			"path", path, "checkpoint_epochs", cp.Epoch, "epochs", epochs)
		return nil, nil
	}
	r.lastCheckpoint = cp
	r.res.Files["checkpoint"] = path
	r.log.Info("resuming from checkpoint", "path", path, "epochs_done", cp.Epoch)
	return cp, nil
}

// keySuffix names the file beside checkpoint.bin that holds the key of the
// run the checkpoint belongs to (see checkpointKey).
const keySuffix = ".key"

// checkpointKey returns CheckpointKey of the run, computed once per run.
func (r *runner) checkpointKey() string {
	if r.ckptKey == "" {
		r.ckptKey = CheckpointKey(r.spec)
	}
	return r.ckptKey
}

// CheckpointKey identifies what a checkpoint of spec's run is trained on:
// the run, its pipeline and its data (the data cache key, which covers the
// data stages, the data seed and the size and modification time of the
// input files). The job runner writes it to checkpoint.bin.key and resumes
// only from a checkpoint whose key file holds the same key.
func CheckpointKey(spec pipeline.Spec) string {
	sum := sha256.Sum256([]byte(spec.RunID + "\n" + spec.Pipeline.ID + "\n" + DataKey(spec)))
	return hex.EncodeToString(sum[:])
}

// CheckpointKeyFile returns the path of the key file of the checkpoint at
// path.
func CheckpointKeyFile(path string) string { return path + keySuffix }

// writeCheckpoint replaces checkpoint.bin with cp, after its key file.
func (r *runner) writeCheckpoint(cp *training.Checkpoint) error {
	path := filepath.Join(r.dir, CheckpointFile)
	if !r.keyWritten {
		key := []byte(r.checkpointKey())
		if err := writeAtomic(path+keySuffix, func(w io.Writer) error { _, err := w.Write(key); return err }); err != nil {
			return fmt.Errorf("write checkpoint key: %w", err)
		}
		r.keyWritten = true
	}
	if err := writeAtomic(path, cp.Write); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	r.res.Files["checkpoint"] = path
	return nil
}

// writeModel writes the network's weights to model.bin.
func (r *runner) writeModel(net *engine.Network) error {
	weights, err := net.MarshalBinary()
	if err != nil {
		return fmt.Errorf("encode model weights: %w", err)
	}
	path := filepath.Join(r.dir, ModelFile)
	err = writeAtomic(path, func(w io.Writer) error {
		_, err := w.Write(weights)
		return err
	})
	if err != nil {
		return fmt.Errorf("write model weights: %w", err)
	}
	r.res.Files["model"] = path
	return nil
}

// writeCurves writes one CSV row per epoch. Accuracy cells are empty when
// the curves have no accuracy (regression).
func writeCurves(path string, c result.Curves) error {
	return writeAtomic(path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write([]string{"epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy", "epoch_seconds"})
		for e := range c.TrainLoss {
			cw.Write([]string{
				strconv.Itoa(e + 1),
				formatCell(c.TrainLoss, e),
				formatCell(c.TestLoss, e),
				formatCell(c.TrainAccuracy, e),
				formatCell(c.TestAccuracy, e),
				formatCell(c.EpochSeconds, e),
			})
		}
		cw.Flush()
		return cw.Error()
	})
}

// formatCell returns xs[i] in its shortest form, or "" when xs is too short.
func formatCell(xs []float64, i int) string {
	if i >= len(xs) {
		return ""
	}
	return strconv.FormatFloat(xs[i], 'g', -1, 64)
}

// writeAtomic writes a file so that readers see either the old content or
// the new one in full: write writes into a temporary file
// ".<name>.tmp" in the same folder, which is synced to disk and then renamed
// over path.
func writeAtomic(path string, write func(io.Writer) error) error {
	// A unique name, so two writers of one file (two jobs of the same run
	// after a double submission) never write into each other's temporary
	// file, and the last rename wins with a whole file. The name starts with
	// a dot and ends in .tmp, which collect skips.
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("create temporary file: %w", err)
	}
	tmp := f.Name()
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("create temporary file: %w", err)
	}

	bw := bufio.NewWriter(f)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", tmp, err)
	}

	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	syncDir(filepath.Dir(path))
	return nil
}

// syncDir flushes a folder's entries, so a rename inside it survives a crash.
// It is best effort: some file systems reject fsync on a folder, and the
// rename has happened either way.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}
