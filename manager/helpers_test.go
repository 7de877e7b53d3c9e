package manager

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mosaic-go/mosaic/stage"
	_ "github.com/mosaic-go/mosaic/stage/builtin"
	"github.com/mosaic-go/mosaic/store"
)

// childEnv marks the test binary re-executed as the manager's child.
const childEnv = "MOSAIC_MANAGER_TEST_CHILD"

// TestMain runs ExecChild when the test binary is started as a child by
// Subprocess, so the children know the test-only stages registered below.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := ExecChild(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// testExec returns execution options that start the test binary as child.
func testExec() ExecOptions {
	return ExecOptions{
		ChildCommand: []string{os.Args[0]},
		ChildEnv:     []string{childEnv + "=1"},
		KillGrace:    2 * time.Second,
	}
}

// Test-only data stages, each taking the parameters n (samples) and
// behaviour-specific ones.
func init() {
	register := func(name, doc string, params []stage.Param, apply func(stage.Env, stage.Params) (*stage.Data, stage.Info, error)) {
		stage.Register(&stage.Component{
			Name:   name,
			Kind:   stage.KindData,
			Doc:    doc,
			Params: params,
			New: func(p stage.Params) (any, error) {
				return dataFunc(func(env stage.Env) (*stage.Data, stage.Info, error) { return apply(env, p) }), nil
			},
		})
	}
	nParam := stage.Param{Name: "n", Type: stage.Int, Default: 200, Doc: "training samples"}

	register("test_synthetic", "random two-class data", []stage.Param{nParam},
		func(env stage.Env, p stage.Params) (*stage.Data, stage.Info, error) {
			return synthetic(env, p)
		})
	register("test_panic", "panics in Apply", nil,
		func(stage.Env, stage.Params) (*stage.Data, stage.Info, error) {
			panic("test stage panics")
		})
	register("test_crash", "panics in a goroutine, which kills the process", nil,
		func(stage.Env, stage.Params) (*stage.Data, stage.Info, error) {
			done := make(chan struct{})
			go func() {
				defer close(done)
				panic("test stage crashes the process")
			}()
			<-done
			return nil, nil, errors.New("unreachable")
		})
	register("test_sigkill", "kills its own process with SIGKILL", nil,
		func(stage.Env, stage.Params) (*stage.Data, stage.Info, error) {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			time.Sleep(time.Minute)
			return nil, nil, errors.New("still alive after SIGKILL")
		})
	register("test_sleep", "sleeps an hour, ignoring cancellation", nil,
		func(stage.Env, stage.Params) (*stage.Data, stage.Info, error) {
			time.Sleep(time.Hour)
			return nil, nil, errors.New("woke up")
		})
	register("test_gpu", "records CUDA_VISIBLE_DEVICES and fails if another run holds the same device",
		[]stage.Param{nParam, {Name: "lock_dir", Type: stage.String, Required: true, Doc: "folder of the device locks"}},
		holdDevice)
}

// dataFunc adapts a function to stage.DataStage.
type dataFunc func(env stage.Env) (*stage.Data, stage.Info, error)

func (f dataFunc) Apply(_ context.Context, env stage.Env, _ *stage.Data, _ stage.Info) (*stage.Data, stage.Info, error) {
	return f(env)
}

// synthetic returns n training and n/4 test samples of 16 features, whose
// class is the sign of the sum of the first four features.
func synthetic(env stage.Env, p stage.Params) (*stage.Data, stage.Info, error) {
	n, err := p.Int("n")
	if err != nil {
		return nil, nil, err
	}
	rng := rand.New(rand.NewPCG(env.Seed, 1))
	makeSet := func(count int) *stage.Dataset {
		const features = 16
		d := &stage.Dataset{N: count, Shape: []int{features}, Task: stage.Classification, Classes: 2, TargetDim: 1,
			X: make([]float32, count*features), Y: make([]float32, count)}
		for i := range count {
			var sum float32
			for j := range features {
				v := float32(rng.NormFloat64())
				d.X[i*features+j] = v
				if j < 4 {
					sum += v
				}
			}
			if sum > 0 {
				d.Y[i] = 1
			}
		}
		return d
	}
	return &stage.Data{Train: makeSet(n), Test: makeSet(max(n/4, 1)), BatchSize: 32},
		stage.Info{"samples": n}, nil
}

// holdDevice creates a lock file named after CUDA_VISIBLE_DEVICES, keeps it
// while it prepares the data, and fails when the file already exists, which
// means another run holds the same device.
func holdDevice(env stage.Env, p stage.Params) (*stage.Data, stage.Info, error) {
	dir, err := p.String("lock_dir")
	if err != nil {
		return nil, nil, err
	}
	visible := os.Getenv("CUDA_VISIBLE_DEVICES")
	lock := filepath.Join(dir, "device-"+visible)
	f, err := os.OpenFile(lock, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("device %q is held by another run: %w", visible, err)
	}
	f.Close()
	defer os.Remove(lock)
	// Hold the device long enough for the other slots to start.
	time.Sleep(300 * time.Millisecond)

	data, info, err := synthetic(env, p)
	if err != nil {
		return nil, nil, err
	}
	info["visible_devices"] = visible
	return data, info, nil
}

// writeStudy writes a config with one data section and the mlp_brick
// widths given, and returns its path. monitor is the body of [MONITOR].
func writeStudy(t *testing.T, dir, data, widths, monitor string, epochs int) string {
	t.Helper()
	text := fmt.Sprintf(`[PROCESS]
lr = 1e-2
epochs = %d
loss_function = CrossEntropyLoss
data_scheme = dataset
pipeline_scheme = model
run_files_path = runs
seed = 3

[MONITOR]
%s

[data]
type = dataset
%s

[model]
type = model
class = mlp_brick
width = %s
length = 1
activation = relu
`, epochs, monitor, data, widths)
	path := filepath.Join(dir, "study.ini")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runStudy runs the config into dbPath and returns the summary and error.
func runStudy(t *testing.T, ctx context.Context, configPath, dbPath string, exec ExecOptions, progress Progress) (*Summary, error) {
	t.Helper()
	return Run(ctx, Options{ConfigPath: configPath, DBPath: dbPath, Exec: exec, Progress: progress})
}

// queryRows returns the rows of a query on the database, as text cells.
func queryRows(t *testing.T, dbPath, query string, args ...any) [][]string {
	t.Helper()
	st, err := store.OpenReadOnly(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows, err := st.DB().Query(query, args...)
	if err != nil {
		t.Fatalf("query %q: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		cells := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range cells {
			ptrs[i] = &cells[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, c := range cells {
			if c == nil {
				row[i] = "NULL"
			} else {
				row[i] = strings.TrimSpace(fmt.Sprint(c))
			}
		}
		out = append(out, row)
	}
	return out
}
