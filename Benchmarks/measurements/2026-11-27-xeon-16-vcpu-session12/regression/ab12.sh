#!/bin/bash
# Session 12, second check: is the AVX-512 slowdown on this Xeon the code (0a0a0bc vs HEAD) or the
# machine, and does packing op(A) (packsStoredA on AVX-512) help? Interleaved, order rotated.
cd "$(dirname "$0")/.."
T0=$(date +%s)
L=$OUT/ab.txt
for b in old head packA; do xz -dc .devicerun/mlp-bench-$b.xz > /tmp/mlp-bench-$b; chmod +x /tmp/mlp-bench-$b; done
echo "decompressed $(( $(date +%s) - T0 ))s" >> $L
for round in 1 2; do
  if [ $round = 1 ]; then order="old head packA"; else order="packA head old"; fi
  for b in $order; do
    echo "=== round $round $b gemm B $(( $(date +%s) - T0 ))s" >> $L
    timeout 25 /tmp/mlp-bench-$b gemm --config B --repeat 2 --no-openblas 2>/dev/null | grep -E '^(forward|weight|propagation|fp32)' >> $L
    echo "=== round $round $b train B 1,16 $(( $(date +%s) - T0 ))s" >> $L
    timeout 25 /tmp/mlp-bench-$b --config B --threads 1,16 --repeat 1 2>/dev/null | grep -E '^(B  |fp32)' >> $L
  done
done
echo "done $(( $(date +%s) - T0 ))s" >> $L
