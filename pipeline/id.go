package pipeline

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strconv"

	"github.com/mosaic-go/mosaic/stage"
)

// placeholder matches a {name} placeholder of a key template.
var placeholder = regexp.MustCompile(`\{[^{}]*\}`)

// idContent is the part of a pipeline that its ID hashes: the stages' types,
// classes and the parameters that differ from the class default, and the
// training hyperparameters with the study seed. Section names, labels, keys
// and paths are left out, so renaming a section or moving a study keeps its
// IDs. Leaving default values out keeps IDs, and so stored results, valid
// when a new MOSAIC version gives a class a new parameter whose default
// keeps the old behaviour.
type idContent struct {
	Data    []idStage `json:"data"`
	Model   []idStage `json:"model"`
	Process Process   `json:"process"`
}

type idStage struct {
	Type   string       `json:"type"`
	Class  string       `json:"class"`
	Params stage.Params `json:"params"`
}

// ComputeID returns the pipeline's ID: the first 16 hex digits of the
// SHA-256 of the canonical JSON of its content. encoding/json writes map
// keys sorted and an integral float64 like an int (3.0 as 3), so the JSON
// depends on the values only.
func ComputeID(p Pipeline) string {
	content := idContent{Data: idStages(p.Data), Model: idStages(p.Model), Process: p.Process}
	data, err := json.Marshal(content)
	if err != nil {
		// Params hold only ints, floats, bools and strings; NaN and Inf
		// cannot come from a config.
		panic("pipeline: marshal ID content: " + err.Error())
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}

func idStages(stages []Stage) []idStage {
	out := make([]idStage, len(stages))
	for i, s := range stages {
		out[i] = idStage{Type: s.Type, Class: s.Class, Params: withoutDefaults(s.Class, s.Params)}
	}
	return out
}

// withoutDefaults returns the parameters whose value differs from the
// class's default. Values are compared as a config writes them, so 3 and
// 3.0 (as JSON decoding gives them back) are equal. Parameters of an unknown
// class are all kept.
func withoutDefaults(class string, params stage.Params) stage.Params {
	comp, err := stage.Lookup(class)
	if err != nil {
		return params
	}
	out := make(stage.Params, len(params))
	for name, v := range params {
		p, ok := comp.Param(name)
		if ok && p.Default != nil && stage.ToString(p.Default) == stage.ToString(v) {
			continue
		}
		out[name] = v
	}
	return out
}

// Runs returns the multiplicity replicas of a pipeline, numbered from 0.
// Run i has ID "<pipeline ID>-<i>" and the seed RunSeed returns for it.
func Runs(p Pipeline, multiplicity int) []Spec {
	out := make([]Spec, 0, max(multiplicity, 0))
	for i := range multiplicity {
		id := p.ID + "-" + strconv.Itoa(i)
		out = append(out, Spec{
			SchemaVersion: SpecVersion,
			RunID:         id,
			Replica:       i,
			Seed:          RunSeed(id, p.Process.Seed),
			Pipeline:      p,
		})
	}
	return out
}

// RunSeed derives a run's seed: the first 8 bytes, read big-endian, of the
// SHA-256 of the run ID followed by the study seed in decimal, with the top
// bit cleared. The same run gets the same seed on every machine, and
// changing the study seed changes every run's seed. Clearing the top bit
// keeps seeds below 2^63, so SQLite, CSV exports and pandas show them as
// the same positive integer.
func RunSeed(runID string, studySeed uint64) uint64 {
	sum := sha256.Sum256([]byte(runID + strconv.FormatUint(studySeed, 10)))
	return binary.BigEndian.Uint64(sum[:8]) &^ (1 << 63)
}
