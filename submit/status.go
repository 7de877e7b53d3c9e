package submit

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/mosaic-go/mosaic/result"
	"github.com/mosaic-go/mosaic/submit/layout"
)

// Run states reported by Status besides the result statuses.
const (
	StateQueued  = "queued"
	StateRunning = "running"
	// StateUncollected is a run whose result file is in the study's
	// results folder but not yet in the database: `mosaic collect` imports
	// it.
	StateUncollected = "uncollected"
	StateMissing     = "missing"
)

// StatusOptions configure Status.
type StatusOptions struct {
	// Study is the study folder written by Submit.
	Study string
	// DB is the study database; empty when nothing was collected yet.
	DB string
	// Run runs squeue and condor_q; nil means Exec. A scheduler whose
	// command is missing is left out.
	Run Runner
}

// Status returns the state of every run of the study's run lists. A run
// is done or diverged as the database stores it. Otherwise it is queued or
// running while squeue or condor_q lists its job. Otherwise it is
// uncollected while its result file is not in the database (see
// UncollectedRuns), failed or timeout as stored, or else missing: never
// submitted, or ended without a result file.
func Status(ctx context.Context, opts StatusOptions) (map[string]string, error) {
	p, err := layout.New(opts.Study)
	if err != nil {
		return nil, err
	}
	states, err := listedRuns(p)
	if err != nil {
		return nil, err
	}
	stored, err := storedStatuses(ctx, opts.DB)
	if err != nil {
		return nil, err
	}
	for id, st := range stored {
		if _, listed := states[id]; listed && st != result.StatusRunning {
			states[id] = string(st)
		}
	}
	uncollected, err := UncollectedRuns(p, stored)
	if err != nil {
		return nil, err
	}
	for id := range uncollected {
		if _, listed := states[id]; listed {
			states[id] = StateUncollected
		}
	}

	run := opts.Run
	if run == nil {
		run = Exec
	}
	jobs, err := ReadJobs(p)
	if err != nil {
		return nil, err
	}
	scheduled, err := SchedulerStates(ctx, run, p, jobs)
	if err != nil {
		return nil, err
	}
	// A queued or running job replaces a failed result or the result file
	// of an earlier attempt.
	for id, st := range scheduled {
		if cur := states[id]; cur != string(result.StatusDone) && cur != string(result.StatusDiverged) {
			states[id] = st
		}
	}
	return states, nil
}

// listedRuns returns every run of the study's run lists as missing.
func listedRuns(p layout.Paths) (map[string]string, error) {
	states := map[string]string{}
	last, err := p.NextSubmission()
	if err != nil {
		return nil, err
	}
	for n := 1; n < last; n++ {
		data, err := os.ReadFile(p.List(n))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read run list: %w", err)
		}
		for _, id := range strings.Fields(string(data)) {
			states[id] = StateMissing
		}
	}
	return states, nil
}

// SchedulerStates returns queued or running for the runs of jobs that
// squeue or condor_q still lists. Schedulers whose command is missing are
// skipped.
func SchedulerStates(ctx context.Context, run Runner, p layout.Paths, jobs []Job) (map[string]string, error) {
	states := map[string]string{}
	var slurmIDs []string
	byID := map[string]Job{}
	condor := false
	for _, j := range jobs {
		switch j.Backend {
		case "slurm":
			slurmIDs = append(slurmIDs, j.JobID)
			byID[j.JobID] = j
		case "condor":
			condor = true
		}
	}
	if len(slurmIDs) > 0 {
		out, err := run(ctx, "squeue", "-h", "-r", "-j", strings.Join(slurmIDs, ","), "-o", "%i %T")
		if err != nil && !errors.Is(err, ErrCommandNotFound) && !allJobsGone(err) {
			return nil, fmt.Errorf("read Slurm job states: %w", err)
		}
		if err := parseSqueue(out, byID, states); err != nil {
			return nil, err
		}
	}
	if condor {
		out, err := run(ctx, "condor_q", "-af", "MosaicRun", "JobStatus", "-constraint", "MosaicStudy == "+strconv.Quote(p.Dir))
		if err != nil && !errors.Is(err, ErrCommandNotFound) {
			return nil, fmt.Errorf("read HTCondor job states: %w", err)
		}
		parseCondorQ(out, states)
	}
	return states, nil
}

// allJobsGone reports whether squeue failed only because none of the job
// ids it was given is known any more: Slurm forgets a finished job
// MinJobAge seconds after it ends, and squeue then exits 1 with "Invalid
// job id specified". None of their tasks is queued or running.
func allJobsGone(err error) bool {
	var cmdErr *CommandError
	return errors.As(err, &cmdErr) && strings.Contains(cmdErr.Output, "Invalid job id specified")
}

// parseSqueue reads lines such as "4242_3 RUNNING": task 3 of array 4242
// runs line offset+3 of that array's run list.
func parseSqueue(out []byte, byID map[string]Job, states map[string]string) error {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 2 {
			continue
		}
		jobID, task, ok := strings.Cut(fields[0], "_")
		index, err := strconv.Atoi(task)
		job, known := byID[jobID]
		if !ok || err != nil || !known {
			continue
		}
		id, err := layout.ReadListLine(job.ListFile, job.Offset+index)
		if err != nil {
			return fmt.Errorf("map Slurm task %s to its run: %w", fields[0], err)
		}
		states[id] = StateQueued
		if fields[1] == "RUNNING" || fields[1] == "COMPLETING" {
			states[id] = StateRunning
		}
	}
	return nil
}

// parseCondorQ reads `condor_q -af MosaicRun JobStatus` lines, such as
// "r1 2"; JobStatus 2 is running and the others (idle, held) are queued.
func parseCondorQ(out []byte, states map[string]string) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 2 || fields[0] == "undefined" {
			continue
		}
		states[fields[0]] = StateQueued
		if fields[1] == "2" {
			states[fields[0]] = StateRunning
		}
	}
}
