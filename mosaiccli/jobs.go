package mosaiccli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/mosaic-go/mosaic/pipeline"
	"github.com/mosaic-go/mosaic/submit"
	"github.com/mosaic-go/mosaic/submit/layout"
)

// jobsStatus is the cluster part of `mosaic status --jobs`: the state of
// every submitted run, from the database and the scheduler.
type jobsStatus struct {
	Study string `json:"study"`
	// Counts maps a state (done, running, queued, uncollected, failed,
	// missing, ...) to its number of runs.
	Counts map[string]int `json:"counts"`
	// Pipelines has one row per pipeline, in label order.
	Pipelines []pipelineJobs `json:"pipelines"`
}

// pipelineJobs counts the states of one pipeline's runs.
type pipelineJobs struct {
	PipelineID string         `json:"pipeline_id"`
	Label      string         `json:"label"`
	States     map[string]int `json:"states"`
}

// readJobs combines the study folder, the database (when it exists) and
// the scheduler's queue into per-pipeline counts.
func readJobs(ctx context.Context, study, db string) (*jobsStatus, error) {
	states, err := submit.Status(ctx, submit.StatusOptions{Study: study, DB: db})
	if err != nil {
		return nil, err
	}
	paths, err := layout.New(study)
	if err != nil {
		return nil, err
	}
	js := &jobsStatus{Study: study, Counts: map[string]int{}}
	byPipeline := map[string]*pipelineJobs{}
	for runID, state := range states {
		js.Counts[state]++
		spec, err := pipeline.ReadSpec(paths.Spec(runID))
		if err != nil {
			return nil, fmt.Errorf("read the spec of run %s: %w", runID, err)
		}
		p := byPipeline[spec.Pipeline.ID]
		if p == nil {
			p = &pipelineJobs{PipelineID: spec.Pipeline.ID, Label: spec.Pipeline.Label, States: map[string]int{}}
			byPipeline[spec.Pipeline.ID] = p
		}
		p.States[state]++
	}
	for _, p := range byPipeline {
		js.Pipelines = append(js.Pipelines, *p)
	}
	sort.Slice(js.Pipelines, func(i, j int) bool {
		if js.Pipelines[i].Label != js.Pipelines[j].Label {
			return js.Pipelines[i].Label < js.Pipelines[j].Label
		}
		return js.Pipelines[i].PipelineID < js.Pipelines[j].PipelineID
	})
	return js, nil
}

// jobStateOrder is the column order of the per-pipeline table.
var jobStateOrder = []string{"done", "running", "queued", submit.StateUncollected, "failed", "diverged", "timeout", "missing"}

// printJobs prints the state counts and the per-pipeline table, and the
// collect command that imports the uncollected results into db.
func printJobs(w io.Writer, js *jobsStatus, db string) error {
	total := 0
	for _, n := range js.Counts {
		total += n
	}
	parts := make([]string, 0, len(jobStateOrder))
	for _, s := range jobStateOrder {
		if n := js.Counts[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	fmt.Fprintf(w, "%d %s submitted from %s: %s\n", total, plural(total, "run", "runs"), js.Study, strings.Join(parts, ", "))

	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(jobStateOrder, "\t")+"\tlabel")
	for _, p := range js.Pipelines {
		for _, s := range jobStateOrder {
			fmt.Fprintf(tw, "%d\t", p.States[s])
		}
		fmt.Fprintln(tw, p.Label)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if n := js.Counts[submit.StateUncollected]; n > 0 {
		fmt.Fprintf(w, "%d %s not in %s yet. To import %s, run: %s\n", n,
			plural(n, "result file is", "result files are"), db, plural(n, "it", "them"), collectCommandLine(js.Study, db))
	}
	fmt.Fprintln(w)
	return nil
}
