#!/usr/bin/env bash
# Benchmark MOSAIC against PyTorch on the same trainings and print a markdown
# report: the machine, then a table (see docs/benchmarks.md). Usage, from
# anywhere:
#
#   bench/run.sh [--reps N] [--cases a,b,c,d] [--torch-blas DIR]
#
# It builds mosaic and mosaic-job statically (CGO_ENABLED=0), installs
# Debian's python3-torch and GNU time with apt-get when they are missing
# (which needs root), generates the data with a fixed seed and runs each
# case N times (default 5), alternating MOSAIC and PyTorch. --torch-blas
# makes PyTorch load the libblas.so.3 of DIR, for example OpenBLAS's, in
# place of the system's. Scratch files go to $BENCH_WORK, by default a
# temporary folder removed at exit. Progress goes to stderr, the report to
# stdout.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${BENCH_WORK:-}"
if [[ -z "$work" ]]; then
	work="$(mktemp -d -t mosaic-bench.XXXXXX)"
	trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work/bin"

install_missing() {
	local package="$1"
	if [[ $(id -u) -ne 0 ]]; then
		echo "bench: $package is missing and installing it needs root: run apt-get install $package" >&2
		exit 1
	fi
	echo "bench: installing $package with apt-get, because it is missing" >&2
	apt-get install -y "$package" >&2
}
/usr/bin/python3 -c 'import torch' 2>/dev/null || install_missing python3-torch
[[ -x /usr/bin/time ]] || install_missing time

echo "bench: building mosaic and mosaic-job with CGO_ENABLED=0" >&2
(cd "$repo" && CGO_ENABLED=0 go build -o "$work/bin/" ./cmd/mosaic ./cmd/mosaic-job)

# PyTorch's BLAS is the libblas.so.3 that the Debian alternatives system
# selects, unless --torch-blas names another folder.
blas="$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || echo unknown)"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
	if [[ "${args[i]}" == "--torch-blas" && $((i + 1)) -lt ${#args[@]} ]]; then
		blas="$(readlink -f "${args[i + 1]}/libblas.so.3")"
	fi
done

echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "- Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, $(free -g | awk '/^Mem:/ {print $2}') GiB; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- Go $(go version | cut -d' ' -f3), PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)') with $blas"
echo "- Command: bench/run.sh $*"
echo

/usr/bin/python3 "$repo/bench/bench.py" --repo "$repo" --work "$work" \
	--mosaic "$work/bin/mosaic" --mosaic-job "$work/bin/mosaic-job" "$@"
echo
echo "- Load after: $(cut -d' ' -f1-3 /proc/loadavg)"
