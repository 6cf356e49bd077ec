#!/usr/bin/env bash
# Peer benchmarks (PyTorch, JAX) of the mlp-bench configurations; see README.md beside this file.
#
#   Benchmarks/peers/run.sh FRAMEWORK CONFIG THREADS [bench.py options]   # one JSON line on stdout
#       FRAMEWORK: torch | torch-compile | jax     CONFIG: A | B | C | D     THREADS: 1..nproc
#       options: --steps N --warmup N --repeat N --window-seconds S
#   Benchmarks/peers/run.sh --all [bench.py options]                      # table on stdout
#       options: --rounds R --configs A,B,C,D --threads-list 1,2 --frameworks torch,torch-compile,jax
#                --quiet-below SHARE --quiet-wait SECONDS --json (JSON lines on stdout, table on stderr)
#
# Exit status: 0 success, 2 bad arguments, 1 a benchmark failed, 3 the venv is missing (run setup.sh).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="$here/.venv/bin/python"
if [[ ! -x "$python" || ! -f "$here/.venv/.peers-installed" ]]; then
    echo "run.sh: $here/.venv is not set up; run $here/setup.sh first" >&2
    exit 3
fi

usage() { sed -n '2,11p' "${BASH_SOURCE[0]}" >&2; exit 2; }

case "${1:-}" in
    ""|-h|--help) usage ;;
    --all) exec "$python" "$here/bench.py" "$@" ;;
esac
[[ $# -ge 3 ]] || usage
framework="$1" config="$2" threads="$3"
shift 3
exec "$python" "$here/bench.py" --framework "$framework" --config "$config" --threads "$threads" \
    --json "$@"
