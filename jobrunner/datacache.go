package jobrunner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/mosaic-go/mosaic/pipeline"
	"github.com/mosaic-go/mosaic/result"
	"github.com/mosaic-go/mosaic/stage"
)

// DataCache stores the prepared data of a data scheme between runs, so the
// pipelines that share a data scheme prepare it once. The cache package
// implements it on disk. Implementations must be safe for concurrent use by
// several processes.
type DataCache interface {
	// Get returns the value stored under key, and false when there is none.
	// An error means the entry could not be read. The caller then prepares
	// the data again and stores it with Put.
	Get(key string) ([]byte, bool, error)
	// Put stores value under key, replacing any previous value.
	Put(key string, value []byte) error
}

// dataCacheVersion is part of every cache key. Bump it when the encoding of
// cachedData or the meaning of the data stages changes, so old entries are
// never read back.
const dataCacheVersion = 1

// dataSeedStream separates the data seed from other hashes of a pipeline.
const dataSeedStream = "mosaic data seed v1"

// cachedData is the content of a cache entry: the output of the last data
// stage and the info each data stage added, in stage order.
type cachedData struct {
	Data  stage.Data
	Added []stage.Info
}

// DataSeed returns the seed the data stages of a run receive as
// stage.Env.Seed. It depends only on the data stages (types, classes and
// parameters), the replica number and the study seed. Replica r of every
// pipeline that shares a data scheme therefore trains and tests on the same
// split, which pairs the comparison of their models. It also lets those runs
// share one cache entry. The model weights and the shuffling still use the
// run seed.
func DataSeed(spec pipeline.Spec) uint64 {
	h := sha256.New()
	h.Write([]byte(dataSeedStream))
	h.Write(dataSchemeJSON(spec.Pipeline.Data))
	h.Write([]byte(strconv.Itoa(spec.Replica) + "/" + strconv.FormatUint(spec.Pipeline.Process.Seed, 10)))
	return binary.BigEndian.Uint64(h.Sum(nil)[:8])
}

