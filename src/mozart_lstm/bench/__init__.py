"""The benchmark: each step of the project against the lab notebook's way, side by side (`make bench`).

lab_way.py     the lab's reference implementations (side A)
cases.py       the six cases, each A against the project (B)
timing.py      interleaved rounds, medians, ratios
physics.py     FLOPs per training window, the machine's matmul peak and memory bandwidth
profiling.py   where a cold parse spends its time
report.py      results.json, results.md, the printed table
run.py         run(cfg): all of it, in order
gpu_report.py  results.md of a bench/gpu.sh run
"""
