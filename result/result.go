// Package result defines the result of one run: the JSON document a job
// writes (or posts) and that collect and the local run manager store.
package result

import (
	"time"
)

// SchemaVersion is the version of the result document written by this build.
// Readers reject documents of another version.
const SchemaVersion = 1

// Status of a run.
type Status string

// Run statuses, as stored in the `results` view.
const (
	StatusDone     Status = "done"
	StatusFailed   Status = "failed"
	StatusDiverged Status = "diverged"
	StatusRunning  Status = "running"
	StatusTimeout  Status = "timeout"
)

// Param is one parameter or info value of one stage of a run.
type Param struct {
	// Stage is the index of the stage in the pipeline (data stages first);
	// -1 for the training hyperparameters of [PROCESS].
	Stage int `json:"stage"`
	// StageType is the scheme slot, for example "model"; "process" for -1.
	StageType string `json:"stage_type"`
	Class     string `json:"class"`
	// Kind is "param" for a configured value and "info" for a value a stage
	// added to the info dictionary.
	Kind  string `json:"kind"`
	Name  string `json:"name"`
	Value any    `json:"value"`
}

// Curves are the per-epoch measurements of a run, one entry per epoch done.
type Curves struct {
	// TrainLoss[e] is the mean minibatch loss of epoch e+1.
	TrainLoss []float64 `json:"train_loss"`
	// TestLoss[e] is the loss on the whole test set after epoch e+1.
	TestLoss []float64 `json:"test_loss"`
	// TrainAccuracy and TestAccuracy are fractions in [0, 1]; empty for
	// regression.
	TrainAccuracy []float64 `json:"train_accuracy,omitempty"`
	TestAccuracy  []float64 `json:"test_accuracy,omitempty"`
	// EpochSeconds[e] is the wall time of epoch e+1.
	EpochSeconds []float64 `json:"epoch_seconds,omitempty"`
}

// Indicators summarise a run. A nil pointer is an undefined value (too few
// epochs, an empty side) and is stored as NULL.
type Indicators struct {
	TrainLoss       *float64 `json:"train_loss"`
	TestLoss        *float64 `json:"test_loss"`
	TrainAccuracy   *float64 `json:"train_accuracy"`
	TestAccuracy    *float64 `json:"test_accuracy"`
	Overfitting     *float64 `json:"overfitting"`
	Slope           *float64 `json:"slope"`
	SlopeSigmaPlus  *float64 `json:"slope_sigma_plus"`
	SlopeSigmaMinus *float64 `json:"slope_sigma_minus"`
	Trainability    *float64 `json:"trainability"`
	// DurationS is the training wall time in seconds.
	DurationS *float64 `json:"duration_s"`
	// NbParams is the number of trainable scalars.
	NbParams *int `json:"nb_params"`
}

// Result is everything known about one run once it has ended.
type Result struct {
	SchemaVersion int    `json:"schema_version"`
	RunID         string `json:"run_id"`
	PipelineID    string `json:"pipeline_id"`
	Label         string `json:"label"`
	Replica       int    `json:"replica"`
	Seed          uint64 `json:"seed"`
	Status        Status `json:"status"`
	// Error is the failure message of a failed run, empty otherwise.
	Error string `json:"error,omitempty"`
	// DivergedEpoch is the 1-based epoch whose loss became NaN or Inf.
	DivergedEpoch *int `json:"diverged_epoch,omitempty"`
	// Epochs is the number of epochs done, which is len(Curves.TrainLoss).
	Epochs     int        `json:"epochs"`
	Params     []Param    `json:"params"`
	Curves     Curves     `json:"curves"`
	Indicators Indicators `json:"indicators"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt time.Time  `json:"finished_at"`
	// Host is the machine the run trained on.
	Host string `json:"host,omitempty"`
	// Device is what trained the network: "cpu" for this engine.
	Device string `json:"device,omitempty"`
	// GPUs lists the accelerators the scheduler assigned, as given
	// (indices or ids such as GPU-ddc1c098); empty when none.
	GPUs []string `json:"gpus,omitempty"`
	// ExitCode is the job's exit status when a batch job wrote the result.
	ExitCode *int `json:"exit_code,omitempty"`
	// Files maps a kind of per-run file ("curves", "model", "log",
	// "checkpoint") to its path.
	Files map[string]string `json:"files,omitempty"`
}
