package jobrunner

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mosaic-go/mosaic/pipeline"
	"github.com/mosaic-go/mosaic/stage"
)

// mapCache is an in-memory DataCache.
type mapCache struct {
	mu      sync.Mutex
	entries map[string][]byte
}

func (c *mapCache) Get(key string) ([]byte, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.entries[key]
	return v, ok, nil
}

func (c *mapCache) Put(key string, value []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[key] = value
	return nil
}

func TestDataSeedSharedByDataScheme(t *testing.T) {
	a := exampleSpec(t, "iris.csv", "CrossEntropyLoss", 2)
	b := a
	b.RunID, b.Seed = "other-run", 99
	b.Pipeline.Model = []pipeline.Stage{{Type: "model", Class: "mlp_brick", Kind: stage.KindModel,
		Params: stage.Params{"width": 4, "length": 2}}}
	if DataSeed(a) != DataSeed(b) {
		t.Error("pipelines sharing the data stages and replica got different data seeds")
	}
	if DataKey(a) != DataKey(b) {
		t.Error("pipelines sharing the data stages and replica got different cache keys")
	}

	c := a
	c.Replica = a.Replica + 1
	if DataSeed(a) == DataSeed(c) {
		t.Error("two replicas got the same data seed")
	}
	d := a
	d.Pipeline.Data = slices.Clone(a.Pipeline.Data)
	d.Pipeline.Data[0].Params = stage.Params{"path": "iris.csv", "batch_size": 32}
	if DataKey(a) == DataKey(d) {
		t.Error("a different batch_size kept the cache key")
	}
}

func TestDataKeyFollowsInputFile(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile("../examples/data/iris.csv")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "iris.csv")
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	spec := exampleSpec(t, "iris.csv", "CrossEntropyLoss", 2)
	spec.Pipeline.BaseDir = dir
	before := DataKey(spec)

	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	if DataKey(spec) == before {
		t.Error("editing the input file kept the cache key")
	}
}

func TestRunCachedDataSameResult(t *testing.T) {
	cache := &mapCache{entries: map[string][]byte{}}
	var hits []bool
	run := func() ([]float64, int) {
		spec := exampleSpec(t, "iris.csv", "CrossEntropyLoss", 3)
		res := Run(context.Background(), spec, Options{DataCache: cache, OnDataCache: func(hit bool) { hits = append(hits, hit) }})
		if res.Status != "done" {
			t.Fatalf("run %s: %s", res.Status, res.Error)
		}
		return res.Curves.TrainLoss, len(res.Params)
	}
	fresh, freshParams := run()
	cached, cachedParams := run()
	if !slices.Equal(hits, []bool{false, true}) {
		t.Errorf("cache lookups = %v, want a miss then a hit", hits)
	}
	if !slices.Equal(fresh, cached) {
		t.Errorf("train loss with cached data %v, fresh %v", cached, fresh)
	}
	if freshParams != cachedParams {
		t.Errorf("a cached run recorded %d params, a fresh one %d", cachedParams, freshParams)
	}
}

func TestRunChildInterrupted(t *testing.T) {
	spec := exampleSpec(t, "iris.csv", "CrossEntropyLoss", 1000)
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var events bytes.Buffer
	_, code, err := RunChild(ctx, spec, ChildOptions{OutDir: out, Events: &cancelWriter{w: &events, cancel: cancel}})
	if err != nil {
		t.Fatal(err)
	}
	if code != ExitCheckpointed {
		t.Errorf("exit status = %d, want %d", code, ExitCheckpointed)
	}
	if _, err := os.Stat(filepath.Join(out, spec.RunID+".json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an interrupted run wrote a result: stat error %v", err)
	}
	first, _, _ := bytes.Cut(events.Bytes(), []byte("\n"))
	ev, err := ParseChildEvent(first)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Type != EventEpoch || ev.Epoch != 1 || ev.Total != 1000 || ev.TrainLoss == nil {
		t.Errorf("first event = %+v, want epoch 1 of 1000 with its train loss", ev)
	}
}

func TestRunChildWritesResult(t *testing.T) {
	spec := exampleSpec(t, "iris.csv", "CrossEntropyLoss", 2)
	out := t.TempDir()
	res, code, err := RunChild(context.Background(), spec, ChildOptions{OutDir: out})
	if err != nil || code != ExitDone {
		t.Fatalf("RunChild = %d, %v; want %d", code, err, ExitDone)
	}
	stored, err := ReadResult(filepath.Join(out, spec.RunID+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if stored.Epochs != 2 || stored.ExitCode == nil || *stored.ExitCode != 0 || res.Status != stored.Status {
		t.Errorf("stored result: epochs %d, exit code %v, status %s", stored.Epochs, stored.ExitCode, stored.Status)
	}
}

// cancelWriter cancels a context at its first write.
type cancelWriter struct {
	w      *bytes.Buffer
	cancel context.CancelFunc
}

func (c *cancelWriter) Write(p []byte) (int, error) {
	c.cancel()
	return c.w.Write(p)
}
