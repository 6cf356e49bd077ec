#!/bin/bash
# Session 13: with the AVX-512 kernels fixed, do the C prefetch (pf) or packing op(A) (pa) help
# on this Xeon? Three static builds of 1e0ab9b (head, pf, pa), interleaved, order reversed.
cd "$(dirname "$0")/.."
T0=$(date +%s)
L=$OUT/ab.txt
for b in head pf pa; do xz -dc .devicerun/mlp-bench-$b.xz > /tmp/mlp-bench-$b; chmod +x /tmp/mlp-bench-$b; done
echo "decompressed $(( $(date +%s) - T0 ))s" >> $L
for round in 1 2; do
  if [ $round = 1 ]; then order="head pf pa"; else order="pa pf head"; fi
  for b in $order; do
    echo "=== round $round $b gemm B,D $(( $(date +%s) - T0 ))s" >> $L
    timeout 30 /tmp/mlp-bench-$b gemm --config B,D --repeat 2 --no-openblas 2>/dev/null | grep -E '^(forward|weight|propagation|fp32)' >> $L
    echo "=== round $round $b train B,D 1,16 $(( $(date +%s) - T0 ))s" >> $L
    timeout 40 /tmp/mlp-bench-$b --config B,D --threads 1,16 --repeat 1 2>/dev/null | grep -E '^([BD]  |fp32)' >> $L
  done
done
echo "done $(( $(date +%s) - T0 ))s" >> $L
cat $L
