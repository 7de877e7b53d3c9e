// Command mosaic-job trains one run of a MOSAIC study on a cluster node and
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
//	0   the run finished, done or diverged; the result says which
//	1   the run failed; the result holds the error
//	2   usage or spec error; no result is written
//	85  a signal (SIGTERM, SIGUSR1, SIGUSR2, SIGINT) stopped the run after
//	    its last checkpoint; no result is written, and the next start resumes
//	86  the run ended and its result file is written, but posting it to
//	    --post-url failed; the result file is in place for `mosaic collect`
package main

import "github.com/mosaic-go/mosaic/mosaicjob"

func main() {
	mosaicjob.Main()
}
