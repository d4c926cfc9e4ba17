#!/usr/bin/env bash
# bench/gpu.sh [ARCHIVE] [OVERRIDE ...]: two epochs of the lab's full run (experiment=lab: hidden 512,
# batch 128, windows of 100) at bf16-mixed on one CUDA GPU. Epoch time and training windows/s land in
# outputs/bench_gpu/<date>_<time>/throughput.json and results.md, and are printed.
#   ARCHIVE   the corpus, a .tar.gz or a folder of .mid files; omitted: the lab's archive is downloaded
#   OVERRIDE  any train.py override, e.g. trainer.max_epochs=3
# Needs only the project and its Python dependencies. PY=... picks the interpreter (default .venv/bin/python).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
[ -x "$PY" ] || PY=python

"$PY" -c '
import sys, torch
if not torch.cuda.is_available():
    sys.exit("bench/gpu.sh needs a CUDA GPU and torch sees none (torch.cuda.is_available() is False). "
             "On a CPU-only machine run `make bench` instead.")
print(f"GPU: {torch.cuda.get_device_name(0)}, torch {torch.__version__}")
'

ARGS=()
if [ $# -gt 0 ] && [[ "$1" != *=* ]]; then
    ARGS+=("data.archive=$1")
    shift
fi
RUN_DIR="outputs/bench_gpu/$(date +%Y-%m-%d_%H-%M-%S)"
"$PY" train.py experiment=lab trainer=gpu trainer.precision=bf16-mixed trainer.max_epochs=2 \
    'callbacks=[default,throughput]' task_name=bench_gpu "hydra.run.dir=$RUN_DIR" "${ARGS[@]}" "$@"
"$PY" -m bench.gpu_report "$RUN_DIR"
