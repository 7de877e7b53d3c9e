// Package pipeline expands a config into pipelines and runs, and defines the
// run spec: the self-describing JSON document that the job runner executes,
// locally or on a cluster node.
package pipeline

import (
	"github.com/mosaic-go/mosaic/stage"
)

// SpecVersion is the schema version of pipeline and run spec documents
// written by this build.
const SpecVersion = 1

// Stage is one configured stage of a pipeline.
type Stage struct {
	// Type is the scheme slot the stage fills, for example "dataset".
	Type string `json:"type"`
	// Section is the config section the stage comes from.
	Section string     `json:"section"`
	Class   string     `json:"class"`
	Kind    stage.Kind `json:"kind"`
	// Key is the section's `key` template filled with its values; empty when
	// the section has none.
	Key string `json:"key,omitempty"`
	// Params holds every parameter of the class, defaults included.
	Params stage.Params `json:"params"`
	// Label is the stage's short label, for example "mlp_funnel(4,8)".
	Label string `json:"label"`
}

// Process holds the training hyperparameters of one pipeline.
type Process struct {
	LR           float64 `json:"lr"`
	Epochs       int     `json:"epochs"`
	LossFunction string  `json:"loss_function"`
	// Seed is the study seed of [PROCESS]; 0 when the config sets none.
	Seed uint64 `json:"seed"`
}

// Pipeline is one point of the expanded grid.
type Pipeline struct {
	SchemaVersion int     `json:"schema_version"`
	ID            string  `json:"id"`
	Label         string  `json:"label"`
	Process       Process `json:"process"`
	// Data and Model are the stages in scheme order.
	Data  []Stage `json:"data"`
	Model []Stage `json:"model"`
	// BaseDir is the absolute folder of the config file, against which
	// relative paths in parameters resolve. It is not part of the ID.
	BaseDir string `json:"base_dir"`
	// RunFilesPath is the absolute folder for per-run files (curves,
	// weights, logs, checkpoints). It is not part of the ID.
	RunFilesPath string `json:"run_files_path"`
	// ConfigPath is the path of the config the pipeline was expanded from,
	// as given to config.Load. It is not part of the ID.
	ConfigPath string `json:"config_path,omitempty"`
}

// Spec is one run: a pipeline and a replica number. It is the unit of work
// for `mosaic run` and for `mosaic-job`.
type Spec struct {
	SchemaVersion int    `json:"schema_version"`
	RunID         string `json:"run_id"`
	Replica       int    `json:"replica"`
	// Seed seeds every random choice of the run; it is derived from the run
	// ID and the study seed.
	Seed     uint64   `json:"seed"`
	Pipeline Pipeline `json:"pipeline"`
}
