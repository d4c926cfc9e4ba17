"""The benchmark, beside the product rather than inside it: `python -m bench` (`make bench`) runs each step of the
project against the lab notebook's way, side by side. Run from the repository root; config: conf/bench.yaml.

lab_way.py     the lab's reference implementations (side A)
cases.py       cases 1-6, each A against the project (B)
time_to_accuracy.py  case 7: the lab's objective against experiment=fast's, to the same accuracy
timing.py      interleaved rounds, medians, ratios
physics.py     FLOPs per training window, the machine's matmul peak and memory bandwidth
profiling.py   where a cold parse spends its time
report.py      results.json, results.md, the printed table
run.py         run(cfg): all of it, in order
gpu.sh         the one prepared GPU check (bench/gpu_check.py): precisions, resume, determinism, generation
gpu_probes.py  its precision probe and argmax CPU-against-GPU probe
gpu_check_report.py  its results.md and results.json
timed_tokens.py  the evidence runs for timed tokens (docs/timed_tokens.md)
"""
