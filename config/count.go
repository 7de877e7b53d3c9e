package config

import (
	"errors"
	"fmt"
	"math"
)

// DefaultMaxPipelines is the largest grid CheckCount accepts when the caller
// passes no limit of its own.
const DefaultMaxPipelines = 100_000

// ErrTooManyPipelines is wrapped by CheckCount when a config expands to more
// pipelines than the limit.
var ErrTooManyPipelines = errors.New("too many pipelines")

// Count returns the number of pipelines the config expands to and the number
// of runs (pipelines × multiplicity), without building them. Counts too
// large for an int are math.MaxInt. Count does not detect two sections that
// produce the same pipeline, so the expanded grid can be smaller.
func (c *Config) Count() (pipelines, runs int) {
	pipelines = 1
	for _, slot := range c.Slots() {
		alternatives := 0
		for _, s := range c.Sections {
			if s.Type == slot {
				alternatives = satAdd(alternatives, s.Count())
			}
		}
		pipelines = satMul(pipelines, alternatives)
	}
	pipelines = satMul(pipelines, len(c.Process.LR))
	pipelines = satMul(pipelines, len(c.Process.Epochs))
	pipelines = satMul(pipelines, len(c.Process.LossFunction))
	return pipelines, satMul(pipelines, max(c.Monitor.Multiplicity, 1))
}

// Count returns the number of parameter combinations of the section: the
// product of the number of alternatives of each parameter it sets.
func (s *Section) Count() int {
	n := 1
	for _, p := range s.Params {
		n = satMul(n, len(p.Values))
	}
	return n
}

// Slots returns the scheme slots in expansion order: data_scheme, then
// pipeline_scheme.
func (c *Config) Slots() []string {
	return append(append([]string(nil), c.Process.DataScheme...), c.Process.PipelineScheme...)
}

// CheckCount returns an error wrapping ErrTooManyPipelines when the config
// expands to more than limit pipelines; limit ≤ 0 means DefaultMaxPipelines.
func (c *Config) CheckCount(limit int) error {
	if limit <= 0 {
		limit = DefaultMaxPipelines
	}
	pipelines, runs := c.Count()
	if pipelines <= limit {
		return nil
	}
	return fmt.Errorf("%w: config %s expands to %s pipelines (%s runs), more than the limit of %d: "+
		"narrow the lists and ranges, or raise the limit (mosaic --max-pipelines)",
		ErrTooManyPipelines, c.Path, countText(pipelines), countText(runs), limit)
}

// countText writes a count, showing a saturated one as "more than 9.2e18".
func countText(n int) string {
	if n == math.MaxInt {
		return fmt.Sprintf("more than %.1e", float64(math.MaxInt))
	}
	return fmt.Sprint(n)
}

// satMul multiplies non-negative ints, returning math.MaxInt on overflow.
func satMul(a, b int) int {
	if a == 0 || b == 0 {
		return 0
	}
	if a > math.MaxInt/b {
		return math.MaxInt
	}
	return a * b
}

// satAdd adds non-negative ints, returning math.MaxInt on overflow.
func satAdd(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}
