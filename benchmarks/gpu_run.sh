#!/usr/bin/env bash
# The GPU benchmark run, for a session with a device: from the repo root, after ../shared/device/stage,
#   run with carry [".device"]:  . .device/setup.sh && bash benchmarks/gpu_run.sh [cifar10|sweep|all]
# It writes benchmarks/results/*.json, the PNGs and benchmarks/RESULTS.md; commit them with the device named.
set -euo pipefail
: "${CIFAR10_ROOT:?source .device/setup.sh first (it exports CIFAR10_ROOT)}"
pip install -q --no-deps -e . >/dev/null
what=${1:-all}
python benchmarks/cuda_graph_check.py || echo "cuda_graph_check exit $?"
if [ "$what" = cifar10 ] || [ "$what" = all ]; then
    python -m benchmarks.cifar10 --data "$CIFAR10_ROOT" --device cuda --out benchmarks/results
fi
if [ "$what" = sweep ] || [ "$what" = all ]; then
    python -m benchmarks.sweep --data "$CIFAR10_ROOT" --device cuda --out benchmarks/results
fi
python -m benchmarks.report
mkdir -p "${OUT:-/tmp/out}" && cp -r benchmarks/results benchmarks/RESULTS.md "${OUT:-/tmp/out}/"
