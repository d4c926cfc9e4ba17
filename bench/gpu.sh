#!/usr/bin/env bash
# bench/gpu.sh ARCHIVE [OVERRIDE ...]: the one prepared GPU check, about 8 minutes on one modern GPU.
#   ARCHIVE   the corpus, the lab's .tar.gz or a folder of .mid files (required: nothing is downloaded)
#   OVERRIDE  train.py overrides added to every training run, e.g. data.num_parse_workers=8
# Checks, each a PASS or FAIL line in OUT/results.md (every figure there and in OUT/results.json):
#   precision_probe            the dtype the LSTM really runs in under each trainer.precision, against the policy
#   train_<precision>          experiment=lab for GPU_CHECK_BATCHES batches x GPU_CHECK_EPOCHS epochs at 32,
#                              16-mixed and bf16-mixed, audio samples every epoch: loss curves, windows/s, TFLOP/s
#   precisions_agree           the mixed precisions' last test loss within 10% of float32's
#   resume                     one more epoch from the recommended precision's last.ckpt
#   deterministic_top_p        trainer.deterministic=true with a top-p audio sampler, and its cost in windows/s
#   lab_pt_loads_without_gpu   the lab's torch.load of a lab_epoch_*.pt in a process that sees no GPU
#   generate_window/_stateful  generate.py device=cuda in both modes: tokens/s
#   argmax_cpu_against_device  argmax tokens on the CPU against the GPU, cuDNN TF32 on and off
#   ddp_one_device             trainer=ddp trainer.devices=1
# Exits 0 when every check passes, 1 when one fails, 2 when it cannot start.
# Environment: GPU_CHECK_DEVICE=cpu runs every check on the CPU (the test suite does, at tiny sizes);
# GPU_CHECK_OUT (default outputs/gpu_check/<date>_<time>), GPU_CHECK_EPOCHS (2), GPU_CHECK_BATCHES (100),
# GPU_CHECK_VAL_BATCHES (20), GPU_CHECK_SKIP_BATCHES (5), GPU_CHECK_NOTES (200);
# PY picks the interpreter (default .venv/bin/python, else python3).
# On a machine without network (e.g. a lent GPU box) the project's pure-Python needs that its image lacks
# (music21, hydra-core, omegaconf, chardet, jsonpickle, more-itertools, webcolors, ...) travel as wheels
# downloaded beforehand and installed with pip --no-index; this script downloads nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 1 ] || [[ "$1" == *=* ]]; then
    echo "usage: bench/gpu.sh ARCHIVE [OVERRIDE ...]  (ARCHIVE: the lab's .tar.gz or a folder of .mid files)" >&2
    exit 2
fi
ARCHIVE="$(realpath "$1")"
shift
PY="${PY:-.venv/bin/python}"
[ -x "$PY" ] || PY=python3
OUT="${GPU_CHECK_OUT:-outputs/gpu_check/$(date +%Y-%m-%d_%H-%M-%S)}"
exec "$PY" -m bench.gpu_check --out "$OUT" --device "${GPU_CHECK_DEVICE:-cuda}" \
    --epochs "${GPU_CHECK_EPOCHS:-2}" --batches "${GPU_CHECK_BATCHES:-100}" \
    --val-batches "${GPU_CHECK_VAL_BATCHES:-20}" --skip-batches "${GPU_CHECK_SKIP_BATCHES:-5}" \
    --notes "${GPU_CHECK_NOTES:-200}" "$ARCHIVE" "$@"
