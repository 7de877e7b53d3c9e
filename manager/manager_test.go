package manager

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mosaic-go/mosaic/jobrunner"
	"github.com/mosaic-go/mosaic/pipeline"
	"github.com/mosaic-go/mosaic/result"
	"github.com/mosaic-go/mosaic/store"
	"github.com/mosaic-go/mosaic/training"
)

// runOne runs a one-run study whose data section is data, in child
// processes, and returns the stored status, error and exit code.
func runOne(t *testing.T, data string, exec ExecOptions) (status, errText, exitCode string) {
	t.Helper()
	dir := t.TempDir()
	cfg := writeStudy(t, dir, data, "4", "nb_processus = 1", 3)
	db := filepath.Join(dir, "study.db")
	sum, err := runStudy(t, context.Background(), cfg, db, exec, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if sum.Runs != 1 {
		t.Fatalf("Run did %d runs, want 1", sum.Runs)
	}
	rows := queryRows(t, db, `SELECT status, coalesce(error, ''), coalesce(exit_code, 'NULL') FROM runs`)
	if len(rows) != 1 {
		t.Fatalf("database holds %d runs, want 1", len(rows))
	}
	return rows[0][0], rows[0][1], rows[0][2]
}

func TestChildPanicIsFailed(t *testing.T) {
	status, errText, code := runOne(t, "class = test_panic", testExec())
	if status != string(result.StatusFailed) {
		t.Errorf("status = %s, want failed", status)
	}
	if !strings.Contains(errText, "panic: test stage panics") {
		t.Errorf("error = %q, want the panic value", errText)
	}
	if code != "1" {
		t.Errorf("exit code = %s, want 1", code)
	}
}

func TestChildCrashIsFailed(t *testing.T) {
	status, errText, code := runOne(t, "class = test_crash", testExec())
	if status != string(result.StatusFailed) {
		t.Errorf("status = %s, want failed", status)
	}
	if !strings.Contains(errText, "exited with status 2") {
		t.Errorf("error = %q, want the exit status 2 of an unrecovered panic", errText)
	}
	if !strings.Contains(errText, "test stage crashes the process") {
		t.Errorf("error = %q, want the tail of the child's log with the panic", errText)
	}
	if code != "2" {
		t.Errorf("exit code = %s, want 2", code)
	}
}

func TestChildSIGKILLIsFailed(t *testing.T) {
	status, errText, code := runOne(t, "class = test_sigkill", testExec())
	if status != string(result.StatusFailed) {
		t.Errorf("status = %s, want failed", status)
	}
	if !strings.Contains(errText, "killed by signal SIGKILL") {
		t.Errorf("error = %q, want it to name SIGKILL", errText)
	}
	if code != "137" {
		t.Errorf("exit code = %s, want 137 (128 + SIGKILL)", code)
	}
}

func TestRunTimeoutKillsChild(t *testing.T) {
	exec := testExec()
	exec.RunTimeout = 300 * time.Millisecond
	exec.KillGrace = 300 * time.Millisecond
	status, errText, _ := runOne(t, "class = test_sleep", exec)
	if status != string(result.StatusTimeout) {
		t.Errorf("status = %s, want timeout", status)
	}
	if !strings.Contains(errText, "timed out after 300ms") {
		t.Errorf("error = %q, want the timeout", errText)
	}
	if !strings.Contains(errText, "SIGKILL") {
		t.Errorf("error = %q, want SIGKILL: the stage ignores SIGTERM", errText)
	}
}

func TestRunTimeoutKeepsCheckpointCurves(t *testing.T) {
	dir := t.TempDir()
	// Far more epochs than the timeout allows, at a few milliseconds each.
	cfg := writeStudy(t, dir, "class = test_synthetic\nn = 400", "8", "nb_processus = 1", 1_000_000)
	db := filepath.Join(dir, "study.db")
	exec := testExec()
	exec.RunTimeout = 3 * time.Second
	if _, err := runStudy(t, context.Background(), cfg, db, exec, nil); err != nil {
		t.Fatal(err)
	}

	rows := queryRows(t, db, `SELECT r.run_id, r.status, r.epochs, count(c.epoch), coalesce(max(c.epoch), 0),
    r.train_loss IS NOT NULL, r.test_loss IS NOT NULL, r.trainability IS NOT NULL
FROM runs r LEFT JOIN curves c ON c.run_id = r.run_id GROUP BY r.run_id`)
	if len(rows) != 1 {
		t.Fatalf("database holds %d runs, want 1", len(rows))
	}
	row := rows[0]
	if row[1] != string(result.StatusTimeout) {
		t.Fatalf("status = %s, want timeout", row[1])
	}
	if row[2] == "0" {
		t.Fatalf("epochs = 0: the checkpoint's epochs were not stored")
	}
	if row[3] != row[2] || row[4] != row[2] {
		t.Errorf("curves rows, last epoch = %s, %s, want %s, the stored epochs", row[3], row[4], row[2])
	}
	if !slices.Equal(row[5:], []string{"1", "1", "1"}) {
		t.Errorf("train_loss, test_loss, trainability set = %v, want all set", row[5:])
	}

	// The stored epochs are those of the checkpoint the child left.
	runDir := filepath.Join(dir, "runs", row[0])
	f, err := os.Open(filepath.Join(runDir, "checkpoint.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cp, err := training.ReadCheckpoint(f)
	if err != nil {
		t.Fatalf("read checkpoint of run %s: %v", row[0], err)
	}
	if got := strconv.Itoa(len(cp.Curves.TrainLoss)); got != row[2] {
		t.Errorf("stored epochs = %s, checkpoint holds %s", row[2], got)
	}
}

func TestCheckpointProgressNeedsKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "checkpoint.bin")
	cp := &training.Checkpoint{Epoch: 3, Curves: result.Curves{TrainLoss: []float64{3, 2, 1}, TestLoss: []float64{4, 3, 2}}}
	var buf bytes.Buffer
	if err := cp.Write(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := pipeline.Spec{RunID: "p-0", Pipeline: pipeline.Pipeline{ID: "p", Process: pipeline.Process{Epochs: 3}}}

	if got, err := readRunCheckpoint(path, spec); got != nil || err != nil {
		t.Errorf("without key file: checkpoint %v, error %v, want neither", got, err)
	}
	if err := os.WriteFile(jobrunner.CheckpointKeyFile(path), []byte("another run"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := readRunCheckpoint(path, spec); got != nil || err != nil {
		t.Errorf("key of another run: checkpoint %v, error %v, want neither", got, err)
	}
	if err := os.WriteFile(jobrunner.CheckpointKeyFile(path), []byte(jobrunner.CheckpointKey(spec)), 0o644); err != nil {
		t.Fatal(err)
	}
	short := spec
	short.Pipeline.Process.Epochs = 2
	short.RunID = spec.RunID
	if got, err := readRunCheckpoint(path, short); got != nil || err != nil {
		t.Errorf("3 epochs for a 2-epoch run: checkpoint %v, error %v, want neither", got, err)
	}
	got, err := readRunCheckpoint(path, spec)
	if err != nil || got == nil || len(got.Curves.TrainLoss) != 3 {
		t.Errorf("matching checkpoint: %v, error %v, want its 3 epochs", got, err)
	}
}

func TestGPUAssignment(t *testing.T) {
	dir := t.TempDir()
	locks := filepath.Join(dir, "locks")
	if err := os.Mkdir(locks, 0o755); err != nil {
		t.Fatal(err)
	}
	data := "class = test_gpu\nlock_dir = " + locks
	monitor := "nb_processus = 4\nmultiplicity = 3\nneed_gpu = True\ngpu_available = cuda:3, cuda:5"
	cfg := writeStudy(t, dir, data, "4, 6", monitor, 2)
	db := filepath.Join(dir, "study.db")

	sum, err := runStudy(t, context.Background(), cfg, db, testExec(), nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if sum.Done != 6 {
		t.Errorf("%d runs done, want 6 (failed %d): a failure means two runs shared a device", sum.Done, sum.Failed)
	}
	rows := queryRows(t, db, `SELECT r.gpus, p.value_text FROM runs r
JOIN params p ON p.run_id = r.run_id AND p.name = 'visible_devices'`)
	if len(rows) != 6 {
		t.Fatalf("%d runs recorded visible_devices, want 6", len(rows))
	}
	for _, row := range rows {
		gpus, visible := row[0], row[1]
		if !slices.Contains([]string{"cuda:3", "cuda:5"}, gpus) {
			t.Errorf("run stored gpus %q, want cuda:3 or cuda:5", gpus)
		}
		if want := strings.TrimPrefix(gpus, "cuda:"); visible != want {
			t.Errorf("run on %s saw CUDA_VISIBLE_DEVICES=%q, want %q", gpus, visible, want)
		}
	}
}

func TestGPUConfigValidation(t *testing.T) {
	tests := map[string]string{
		"need_gpu = True":                            "lists no device",
		"need_gpu = True\ngpu_available = cpu":       "invalid device \"cpu\"",
		"need_gpu = True\ngpu_available = cuda:1, 1": "listed twice",
	}
	for monitor, want := range tests {
		dir := t.TempDir()
		cfg := writeStudy(t, dir, "class = test_synthetic", "4", monitor, 1)
		_, err := runStudy(t, context.Background(), cfg, filepath.Join(dir, "s.db"), testExec(), nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("[MONITOR] %q: error = %v, want it to contain %q", monitor, err, want)
		}
	}
}

func TestGPUPoolRunsPerGPU(t *testing.T) {
	pool, err := newGPUPool([]string{"cuda:0", "cuda:1"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		d, ok := pool.acquire()
		if !ok {
			break
		}
		got = append(got, d)
	}
	if want := []string{"cuda:0", "cuda:1", "cuda:0", "cuda:1"}; !slices.Equal(got, want) {
		t.Errorf("acquired %v, want %v", got, want)
	}
	pool.release("cuda:1")
	if d, ok := pool.acquire(); !ok || d != "cuda:1" {
		t.Errorf("after releasing cuda:1, acquire = %s, %v", d, ok)
	}
	if env := gpuEnv([]string{"cuda:7"}); !slices.Equal(env, []string{"CUDA_VISIBLE_DEVICES=7"}) {
		t.Errorf("gpuEnv = %v", env)
	}
}

// cancelAfter is a Progress that cancels the study once any run reports
// the given epoch.
type cancelAfter struct {
	nopProgress
	epoch  int
	cancel context.CancelFunc
	once   sync.Once
}

func (c *cancelAfter) Epoch(_, _ string, epoch, _ int) {
	if epoch >= c.epoch {
		c.once.Do(c.cancel)
	}
}

func TestInterruptAndResumeExactEpochs(t *testing.T) {
	const epochs = 60
	data := "class = test_synthetic\nn = 3000"
	monitor := "nb_processus = 2\nmultiplicity = 2"

	// An uninterrupted study gives the reference curves.
	refDir := t.TempDir()
	refDB := filepath.Join(refDir, "ref.db")
	if _, err := runStudy(t, context.Background(), writeStudy(t, refDir, data, "32", monitor, epochs), refDB, testExec(), nil); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	cfg := writeStudy(t, dir, data, "32", monitor, epochs)
	db := filepath.Join(dir, "study.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sum, err := runStudy(t, ctx, cfg, db, testExec(), &cancelAfter{epoch: 3, cancel: cancel})
	if err == nil {
		t.Fatal("the cancelled study returned no error")
	}
	if sum.Interrupted == 0 {
		t.Fatalf("no run was interrupted (done %d): the runs finished before the cancellation", sum.Done)
	}
	running := queryRows(t, db, `SELECT run_id, epochs FROM runs WHERE status = 'running'`)
	if len(running) != sum.Interrupted {
		t.Errorf("%d runs stored as running, want the %d interrupted", len(running), sum.Interrupted)
	}

	// The next study resumes them from their checkpoints.
	sum, err = runStudy(t, context.Background(), cfg, db, testExec(), nil)
	if err != nil {
		t.Fatalf("resumed study: %v", err)
	}
	counts := queryRows(t, db, `SELECT r.run_id, count(c.epoch), min(c.epoch), max(c.epoch), r.epochs, r.status
FROM runs r JOIN curves c ON c.run_id = r.run_id GROUP BY r.run_id`)
	if len(counts) != 2 {
		t.Fatalf("%d runs with curves, want 2", len(counts))
	}
	for _, row := range counts {
		want := []string{row[0], "60", "1", "60", "60", "done"}
		if !slices.Equal(row, want) {
			t.Errorf("run, epochs in curves, first, last, epochs, status = %v, want %v", row, want)
		}
	}

	// Resuming gives the curves of the uninterrupted runs, bit for bit.
	query := `SELECT run_id, epoch, train_loss, test_loss FROM curves ORDER BY run_id, epoch`
	got, want := queryRows(t, db, query), queryRows(t, refDB, query)
	if !slices.EqualFunc(got, want, slices.Equal[[]string]) {
		t.Error("the resumed curves differ from those of an uninterrupted study")
	}
}

func TestRerunExtendsCurves(t *testing.T) {
	dir := t.TempDir()
	cfg := writeStudy(t, dir, "class = test_synthetic", "4, 6", "nb_processus = 2", 10)
	db := filepath.Join(dir, "study.db")
	if _, err := runStudy(t, context.Background(), cfg, db, testExec(), nil); err != nil {
		t.Fatal(err)
	}
	before := queryRows(t, db, `SELECT run_id, epoch, train_loss FROM curves ORDER BY run_id, epoch`)
	runs := queryRows(t, db, `SELECT run_id, label FROM results ORDER BY label`)
	target, other := runs[0][0], runs[1][0]

	// The other run loses its checkpoint, so it cannot be continued.
	plan, err := Expand(cfg, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(plan.Config.Process.RunFilesPath, other, "checkpoint.bin")); err != nil {
		t.Fatal(err)
	}

	report, err := Rerun(context.Background(), RerunOptions{DBPath: db, Epochs: 5, Exec: testExec(),
		Selection: store.Selection{IDs: []string{target, other}}})
	if err != nil {
		t.Fatalf("Rerun: %v", err)
	}
	if report.Done != 1 {
		t.Errorf("rerun continued %d runs done, want 1", report.Done)
	}
	if len(report.Skips) != 1 || report.Skips[0].Run.RunID != other || !strings.Contains(report.Skips[0].Reason, "no checkpoint") {
		t.Errorf("skips = %+v, want %s for its missing checkpoint", report.Skips, other)
	}

	rows := queryRows(t, db, `SELECT run_id, epochs, status FROM runs ORDER BY run_id`)
	for _, row := range rows {
		want := "10"
		if row[0] == target {
			want = "15"
		}
		if row[1] != want || row[2] != "done" {
			t.Errorf("run %s has %s epochs, status %s; want %s, done", row[0], row[1], row[2], want)
		}
	}
	after := queryRows(t, db, `SELECT run_id, epoch, train_loss FROM curves WHERE run_id = ? ORDER BY epoch`, target)
	if len(after) != 15 {
		t.Fatalf("continued run has %d curve points, want 15", len(after))
	}
	var kept [][]string
	for _, row := range before {
		if row[0] == target {
			kept = append(kept, row)
		}
	}
	if !slices.EqualFunc(after[:10], kept, slices.Equal[[]string]) {
		t.Error("the first 10 epochs changed: the curves were restarted, not extended")
	}

	// The indicators cover the whole curves: the final test loss is the
	// one of epoch 15.
	last := queryRows(t, db, `SELECT r.test_loss = c.test_loss FROM runs r
JOIN curves c ON c.run_id = r.run_id AND c.epoch = 15 WHERE r.run_id = ?`, target)
	if len(last) != 1 || last[0][0] != "1" {
		t.Errorf("stored test_loss is not the one of epoch 15: %v", last)
	}
	total := queryRows(t, db, `SELECT value_num FROM params WHERE run_id = ? AND stage = -1 AND name = 'epochs'`, target)
	if len(total) != 1 || total[0][0] != "15" {
		t.Errorf("recorded epochs parameter = %v, want 15", total)
	}
}

func TestDataCacheSharedAcrossPipelines(t *testing.T) {
	dir := t.TempDir()
	monitor := "nb_processus = 1\ncache_database_path = cache\ncache_size = 10M"
	cfg := writeStudy(t, dir, "class = test_synthetic", "4, 6, 8", monitor, 2)
	db := filepath.Join(dir, "study.db")
	sum, err := runStudy(t, context.Background(), cfg, db, testExec(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.CacheMisses != 1 || sum.CacheHits != 2 {
		t.Errorf("cache misses, hits = %d, %d; want 1, 2", sum.CacheMisses, sum.CacheHits)
	}
	st, err := store.OpenReadOnly(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	counts, err := st.CacheCounts(context.Background())
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if counts != (store.CacheCounts{Hits: 2, Misses: 1}) {
		t.Errorf("stored cache counts = %+v, want 2 hits, 1 miss", counts)
	}

	// A cached run records the data stage's info like a fresh one.
	rows := queryRows(t, db, `SELECT count(*) FROM params WHERE kind = 'info' AND name = 'samples' AND value_num = 200`)
	if rows[0][0] != "3" {
		t.Errorf("%s runs recorded the info samples = 200, want 3", rows[0][0])
	}
}

func TestDataCacheCorruptEntryIsRebuilt(t *testing.T) {
	dir := t.TempDir()
	monitor := "nb_processus = 1\ncache_database_path = cache\ncache_size = 10M"
	cfg := writeStudy(t, dir, "class = test_synthetic", "4", monitor, 2)
	if _, err := runStudy(t, context.Background(), cfg, filepath.Join(dir, "a.db"), testExec(), nil); err != nil {
		t.Fatal(err)
	}
	entries, _ := filepath.Glob(filepath.Join(dir, "cache", "*.entry"))
	if len(entries) != 1 {
		t.Fatalf("%d cache entries, want 1", len(entries))
	}
	raw, err := os.ReadFile(entries[0])
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 0xff
	if err := os.WriteFile(entries[0], raw, 0o644); err != nil {
		t.Fatal(err)
	}

	// A second study reads the corrupt entry, prepares the data again and
	// rewrites the entry; a third one hits it.
	sum, err := runStudy(t, context.Background(), cfg, filepath.Join(dir, "b.db"), testExec(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Done != 1 || sum.CacheMisses != 1 {
		t.Errorf("study over a corrupt entry: done %d, misses %d; want 1, 1", sum.Done, sum.CacheMisses)
	}
	sum, err = runStudy(t, context.Background(), cfg, filepath.Join(dir, "c.db"), testExec(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.CacheHits != 1 {
		t.Errorf("study after the rebuild: hits %d, want 1", sum.CacheHits)
	}
	same := queryRows(t, filepath.Join(dir, "b.db"), `SELECT test_loss FROM runs`)
	again := queryRows(t, filepath.Join(dir, "c.db"), `SELECT test_loss FROM runs`)
	if !slices.EqualFunc(same, again, slices.Equal[[]string]) {
		t.Errorf("test loss from rebuilt data %v differs from cached data %v", same, again)
	}
}
