#!/usr/bin/env bash
# Runs the whole test suite. Where it can (root with apt, or Slurm already
# installed), it first starts a one-node Slurm cluster on 127.0.0.1 so the
# cluster integration tests run against a real scheduler; elsewhere those
# tests are skipped with a message.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

go version
go mod download

if [ "${MOSAIC_SKIP_SLURM:-0}" != 1 ] && { [ "$(id -u)" = 0 ] || command -v slurmctld >/dev/null; }; then
	# Eight advertised CPUs let arrays run wider than the two cores, and a
	# small MaxArraySize makes the chunking test split a study into arrays.
	# A cluster that already responds was started by someone else (or by an
	# earlier run of this script): use it and leave it running.
	was_running=0
	if command -v sinfo >/dev/null && sinfo >/dev/null 2>&1; then
		was_running=1
	fi
	SLURM_LAB_CPUS=8 SLURM_LAB_MAX_ARRAY_SIZE=5 bash scripts/slurm/start-slurm.sh
	export MOSAIC_SLURM=1
	if [ "$was_running" = 0 ]; then
		trap 'bash scripts/slurm/stop-slurm.sh || true' EXIT
	fi
fi

go vet ./...
go test -count=1 -timeout 45m ./...
