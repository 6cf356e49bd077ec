#!/usr/bin/env bash
# Thread scaling of the training step from 1 to every core, the peers at full width, and the
# single-thread GEMM against MKL, inside one time budget: for a many-core machine that is lent
# for minutes and has no Swift toolchain (this project's 16-vCPU device machine).
#
#   Benchmarks/scaling/run.sh MLP_BENCH OUT_DIR [BUDGET_SECONDS]     (default budget 480)
#
# MLP_BENCH: a static build (`swift build -c release --static-swift-stdlib --product mlp-bench`),
# plain or xz-compressed (`.xz`). Run from anywhere; it works in the repository it lives in.
# Environment: CONFIGS (default "D C B A", run in that order), THREADS (default 1,2,4,8,… up to
# nproc), REPEAT (2), PEER_CONFIGS (default CONFIGS), PEER_REPEAT (2), PEER_PYTHON (a python3
# with torch and jax, default python3; used through Benchmarks/peers/.venv/bin/python, made here
# when missing), GEMM_CONFIGS ("B,D"; empty: no GEMM step).
#
# Order, most important first: ours for each configuration (`mlp-bench --config X --threads
# THREADS --repeat REPEAT --json`: ours-X.json, log in ours-X.txt), then the GEMM at one thread,
# ours (`mlp-bench gemm … --no-openblas`, gemm-ours.txt) and MKL's (`torch.matmul`, gemm-mkl.txt),
# then the peers at the widest thread count (`mlp-bench --peers torch,jax … --windows 3 --nice
# -20 --json`: peers-X.json, peers-X.txt). Each step gets a time limit from what is left of the
# budget (a step that would not fit is skipped and logged); progress.txt logs every step, and the
# last lines printed are the scaling table (summary.txt), so a caller that sees only the tail
# of the output still gets the figures. Exit 0 when every step ran, 1 when one was skipped or
# failed, 2 on bad arguments.
set -uo pipefail
if [ $# -lt 2 ]; then sed -n '6,7p' "$0" >&2; exit 2; fi
bench_arg=$1 out=$2 budget=${3:-480}
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
mkdir -p "$out" || exit 2
out="$(cd "$out" && pwd)"
cd "$root" || exit 2  # mlp-bench --peers finds Benchmarks/peers/run.sh from here
start=$(date +%s)
status=0
left() { echo $(( budget - ($(date +%s) - start) )); }
log() { echo "[$(( $(date +%s) - start ))s] $*" | tee -a "$out/progress.txt" >&2; }

bench=/tmp/mlp-bench-scaling.$$
source "$root/scripts/lib/unpack-build.sh"
unpack_build "$bench_arg" "$bench" && "$bench" --help >/dev/null 2>&1 || { echo "run.sh: $bench_arg does not run here" >&2; exit 2; }
trap 'rm -f "$bench"' EXIT

cores=$(nproc)
if [ -z "${THREADS:-}" ]; then
  THREADS=1; t=2
  while [ $t -le "$cores" ]; do THREADS="$THREADS,$t"; t=$(( t * 2 )); done
  [ $(( t / 2 )) -eq "$cores" ] || THREADS="$THREADS,$cores"
fi
widest=${THREADS##*,}
configs=${CONFIGS:-D C B A}
py=${PEER_PYTHON:-python3}
{ lscpu; echo; echo "nproc $cores"; free -g; uname -a; cat /sys/fs/cgroup/cpu.max 2>/dev/null
  "$py" -c "import torch, jax; print('torch', torch.__version__, 'jax', jax.__version__)" 2>&1; } > "$out/machine.txt" 2>&1
log "machine: $(grep -m1 'Model name' "$out/machine.txt" | sed 's/  */ /g'), $cores CPUs; threads $THREADS; budget ${budget}s"

# A step runs under `timeout` with what is left, less a reserve for the steps after it.
run_step() {  # NAME RESERVE_SECONDS MIN_SECONDS STDOUT_FILE STDERR_FILE COMMAND...
  local name=$1 reserve=$2 min=$3 stdout=$4 stderr=$5; shift 5
  local limit=$(( $(left) - reserve ))
  if [ "$limit" -lt "$min" ]; then log "$name: skipped (${limit}s would be left, needs ${min}s)"; status=1; return 0; fi
  log "$name: up to ${limit}s"
  timeout "$limit" "$@" > "$stdout" 2> "$stderr"
  local rc=$?
  log "$name: exit $rc"
  [ $rc -eq 0 ] || status=1
}

n=$(echo $configs | wc -w)
for c in $configs; do
  # Keep about a third of the budget for the GEMM and the peers.
  n=$(( n - 1 ))
  run_step "ours $c" $(( budget / 3 + n * 15 )) 10 "$out/ours-$c.json" "$out/ours-$c.txt" \
    "$bench" --config "$c" --threads "$THREADS" --repeat "${REPEAT:-2}" --json
done
if [ -n "${GEMM_CONFIGS-B,D}" ]; then
  mkl=/tmp/mkl-gemm.$$.py
  cat > "$mkl" <<'PY'
import time, torch
torch.set_num_threads(1)
for (m, n, k) in [(1024, 1024, 784), (1024, 1024, 1024), (1024, 4096, 4096), (1024, 10, 1024)]:
    a, b = torch.randn(m, k), torch.randn(n, k)
    for _ in range(2): a @ b.T
    times = []
    for _ in range(5):
        t = time.perf_counter(); a @ b.T; times.append(time.perf_counter() - t)
    print(f"mkl P=1 {m}x{n}x{k}: {2 * m * n * k / sorted(times)[2] / 1e9:.0f} GFLOP/s (median of 5)")
PY
  run_step "gemm ours" 60 20 "$out/gemm-ours.txt" "$out/gemm-ours.log" \
    "$bench" gemm --config "${GEMM_CONFIGS:-B,D}" --repeat 3 --no-openblas
  run_step "gemm mkl" 45 15 "$out/gemm-mkl.txt" "$out/gemm-mkl.log" "$py" "$mkl"
  rm -f "$mkl"
fi
if [ ! -x "$root/Benchmarks/peers/.venv/bin/python" ]; then
  mkdir -p "$root/Benchmarks/peers/.venv/bin"
  printf '#!/bin/sh\nexec %s "$@"\n' "$(command -v "$py")" > "$root/Benchmarks/peers/.venv/bin/python"
  chmod +x "$root/Benchmarks/peers/.venv/bin/python"; touch "$root/Benchmarks/peers/.venv/.peers-installed"
fi
peer_configs=${PEER_CONFIGS:-$configs}
n=$(echo $peer_configs | wc -w)
for c in $peer_configs; do
  n=$(( n - 1 ))
  run_step "peers $c at $widest" $(( n * 30 + 5 )) 30 "$out/peers-$c.json" "$out/peers-$c.txt" \
    "$bench" --peers torch,jax --config "$c" --threads "$widest" --repeat "${PEER_REPEAT:-2}" --windows 3 --nice -20 --json
done

python3 - "$out" > "$out/summary.txt" <<'PY'
import glob, json, os, sys
out = sys.argv[1]
rows = {}
for path in sorted(glob.glob(os.path.join(out, "ours-*.json"))):
    try:
        for t in json.load(open(path))["training"]:
            rows.setdefault(t["configuration"], {})[t["threads"]] = t
    except (ValueError, KeyError):
        print(f"{os.path.basename(path)}: no complete result")
for cfg, by in sorted(rows.items()):
    one = by.get(1)
    print(f"{cfg}: threads, samples/s median [min-max], of peak, allocations per step")
    for p, t in sorted(by.items()):
        s = t["samplesPerSecond"]
        speedup = f"  {s['median'] / one['samplesPerSecond']['median']:.1f}x of 1 thread" if one and p > 1 else ""
        print(f"  {p:3d}  {s['median']:12,.0f} [{s['min']:,.0f}-{s['max']:,.0f}]  "
              f"{100 * t['fractionOfPeak']['median']:5.1f}%  {t['allocationsPerStep']}{speedup}")
for path in sorted(glob.glob(os.path.join(out, "peers-*.txt"))):
    lines = [l for l in open(path) if l[:1] in "ABCD" and "×" in l]
    print(f"{os.path.basename(path)}: " + (lines[-1].strip() if lines else "no result"))
PY
cat "$out/summary.txt"
log "done, exit $status"
exit $status
