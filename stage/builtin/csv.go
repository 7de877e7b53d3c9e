// Package builtin registers MOSAIC's built-in stages: the `csv` and
// `normalize` data stages and the model stages. Import it for its side
// effects, as with a database/sql driver.
package builtin

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/mosaic-go/mosaic/stage"
)

// maxInferredClasses is the largest number of distinct integer labels for
// which the csv stage infers classification when no task is set.
const maxInferredClasses = 20

func init() {
	stage.Register(&stage.Component{
		Name: "csv",
		Kind: stage.KindData,
		Doc:  "reads a table with a header row and splits it into training and test sets",
		Params: []stage.Param{
			{Name: "path", Type: stage.String, Required: true,
				Doc: "CSV file with a header row; a relative path resolves against the config's folder"},
			{Name: "target", Type: stage.String,
				Doc: "target column: header name or 0-based index, negative from the end; default the last column"},
			{Name: "task", Type: stage.String, Choices: []string{string(stage.Classification), string(stage.Regression)},
				Doc: fmt.Sprintf("default inferred: integer labels 0..K-1 with 2 ≤ K ≤ %d or text labels mean classification", maxInferredClasses)},
			{Name: "train_prop", Type: stage.Float, Default: 0.8,
				Doc: "fraction of the rows in the training set, in (0, 1); classification splits each class in this proportion"},
			{Name: "batch_size", Type: stage.Int, Default: 32, Doc: "minibatch size for training, at least 1"},
			{Name: "seed", Type: stage.Int, Doc: "seed of the shuffled split; default derived from the data seed, shared by the pipelines of one data scheme and replica"},
		},
		Label: func(p stage.Params) string {
			path, _ := p.String("path")
			return "csv(" + datasetName(path) + ")"
		},
		LabelParams: []string{"path"},
		New:         func(p stage.Params) (any, error) { return NewCSV(p) },
	})
}

// CSV is the `csv` data stage. It reads a table whose first row is a header,
// takes one column as the target and the others as features, and splits the
// rows into a training set and a test set. A classification split is
// stratified: each class is shuffled and split on its own, so both sets keep
// the class proportions of the file up to rounding.
type CSV struct {
	// Path is the file to read; a relative path resolves against Env.BaseDir.
	Path string
	// Target selects the target column by header name or by 0-based index,
	// negative indices counting from the end; empty selects the last column.
	Target string
	// Task is classification or regression; empty infers it from the target.
	Task stage.Task
	// TrainProp is the fraction of rows in the training set, in (0, 1).
	TrainProp float64
	// BatchSize is the minibatch size training will use, at least 1.
	BatchSize int
	// Seed seeds the split; nil derives it from Env.Seed.
	Seed *uint64
}

var _ stage.DataStage = (*CSV)(nil)

// NewCSV builds a csv stage from its parameters, applying the defaults of
// the parameters that are not set.
func NewCSV(p stage.Params) (*CSV, error) {
	c := &CSV{TrainProp: 0.8, BatchSize: 32}
	path, err := p.String("path")
	if err != nil || path == "" {
		return nil, fmt.Errorf("csv: parameter path is required: set it to a CSV file")
	}
	c.Path = path
	if v, ok := optionalParam(p, "target"); ok {
		c.Target = stage.ToString(v)
	}
	if v, ok := optionalParam(p, "task"); ok {
		c.Task = stage.Task(stage.ToString(v))
		if c.Task != stage.Classification && c.Task != stage.Regression {
			return nil, fmt.Errorf("csv: invalid task %q: expected classification or regression", c.Task)
		}
	}
	if v, ok := optionalParam(p, "train_prop"); ok {
		if c.TrainProp, err = stage.ToFloat(v); err != nil {
			return nil, fmt.Errorf("csv: parameter train_prop: %w", err)
		}
		if !(c.TrainProp > 0 && c.TrainProp < 1) {
			return nil, fmt.Errorf("csv: invalid train_prop %v: expected a fraction strictly between 0 and 1", c.TrainProp)
		}
	}
	if v, ok := optionalParam(p, "batch_size"); ok {
		if c.BatchSize, err = stage.ToInt(v); err != nil {
			return nil, fmt.Errorf("csv: parameter batch_size: %w", err)
		}
		if c.BatchSize < 1 {
			return nil, fmt.Errorf("csv: invalid batch_size %d: expected an integer of at least 1", c.BatchSize)
		}
	}
	if v, ok := optionalParam(p, "seed"); ok {
		s, err := stage.ToInt(v)
		if err != nil {
			return nil, fmt.Errorf("csv: parameter seed: %w", err)
		}
		seed := uint64(s)
		c.Seed = &seed
	}
	return c, nil
}

// Apply reads the file and returns the two sets. It must be the first data
// stage, so in must be nil.
func (c *CSV) Apply(ctx context.Context, env stage.Env, in *stage.Data, _ stage.Info) (*stage.Data, stage.Info, error) {
	if in != nil {
		return nil, nil, fmt.Errorf("csv %s: the csv stage must be the first data stage, but it received data from an earlier stage", c.Path)
	}
	path := c.Path
	if !filepath.IsAbs(path) {
		path = filepath.Join(env.BaseDir, path)
	}
	tbl, err := readTable(ctx, path, c.Target)
	if err != nil {
		return nil, nil, err
	}
	lab, err := encodeTargets(tbl, c.Task)
	if err != nil {
		return nil, nil, err
	}

	seed := deriveSeed(env.Seed, "csv")
	if c.Seed != nil {
		seed = *c.Seed
	}
	trainIdx, testIdx := splitRows(lab, tbl.rows, c.TrainProp, newRand(seed))
	if len(trainIdx) == 0 || len(testIdx) == 0 {
		return nil, nil, fmt.Errorf("%s: %d rows are too few to split with train_prop %v into two non-empty sets", path, tbl.rows, c.TrainProp)
	}

	width := len(tbl.header) - 1
	build := func(idx []int) *stage.Dataset {
		return &stage.Dataset{
			X:         gather(tbl.features, width, idx),
			Y:         gather(lab.y, 1, idx),
			N:         len(idx),
			Shape:     []int{width},
			Task:      lab.task,
			Classes:   lab.classes,
			TargetDim: 1,
		}
	}
	data := &stage.Data{Train: build(trainIdx), Test: build(testIdx), BatchSize: c.BatchSize}
	return data, csvInfo(tbl, lab, path, len(trainIdx), len(testIdx)), nil
}

