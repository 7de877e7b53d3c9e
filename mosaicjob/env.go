package mosaicjob

import "strings"

// Scheduler is the batch system a job runs under, as its environment shows.
type Scheduler string

// Schedulers mosaic-job recognises.
const (
	None   Scheduler = ""
	Slurm  Scheduler = "slurm"
	Condor Scheduler = "condor"
)

// DetectScheduler returns Condor when an HTCondor starter variable
// (_CONDOR_SCRATCH_DIR, _CONDOR_JOB_AD or _CONDOR_SLOT) is set, Slurm when
// SLURM_JOB_ID is set, None otherwise.
func DetectScheduler(getenv func(string) string) Scheduler {
	for _, name := range []string{"_CONDOR_SCRATCH_DIR", "_CONDOR_JOB_AD", "_CONDOR_SLOT"} {
		if getenv(name) != "" {
			return Condor
		}
	}
	if getenv("SLURM_JOB_ID") != "" {
		return Slurm
	}
	return None
}

// AssignedGPUs returns the GPUs the scheduler gave this job, as given:
// indices such as "0" or ids such as "GPU-ddc1c098". It reads, in order,
// _CONDOR_AssignedGPUs, SLURM_JOB_GPUS and CUDA_VISIBLE_DEVICES, and takes
// the first that is set. Values that mean no device ("", "-1",
// "NoDevFiles") give none.
func AssignedGPUs(getenv func(string) string) []string {
	for _, name := range []string{"_CONDOR_AssignedGPUs", "SLURM_JOB_GPUS", "CUDA_VISIBLE_DEVICES"} {
		value := strings.TrimSpace(getenv(name))
		if value == "" {
			continue
		}
		var gpus []string
		for _, g := range strings.Split(value, ",") {
			g = strings.TrimSpace(g)
			if g == "" || g == "-1" || g == "NoDevFiles" {
				continue
			}
			gpus = append(gpus, g)
		}
		return gpus
	}
	return nil
}

// slurmTaskJob returns the job id that `scontrol requeue` takes for this
// array task, "<array job>_<task>", or SLURM_JOB_ID outside an array.
func slurmTaskJob(getenv func(string) string) string {
	if array, task := getenv("SLURM_ARRAY_JOB_ID"), getenv("SLURM_ARRAY_TASK_ID"); array != "" && task != "" {
		return array + "_" + task
	}
	return getenv("SLURM_JOB_ID")
}
