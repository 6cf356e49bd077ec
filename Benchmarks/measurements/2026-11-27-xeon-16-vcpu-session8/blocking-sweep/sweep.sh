#!/bin/bash
# Device check (session 8): the GEMM's blocking on the lent machine's CPU.
# 1. mlp-bench gemm --config B,D at one thread for mr in {8, 12} x kc in {256, 384, 512, 1024}
#    (BK_KC, read by the experimental build), one run each, interleaved.
# 2. whole training steps, interleaved rounds: kc 1024 / mr 8 (main) against the best of 1.
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT/r"
T0=$(date +%s)
log() { echo "[$(( $(date +%s) - T0 ))s] $*" | tee -a "$OUT/r/log.txt"; }
for v in mr8 mr12; do xz -dc .devicerun/mlp-bench-$v.xz > /tmp/mlp-bench-$v; chmod +x /tmp/mlp-bench-$v; done
{ lscpu; nproc; grep -m1 'model name' /proc/cpuinfo; } > "$OUT/r/machine.txt" 2>&1
log "$(grep -E 'Model name|Vendor' "$OUT/r/machine.txt" | tr -s ' ' | tr '\n' ' ')"
for combo in mr8:1024 mr12:384 mr8:256 mr12:1024 mr8:384 mr12:256 mr8:512; do
  v=${combo%:*}; kc=${combo#*:}
  log "gemm $v kc $kc"
  BK_KC=$kc timeout 60 /tmp/mlp-bench-$v gemm --config B,D --repeat 3 --no-openblas > "$OUT/r/gemm-$v-$kc.txt" 2>/dev/null
  grep -E "peak|x1024 |x4096 |x784 " "$OUT/r/gemm-$v-$kc.txt" | grep -v "x10 \|10x" | tee -a "$OUT/r/log.txt" >/dev/null
done
best=$(python3 - "$OUT/r" 2>> "$OUT/r/log.txt" <<'PY'
import glob, re, statistics, sys
scores = {}
for f in glob.glob(sys.argv[1] + "/gemm-*.txt"):
    vals = []
    for line in open(f):
        m = re.match(r"\S+\s+(\d+)x(\d+)x(\d+)\s+([\d.]+) \[.*?\]\s+([\d.]+)%", line)
        if m and min(int(m.group(1)), int(m.group(2)), int(m.group(3))) >= 784:
            vals.append(float(m.group(5)))
    if vals:
        scores[f.split("gemm-")[1][:-4]] = statistics.mean(vals)
for k, v in sorted(scores.items(), key=lambda kv: -kv[1]):
    print(f"# {k}: mean of-peak {v:.1f}%", file=sys.stderr)
print(max(scores, key=scores.get))
PY
)
log "best: $best"; v=${best%-*}; kc=${best#*-}
printf '#!/bin/sh\nBK_KC=%s exec /tmp/mlp-bench-%s "$@"\n' "$kc" "$v" > /tmp/new; chmod +x /tmp/new
log "ab main vs $best"
timeout ${AB_S:-200} bash scripts/ab-compare 3 B,D 1,16 /tmp/mlp-bench-mr8 /tmp/new >> "$OUT/r/log.txt" 2>&1
log "done"
tar -C "$OUT" -czf "$OUT/results.tgz" r && rm -rf "$OUT/r"