// DataKey returns the cache key of a run's prepared data: a SHA-256 in hex
// over everything the data stages read. That is their types, classes and
// parameters, the base folder that relative paths resolve against, the data
// seed, and the size and modification time of every file a string parameter
// names. Editing an input file therefore changes the key.
func DataKey(spec pipeline.Spec) string {
	p := spec.Pipeline
	content := struct {
		Version int               `json:"version"`
		Stages  json.RawMessage   `json:"stages"`
		BaseDir string            `json:"base_dir"`
		Seed    uint64            `json:"seed"`
		Files   map[string]string `json:"files"`
	}{
		Version: dataCacheVersion,
		Stages:  dataSchemeJSON(p.Data),
		BaseDir: p.BaseDir,
		Seed:    DataSeed(spec),
		Files:   inputFiles(p),
	}
	b, err := json.Marshal(content)
	if err != nil {
		// The stages marshalled once already in dataSchemeJSON.
		panic("jobrunner: marshal data cache key: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// dataSchemeJSON returns the canonical JSON of the data stages' types,
// classes and parameters. encoding/json sorts map keys, so equal stages give
// equal bytes.
func dataSchemeJSON(stages []pipeline.Stage) []byte {
	type keyStage struct {
		Type   string       `json:"type"`
		Class  string       `json:"class"`
		Params stage.Params `json:"params"`
	}
	out := make([]keyStage, len(stages))
	for i, s := range stages {
		out[i] = keyStage{Type: s.Type, Class: s.Class, Params: s.Params}
	}
	b, err := json.Marshal(out)
	if err != nil {
		panic("jobrunner: marshal data stages: " + err.Error())
	}
	return b
}

// inputFiles returns "size/modification time" of every regular file that a
// string parameter of a data stage names, by the parameter's value.
func inputFiles(p pipeline.Pipeline) map[string]string {
	files := map[string]string{}
	for _, st := range p.Data {
		for _, v := range st.Params {
			name, ok := v.(string)
			if !ok || name == "" {
				continue
			}
			path := name
			if !filepath.IsAbs(path) {
				path = filepath.Join(p.BaseDir, path)
			}
			info, err := os.Stat(path)
			if err != nil || !info.Mode().IsRegular() {
				continue
			}
			files[name] = strconv.FormatInt(info.Size(), 10) + "/" + strconv.FormatInt(info.ModTime().UnixNano(), 10)
		}
	}
	return files
}

// prepareData returns the prepared data and the merged info of the run,
// from the data cache when Options.DataCache holds them, and from the data
// stages otherwise. A cache that fails is logged and bypassed: it costs time,
// never the run.
func (r *runner) prepareData(ctx context.Context) (*stage.Data, stage.Info, error) {
	cache := r.opts.DataCache
	if cache == nil {
		return r.applyDataStages(ctx)
	}
	key := DataKey(r.spec)

	value, found, err := cache.Get(key)
	if err != nil {
		r.log.Warn("data cache entry unreadable, preparing the data again", "key", key, "error", err)
	}
	if found {
		data, info, err := r.restoreData(value)
		if err == nil {
			r.reportCache(true)
			r.log.Info("data cache hit", "key", key)
			return data, info, nil
		}
		r.log.Warn("data cache entry invalid, preparing the data again", "key", key, "error", err)
	}
	r.reportCache(false)
	r.log.Info("data cache miss", "key", key)

	start := len(r.res.Params)
	data, info, err := r.applyDataStages(ctx)
	if err != nil {
		return nil, nil, err
	}
	value, err = encodeData(data, r.addedInfo(r.res.Params[start:]))
	if err == nil {
		err = cache.Put(key, value)
	}
	if err != nil {
		r.log.Warn("data cache store failed", "key", key, "error", err)
	}
	return data, info, nil
}

// restoreData decodes a cache entry and records the data stages' parameters
// and info in the result, as applying the stages would have.
func (r *runner) restoreData(value []byte) (*stage.Data, stage.Info, error) {
	var cached cachedData
	if err := gob.NewDecoder(bytes.NewReader(value)).Decode(&cached); err != nil {
		return nil, nil, fmt.Errorf("decode cached data: %w", err)
	}
	if len(cached.Added) != len(r.spec.Pipeline.Data) {
		return nil, nil, fmt.Errorf("cached data has %d stages, the pipeline %d", len(cached.Added), len(r.spec.Pipeline.Data))
	}
	if cached.Data.Train == nil || cached.Data.Test == nil {
		return nil, nil, fmt.Errorf("cached data has no training or test set")
	}

	info := stage.Info{}
	for i, st := range r.spec.Pipeline.Data {
		_, params, err := newStage(st, stage.KindData, nil)
		r.recordParams(i, st, params)
		if err != nil {
			return nil, nil, fmt.Errorf("data stage %s: %w", describe(st), err)
		}
		r.mergeInfo(info, cached.Added[i], i, st)
	}
	return &cached.Data, info, nil
}

// addedInfo rebuilds the info each data stage added from the result
// parameters that applyDataStages recorded.
func (r *runner) addedInfo(params []result.Param) []stage.Info {
	added := make([]stage.Info, len(r.spec.Pipeline.Data))
	for i := range added {
		added[i] = stage.Info{}
	}
	for _, p := range params {
		if p.Kind == "info" && p.Stage >= 0 && p.Stage < len(added) {
			added[p.Stage][p.Name] = p.Value
		}
	}
	return added
}

// encodeData encodes the prepared data and the per-stage info as gob.
func encodeData(data *stage.Data, added []stage.Info) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(cachedData{Data: *data, Added: added}); err != nil {
		return nil, fmt.Errorf("encode data for the cache: %w", err)
	}
	return buf.Bytes(), nil
}

// reportCache calls Options.OnDataCache, when set.
func (r *runner) reportCache(hit bool) {
	if r.opts.OnDataCache != nil {
		r.opts.OnDataCache(hit)
	}
}
