#!/usr/bin/env bash
# Creates Benchmarks/peers/.venv with pinned PyTorch and JAX (CPU) for the peer benchmarks.
#
#   Benchmarks/peers/setup.sh            # install (skipped when already installed)
#   Benchmarks/peers/setup.sh --force    # recreate the venv from scratch
#
# torch: the CPU-only wheel torch==2.13.0+cpu (~190 MB wheel, no CUDA libraries) is used when pip can
# find it in a local wheel directory (pip's find-links, /opt/wheels on the project's machines, or
# TORCH_WHEEL=/path/to/wheel). PyPI itself only has the CUDA build for Linux, whose libtorch.so links
# against cuBLAS/cuDNN/NCCL/... so `pip install --no-deps torch` does NOT import; the fallback installs
# torch==2.13.0 with its CUDA dependency wheels (~2.7 GB download, ~4.7 GB venv). Set
# PEERS_NO_CUDA_TORCH=1 to refuse that fallback.
# Other pins: requirements.txt beside this file. Nothing here runs in the project's test suite.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
python="${PYTHON:-python3}"
torch_version="2.13.0"
stamp="$venv/.peers-installed"

force=0
for arg in "$@"; do
    case "$arg" in
        --force) force=1 ;;
        -h|--help) sed -n '2,14p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "setup.sh: unknown argument '$arg' (expected --force or --help)" >&2; exit 2 ;;
    esac
done

want_stamp="torch=$torch_version $(sha256sum "$here/requirements.txt" | cut -c1-16)"

verify() {
    "$venv/bin/python" - <<'EOF'
import torch, jax, jax.numpy as jnp
a = torch.randn(256, 256)
assert torch.allclose(a @ torch.eye(256), a), "torch CPU matmul is wrong"
x = jnp.ones((128, 128), dtype=jnp.float32)
assert float(jax.jit(lambda m: (m @ m).sum())(x)) == 128.0 ** 3, "jax CPU matmul is wrong"
print(f"torch {torch.__version__} (cuda built: {torch.version.cuda}), jax {jax.__version__}, "
      f"jax devices {jax.devices()}: CPU matmuls OK")
EOF
}

if [[ $force -eq 0 && -f "$stamp" && "$(cat "$stamp")" == "$want_stamp" ]] && verify >/dev/null 2>&1; then
    echo "setup.sh: $venv already installed ($want_stamp)"
    verify
    exit 0
fi

start=$(date +%s)
if [[ $force -eq 1 || ! -x "$venv/bin/python" ]]; then
    rm -rf "$venv"
    "$python" -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 is needed by jax 0.10"' 
    "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check)
rm -f "$stamp"

"${pip[@]}" install -r "$here/requirements.txt"

if [[ -n "${TORCH_WHEEL:-}" ]]; then
    echo "setup.sh: installing torch from TORCH_WHEEL=$TORCH_WHEEL"
    "${pip[@]}" install --no-deps "$TORCH_WHEEL"
elif "${pip[@]}" install --no-deps "torch==${torch_version}+cpu"; then
    echo "setup.sh: installed the CPU-only torch ${torch_version}+cpu from a local wheel directory"
elif [[ "${PEERS_NO_CUDA_TORCH:-0}" == "1" ]]; then
    echo "setup.sh: torch==${torch_version}+cpu is not in any wheel directory pip knows and" \
         "PEERS_NO_CUDA_TORCH=1 refuses the CUDA build; pass TORCH_WHEEL=/path/to/torch-*.whl" >&2
    exit 1
else
    echo "setup.sh: no CPU-only torch wheel found; installing PyPI torch==${torch_version}" \
         "with its CUDA dependency wheels (~2.7 GB download, ~4.7 GB on disk)" >&2
    "${pip[@]}" install "torch==${torch_version}"
fi

verify
echo "$want_stamp" > "$stamp"
echo "setup.sh: done in $(( $(date +%s) - start )) s; venv size $(du -sh "$venv" | cut -f1)"
