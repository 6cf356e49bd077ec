#!/bin/bash
# Session 12: thread scaling 1..16 of main (D, C, B, A), the peers at 16 threads on all four,
# then our single-thread GEMM and MKL's (torch.matmul) on B's and D's products.
REAL_OUT=$OUT
export OUT=/tmp/o
mkdir -p $OUT
CONFIGS="D C B A" PEER_CONFIGS="D B C A" REPEAT=2 OURS_S=110 BUDGET_S=330 PEER_REPEAT=2 bash .devicerun/scaling.sh
T0=$(date +%s)
echo "[gemm] start" >> $OUT/progress.txt
timeout 70 /tmp/mlp-bench gemm --config B,D --repeat 3 --no-openblas > $OUT/gemm-ours.txt 2>&1
echo "[gemm] ours rc=$? $(( $(date +%s) - T0 ))s" >> $OUT/progress.txt
timeout 40 python3 - > $OUT/gemm-mkl.txt 2>&1 <<'PY'
import torch, time
torch.set_num_threads(1)
for (m, n, k) in [(1024, 1024, 784), (1024, 1024, 1024), (1024, 4096, 4096), (8192, 1024, 1024), (1024, 10, 1024)]:
    a = torch.randn(m, k); b = torch.randn(n, k)
    for _ in range(2): c = a @ b.T
    ts = []
    for _ in range(5):
        t = time.perf_counter(); c = a @ b.T; ts.append(time.perf_counter() - t)
    ts.sort()
    print(f"mkl P=1 {m}x{n}x{k}: {2*m*n*k/ts[2]/1e9:.0f} GFLOP/s (median of 5)")
PY
echo "[gemm] mkl rc=$? $(( $(date +%s) - T0 ))s" >> $OUT/progress.txt
tar -C /tmp -czf "$REAL_OUT/results.tgz" o
cp $OUT/progress.txt $OUT/machine.txt "$REAL_OUT/" 2>/dev/null
