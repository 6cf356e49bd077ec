#!/bin/bash
# Session 13, second check: c75e4ff (TileAccumulators) on AVX-512: kernel tests, then B and D
# at 1 and 16 threads against 1e0ab9b, interleaved, order reversed.
cd "$(dirname "$0")/.."
T0=$(date +%s)
L=$OUT/check.txt
(cd .devicerun && tar -xJf kernel-tests.tar.xz && timeout 60 kernel-tests/run.sh) > "$OUT/kernel-tests.txt" 2>&1
echo "kernel-tests rc=$? $(( $(date +%s) - T0 ))s" >> "$OUT/kernel-tests.txt"
tail -5 "$OUT/kernel-tests.txt"
for b in head new; do xz -dc .devicerun/mlp-bench-$b.xz > /tmp/mlp-bench-$b; chmod +x /tmp/mlp-bench-$b; done
for round in 1 2; do
  if [ $round = 1 ]; then order="head new"; else order="new head"; fi
  for b in $order; do
    echo "=== round $round $b train B,D 1,16 $(( $(date +%s) - T0 ))s" >> $L
    timeout 40 /tmp/mlp-bench-$b --config B,D --threads 1,16 --repeat 1 2>/dev/null | grep -E '^([BD]  |fp32)' >> $L
  done
done
echo "done $(( $(date +%s) - T0 ))s" >> $L
cat $L
