#!/bin/bash
# Device check 2: MKL's single-thread GEMM rate on the training shapes (via torch), ours (mlp-bench gemm),
# and an interleaved A/B of kc=1024 (current) against kc=512 on B and D at 1 and 16 threads.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
T0=$(date +%s)
log() { echo "[$(( $(date +%s) - T0 ))s] $*" | tee -a "$OUT/log.txt"; }
for b in mlp-bench mlp-bench-kc512; do xz -dc .devicerun/$b.xz > /tmp/$b; chmod +x /tmp/$b; done
log "ours gemm"
timeout 80 /tmp/mlp-bench gemm --config ${GC:-B,D} --repeat 3 --no-openblas >> "$OUT/log.txt" 2>&1
log "mkl"
timeout 40 python3 - >> "$OUT/log.txt" 2>&1 <<'PY'
import torch, time
for threads in (1, 16):
    torch.set_num_threads(threads)
    for (m, n, k) in [(1024, 1024, 784), (1024, 1024, 1024), (1024, 4096, 4096), (8192, 1024, 1024)]:
        a = torch.randn(m, k); b = torch.randn(n, k)
        for _ in range(2): c = a @ b.T
        ts = []
        for _ in range(5):
            t = time.perf_counter(); c = a @ b.T; ts.append(time.perf_counter() - t)
        ts.sort()
        print(f"mkl P={threads} {m}x{n}x{k}: {2*m*n*k/ts[2]/1e9:.0f} GFLOP/s (median of 5)")
PY
log "ab kc1024 (old) vs kc512 (new)"
timeout 150 scripts/ab-compare ${AB:-3 B,D 1,16} /tmp/mlp-bench /tmp/mlp-bench-kc512 >> "$OUT/log.txt" 2>&1
log "done"
