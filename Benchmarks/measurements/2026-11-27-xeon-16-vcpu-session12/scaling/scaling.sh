#!/bin/bash
# Device check: thread scaling 1..16 of mlp-bench, then the peers at 16 threads.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
T0=$(date +%s)
log() { echo "[$(( $(date +%s) - T0 ))s] $*" | tee -a "$OUT/progress.txt"; }
xz -dc .devicerun/mlp-bench.xz > /tmp/mlp-bench 2>/dev/null || python3 -c "import lzma,sys;sys.stdout.buffer.write(lzma.open('.devicerun/mlp-bench.xz').read())" > /tmp/mlp-bench
chmod +x /tmp/mlp-bench
{ lscpu; echo; nproc; free -g; uname -a; cat /sys/fs/cgroup/cpu.max 2>/dev/null; ls /sys/devices/system/node | grep node; grep -m1 -o 'avx512[a-z_0-9]*' /proc/cpuinfo | sort -u | tr '\n' ' '; echo; ldconfig -p | grep -E 'libnuma|libopenblas'; } > "$OUT/machine.txt" 2>&1
log "machine: $(grep 'Model name' "$OUT/machine.txt")"
PY=${PEER_PYTHON:-$(command -v python3)}
mkdir -p Benchmarks/peers/.venv/bin
if [ ! -e Benchmarks/peers/.venv/.peers-installed ]; then
  printf '#!/bin/sh\nexec %s "$@"\n' "$PY" > Benchmarks/peers/.venv/bin/python
  chmod +x Benchmarks/peers/.venv/bin/python; touch Benchmarks/peers/.venv/.peers-installed
fi
"$PY" -c "import torch, jax; print('torch', torch.__version__, 'mkl', torch.backends.mkl.is_available(), 'jax', jax.__version__)" >> "$OUT/machine.txt" 2>&1
for c in ${CONFIGS:-C D B A}; do
  log "ours $c: threads ${THREADS:-1,2,4,8,16}"
  timeout ${OURS_S:-150} /tmp/mlp-bench --config $c --threads ${THREADS:-1,2,4,8,16} --repeat ${REPEAT:-3} --json > "$OUT/ours-$c.json" 2> "$OUT/ours-$c.txt"
  log "ours $c rc=$?"
done
for c in ${PEER_CONFIGS:-${CONFIGS:-C D B A}}; do
  left=$(( ${BUDGET_S:-540} - ($(date +%s) - T0) ))
  if [ $left -lt 40 ]; then log "no time for peers $c"; continue; fi
  log "peers $c at ${PEER_THREADS:-16}, ${left}s left"
  timeout $(( left - 10 )) /tmp/mlp-bench --peers torch,jax --config $c --threads ${PEER_THREADS:-16} --repeat ${PEER_REPEAT:-2} --windows 3 --nice -20 --json > "$OUT/peers-$c.json" 2> "$OUT/peers-$c.txt"
  log "peers $c rc=$?"
done
