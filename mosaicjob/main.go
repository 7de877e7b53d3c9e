// Package mosaicjob is the mosaic-job command: it trains one run of a MOSAIC study on a cluster node and
// writes its result document. It is built static (CGO_ENABLED=0) so that it
// needs nothing on the node but itself, the run spec and the data files.
//
//	mosaic-job --spec study/pipelines/<run_id>.json --out study/results/ [--run-dir DIR]
//	mosaic-job --list study/lists/runs-1.txt --offset 0 --study study/
//
// The second form is what Slurm job arrays run: the task executes the run on
// line offset+SLURM_ARRAY_TASK_ID (counted from 0) of the run list.
//
// With --post-url URL, the result is also posted to a `mosaic collect
// --listen` receiver, with retries, after the result file is written. The
// bearer token comes from --token-file FILE or the MOSAIC_TOKEN environment
// variable, never from a command-line value.
//
// Exit status:
//
//	0   the run finished, done or diverged, as the result records
//	1   the run failed, and the result contains the error
//	2   usage or spec error; no result is written
//	85  a signal (SIGTERM, SIGUSR1, SIGUSR2, SIGINT) stopped the run after
//	    its last checkpoint; no result is written, and the next start resumes
//	86  the run ended and its result file is written, but posting it to
//	    --post-url failed; the result file is in place for `mosaic collect`
//
// A signal that arrives after the run ended does not stop the delivery:
// mosaic-job keeps posting until the receiver responds, or until
// --post-attempts requests are made or --post-max-time is over.
package mosaicjob

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/mosaic-go/mosaic/jobrunner"
	"github.com/mosaic-go/mosaic/result"
	// The built-in stages register the classes run specs name.
	_ "github.com/mosaic-go/mosaic/stage/builtin"
)

// Exit codes of mosaic-job.
const (
	exitDone         = 0
	exitFailed       = 1
	exitUsage        = 2
	exitCheckpointed = 85
	exitUndelivered  = 86
)

// Main runs mosaic-job with the process's arguments and environment, and
// exits with its status. A custom build that registers its own stages calls
// it from its main package.
func Main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stderr))
}

// run executes mosaic-job with args and returns its exit status.
func run(args []string, getenv func(string) string, stderr io.Writer) int {
	j, err := resolve(args, getenv, stderr)
	if errors.Is(err, errHelp) {
		return exitDone
	}
	if err != nil {
		fmt.Fprintf(stderr, "mosaic-job: %v\n", err)
		return exitUsage
	}

	ctx, caught, stop := signalContext()
	defer stop()

	res := jobrunner.Run(ctx, j.spec, jobrunner.Options{
		RunDir:     j.runDir,
		Checkpoint: true,
		Resume:     true,
		GPUs:       AssignedGPUs(getenv),
		LocalFiles: j.localFiles,
		OnEpoch: func(epoch, total int, trainLoss, testLoss float64) {
			fmt.Fprintf(stderr, "mosaic-job: run %s epoch %d/%d train_loss=%.6g test_loss=%.6g\n",
				j.spec.RunID, epoch, total, trainLoss, testLoss)
		},
	})

	if sig := caught.Load(); sig != nil && res.Status == result.StatusRunning {
		return checkpointed(j, sig.(os.Signal), getenv, stderr)
	}
	return finish(ctx, j, res, stderr)
}

// finish writes the result of a run that ended, posts it when --post-url
// is set, and returns the exit status.
func finish(ctx context.Context, j *job, res *result.Result, stderr io.Writer) int {
	code := exitDone
	switch res.Status {
	case result.StatusDone, result.StatusDiverged:
	default:
		code = exitFailed
	}
	res.ExitCode = &code

	// The file comes first: if delivery fails, the scheduler's output
	// transfer or a shared folder still brings the result home.
	path, writeErr := jobrunner.WriteResult(j.out, res)
	if writeErr != nil {
		fmt.Fprintf(stderr, "mosaic-job: run %s: %v\n", j.spec.RunID, writeErr)
	} else {
		fmt.Fprintf(stderr, "mosaic-job: run %s %s after %s, result %s\n", j.spec.RunID, res.Status, countOf(res.Epochs, "epoch", "epochs"), path)
	}
	if res.Error != "" {
		fmt.Fprintf(stderr, "mosaic-job: run %s error: %s\n", j.spec.RunID, res.Error)
	}

	if j.post != nil {
		// The run is over, so a signal, such as SIGTERM at the Slurm time
		// limit, no longer stops the delivery. --post-max-time bounds it.
		if err := post(context.WithoutCancel(ctx), j, res, stderr); err != nil {
			fmt.Fprintf(stderr, "mosaic-job: run %s: %v\n", j.spec.RunID, err)
			if writeErr != nil {
				return exitFailed
			}
			fmt.Fprintf(stderr, "mosaic-job: run %s: result not delivered; collect %s with `mosaic collect`\n", j.spec.RunID, path)
			return exitUndelivered
		}
	}
	if writeErr != nil && j.post == nil {
		return exitFailed
	}
	return code
}

// post sends the result to the receiver of --post-url.
func post(ctx context.Context, j *job, res *result.Result, stderr io.Writer) error {
	doc, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	receipt, err := j.post.Post(ctx, doc)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "mosaic-job: run %s delivered to %s: %s (HTTP %d) after %s\n",
		j.spec.RunID, j.post.Endpoint(), receipt.Outcome, receipt.StatusCode, countOf(receipt.Attempts, "attempt", "attempts"))
	return nil
}

// checkpointed ends a run stopped by sig. Under Slurm, USR1 is the warning
// before the time limit (sbatch --signal=B:USR1@T), so the task requeues
// itself; the requeued task resumes from the checkpoint in the run folder.
// SIGTERM needs no requeue: Slurm sends it on scancel, and on a requeue or
// preemption, which restart the task themselves. Under HTCondor, exit 85 is
// the checkpoint_exit_code that makes the job restart in place.
func checkpointed(j *job, sig os.Signal, getenv func(string) string, stderr io.Writer) int {
	fmt.Fprintf(stderr, "mosaic-job: run %s stopped by %v; its last epoch checkpoint is in %s\n", j.spec.RunID, sig, j.runDir)
	if j.scheduler == Slurm && sig == syscall.SIGUSR1 {
		if err := requeueSlurm(getenv); err != nil {
			fmt.Fprintf(stderr, "mosaic-job: run %s: %v; submit the study again to resume it\n", j.spec.RunID, err)
		}
	}
	return exitCheckpointed
}

// signalContext returns a context cancelled by the first SIGTERM, SIGUSR1,
// SIGUSR2 or SIGINT, and the signal caught.
func signalContext() (context.Context, *atomic.Value, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	caught := &atomic.Value{}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGINT)
	go func() {
		select {
		case sig := <-ch:
			caught.Store(sig)
			cancel()
		case <-ctx.Done():
		}
	}()
	stop := func() {
		signal.Stop(ch)
		cancel()
	}
	return ctx, caught, stop
}

// countOf returns n followed by one or many, such as "1 epoch" or
// "3 epochs".
func countOf(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
