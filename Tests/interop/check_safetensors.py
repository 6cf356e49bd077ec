#!/usr/bin/env python3
"""Interoperability checks between Backprop's files and Python's safetensors and NumPy.

  check_safetensors.py check CHECKPOINT INPUT.npy PREDICTIONS.npy [--rtol R] [--atol A]
      Reads a Backprop checkpoint with the `safetensors` package, runs the MLP forward in
      NumPy (float64) with the activations named in its metadata (relu for hidden layers and
      identity for the output when absent), and compares the outputs for INPUT (n x in) with
      PREDICTIONS (n x out, as Backprop computed them). Exit status 0 when every output is
      within atol + rtol * |reference|, 1 otherwise (the report names the worst element).

  check_safetensors.py write OUT_DIR
      Writes files with the Python packages for Backprop's readers to load:
        python.safetensors   a 4-3-2 MLP, layers.0.* as F32, layers.1.* as F64, metadata
                             {"source": "python"} (no activations: the reader's defaults apply);
                             values: layers.0.weight[i, j] = (4i + j)/8 - 0.75,
                             layers.0.bias = [0.1, -0.25, 0.5], layers.1.weight[i, j] = (3i + j)/4 - 0.5,
                             layers.1.bias = [1/3, -1]
        python-fortran.npy   float64 (2, 3) in Fortran order, element [i, j] = 10i + j + 0.5
        python-labels.npy    int64 [3, 0, 9, 1]
"""
import argparse
import math
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file


def activation(name):
    if name == "identity":
        return lambda a: a
    if name == "relu":
        return lambda a: np.maximum(a, 0.0)
    if name == "leaky_relu" or name.startswith("leaky_relu:"):
        slope = float(name.split(":", 1)[1]) if ":" in name else 0.01
        return lambda a: np.where(a > 0, a, slope * a)
    if name == "tanh":
        return np.tanh
    if name == "sigmoid":
        return lambda a: 1.0 / (1.0 + np.exp(-a))
    if name == "gelu":
        erf = np.vectorize(math.erf)
        return lambda a: 0.5 * a * (1.0 + erf(a / math.sqrt(2.0)))
    raise SystemExit(f"unknown activation {name!r}")


def check(args):
    with safe_open(args.checkpoint, framework="numpy") as f:
        metadata = f.metadata() or {}
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    layers = sorted({int(k.split(".")[1]) for k in tensors if k.startswith("layers.")})
    if layers != list(range(len(layers))) or not layers:
        raise SystemExit(f"{args.checkpoint}: layer tensors are not numbered 0..n-1: {sorted(tensors)}")
    names = metadata.get("activations")
    names = names.split(",") if names else ["relu"] * (len(layers) - 1) + ["identity"]
    if len(names) != len(layers):
        raise SystemExit(f"{args.checkpoint}: {len(names)} activations for {len(layers)} layers")
    sizes = [tensors["layers.0.weight"].shape[1]] + [tensors[f"layers.{i}.weight"].shape[0] for i in layers]
    if "sizes" in metadata and metadata["sizes"] != ",".join(map(str, sizes)):
        raise SystemExit(f"{args.checkpoint}: metadata sizes {metadata['sizes']} disagree with shapes {sizes}")

    h = np.load(args.input).astype(np.float64)
    expected = np.load(args.predictions).astype(np.float64)
    for i, name in zip(layers, names):
        w = tensors[f"layers.{i}.weight"].astype(np.float64)
        b = tensors[f"layers.{i}.bias"].astype(np.float64)
        h = activation(name)(h @ w.T + b)
    if h.shape != expected.shape:
        print(f"FAIL: outputs have shape {h.shape}, predictions {expected.shape}")
        return 1
    error = np.abs(h - expected)
    allowed = args.atol + args.rtol * np.abs(h)
    worst = np.unravel_index(np.argmax(error - allowed), error.shape)
    status = "ok" if np.all(error <= allowed) else "FAIL"
    print(f"{status}: {len(layers)} layers {sizes} ({','.join(names)}), {h.shape[0]} samples; "
          f"max |diff| {error.max():.3g}; worst {tuple(int(x) for x in worst)}: "
          f"numpy {h[worst]:.9g} vs backprop {expected[worst]:.9g}")
    return 0 if status == "ok" else 1


def write(args):
    w0 = (np.arange(12, dtype=np.float32).reshape(3, 4) / 8 - 0.75).astype(np.float32)
    b0 = np.array([0.1, -0.25, 0.5], dtype=np.float32)
    w1 = np.arange(6, dtype=np.float64).reshape(2, 3) / 4 - 0.5
    b1 = np.array([1 / 3, -1], dtype=np.float64)
    save_file({"layers.0.weight": w0, "layers.0.bias": b0, "layers.1.weight": w1, "layers.1.bias": b1},
              f"{args.out_dir}/python.safetensors", metadata={"source": "python"})
    fortran = np.asfortranarray(np.array([[0.5, 1.5, 2.5], [10.5, 11.5, 12.5]], dtype=np.float64))
    assert fortran.flags.f_contiguous and not fortran.flags.c_contiguous
    np.save(f"{args.out_dir}/python-fortran.npy", fortran)
    np.save(f"{args.out_dir}/python-labels.npy", np.array([3, 0, 9, 1], dtype=np.int64))
    print(f"wrote {args.out_dir}/python.safetensors, python-fortran.npy, python-labels.npy")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check")
    c.add_argument("checkpoint")
    c.add_argument("input")
    c.add_argument("predictions")
    c.add_argument("--rtol", type=float, default=1e-4)
    c.add_argument("--atol", type=float, default=1e-5)
    w = sub.add_parser("write")
    w.add_argument("out_dir")
    args = parser.parse_args()
    return check(args) if args.command == "check" else write(args)


if __name__ == "__main__":
    sys.exit(main())