// csvInfo returns the info the csv stage adds.
func csvInfo(tbl *table, lab *labels, path string, trainSize, testSize int) stage.Info {
	width := len(tbl.header) - 1
	info := stage.Info{
		"input_shape":   []int{width},
		"nb_features":   width,
		"task":          string(lab.task),
		"target_dim":    1,
		"target_column": tbl.header[tbl.target],
		"train_size":    trainSize,
		"test_size":     testSize,
		"data_size":     tbl.rows,
		"dataset":       datasetName(path),
	}
	if lab.task == stage.Classification {
		info["nb_classes"] = lab.classes
	}
	if lab.names != nil {
		// Info values are scalars, so the class names travel as a JSON array
		// whose position i names class i.
		text, _ := json.Marshal(lab.names)
		info["class_names"] = string(text)
	}
	return info
}

// datasetName returns the base name of path without its extension.
func datasetName(path string) string {
	base := filepath.Base(path)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// labels is the encoded target column.
type labels struct {
	y       []float32
	task    stage.Task
	classes int
	// names maps class indices to text labels; nil for numeric labels.
	names []string
}

// encodeTargets turns the raw target cells into float32 targets, inferring
// the task when task is empty.
func encodeTargets(tbl *table, task stage.Task) (*labels, error) {
	values := make([]float64, tbl.rows)
	firstText := -1
	for i, cell := range tbl.targets {
		v, err := strconv.ParseFloat(cell, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			firstText = i
			break
		}
		values[i] = v
	}

	if firstText >= 0 {
		if task == stage.Regression {
			return nil, fmt.Errorf("%s: target %q is not a finite number, but task is regression", tbl.cellPos(firstText), tbl.targets[firstText])
		}
		return textLabels(tbl)
	}
	if task == "" {
		task = stage.Regression
		if looksLikeClasses(values) {
			task = stage.Classification
		}
	}
	if task == stage.Regression {
		y := make([]float32, len(values))
		for i, v := range values {
			y[i] = float32(v)
		}
		return &labels{y: y, task: stage.Regression}, nil
	}
	return integerLabels(tbl, values)
}

// looksLikeClasses reports whether values are the integers 0..K-1, each
// present, with 2 ≤ K ≤ maxInferredClasses, or all zero.
func looksLikeClasses(values []float64) bool {
	seen := map[float64]bool{}
	for _, v := range values {
		if v != math.Trunc(v) || v < 0 || v >= maxInferredClasses {
			return false
		}
		seen[v] = true
	}
	for k := range len(seen) {
		if !seen[float64(k)] {
			return false
		}
	}
	// A single class 0 is inferred as classification so that the user gets
	// the single-class error rather than a silent constant regression.
	return true
}

// integerLabels checks that numeric class labels are the integers 0..K-1.
func integerLabels(tbl *table, values []float64) (*labels, error) {
	maxLabel := 0
	for i, v := range values {
		if v != math.Trunc(v) || v < 0 || v > math.MaxInt32 {
			return nil, fmt.Errorf("%s: class label %q is invalid: expected an integer from 0 to K-1, or text", tbl.cellPos(i), tbl.targets[i])
		}
		maxLabel = max(maxLabel, int(v))
	}
	counts := make([]int, maxLabel+1)
	for _, v := range values {
		counts[int(v)]++
	}
	for k, n := range counts {
		if n == 0 {
			return nil, fmt.Errorf("%s: class labels must be the integers 0 to K-1, but column %q has labels up to %d and no row of class %d", tbl.path, tbl.header[tbl.target], maxLabel, k)
		}
	}
	if len(counts) < 2 {
		return nil, fmt.Errorf("%s: column %q has a single class, but classification needs at least 2", tbl.path, tbl.header[tbl.target])
	}
	y := make([]float32, len(values))
	for i, v := range values {
		y[i] = float32(v)
	}
	return &labels{y: y, task: stage.Classification, classes: len(counts)}, nil
}

// textLabels maps text labels, sorted, to the class indices 0..K-1.
func textLabels(tbl *table) (*labels, error) {
	index := map[string]int{}
	for _, cell := range tbl.targets {
		index[cell] = 0
	}
	names := make([]string, 0, len(index))
	for name := range index {
		names = append(names, name)
	}
	sort.Strings(names)
	if len(names) < 2 {
		return nil, fmt.Errorf("%s: column %q has a single class (%q), but classification needs at least 2", tbl.path, tbl.header[tbl.target], names[0])
	}
	for k, name := range names {
		index[name] = k
	}
	y := make([]float32, tbl.rows)
	for i, cell := range tbl.targets {
		y[i] = float32(index[cell])
	}
	return &labels{y: y, task: stage.Classification, classes: len(names), names: names}, nil
}
