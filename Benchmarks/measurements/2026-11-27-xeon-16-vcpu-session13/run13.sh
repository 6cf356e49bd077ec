#!/bin/bash
# Session 13 device call: AVX-512 kernel tests, then scaling/peers/GEMM with the fixed kernels.
cd "$(dirname "$0")/.."
(cd .devicerun && tar -xJf kernel-tests.tar.xz && timeout 120 kernel-tests/run.sh) > "$OUT/kernel-tests.txt" 2>&1
echo "kernel-tests rc=$?" >> "$OUT/kernel-tests.txt"
tail -4 "$OUT/kernel-tests.txt"
Benchmarks/scaling/run.sh .devicerun/mlp-bench.xz /tmp/s "${BUDGET:-400}"
echo "scaling rc=$?"
tar -C /tmp -czf "$OUT/scaling.tgz" s
cp /tmp/s/summary.txt /tmp/s/progress.txt "$OUT/" 2>/dev/null
