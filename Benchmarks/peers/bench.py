#!/usr/bin/env python3
"""Peer benchmarks: one SGD training step of a ReLU MLP in PyTorch and JAX, measured like mlp-bench.

The model: layers L0-L1-...-Ln (fully connected, ReLU on hidden layers, identity output), softmax
cross-entropy averaged over the batch on random integer labels, random normal float32 inputs, plain SGD
(lr 0.01). One timed step = forward + backward + parameter update on the same fixed batch.

Single measurement (one JSON line on stdout with --json):
    bench.py --framework torch|torch-compile|jax (--config A|B|C|D | --layers 784,256,256,10 --batch 256)
             [--threads P] [--steps N] [--warmup N] [--repeat N] [--nice N] [--json]
All four configurations x threads {1,2} x frameworks, interleaved, with a table:
    bench.py --all [--rounds R] [--configs A,B,C,D] [--threads-list 1,2]
             [--frameworks torch,torch-compile,jax] [--steps N] [--warmup N] [--repeat N] [--nice N]
             [--quiet-below SHARE --quiet-wait S] [--json]

Every measurement runs in a fresh worker process started as `taskset -c 0-(P-1) python bench.py --worker`
with the thread settings in its environment before torch/jax are imported:
  torch: OMP_NUM_THREADS=MKL_NUM_THREADS=P, torch.set_num_threads(P), torch.set_num_interop_threads(1),
         nn.Sequential + F.cross_entropy + torch.optim.SGD.step(); torch-compile wraps model+loss in
         torch.compile (inductor; matmuls stay in MKL) and the optimizer step in torch.compile too.
  jax:   XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" when P == 1
         (XLA sizes its CPU thread pools from the affinity mask, so taskset limits P > 1),
         jax.jit(value_and_grad + SGD update, donate_argnums=params), jax.block_until_ready before the
         clock stops.
A measurement = `warmup` untimed steps, then `repeat` timed windows of `steps` consecutive steps each;
samples/s of a window = batch * steps / seconds. Reported: the median over windows, [min, max], and
each window's seconds per step. Without --steps, steps is chosen so a window lasts about --window-seconds.
Each window also records the share of its CPUs that other processes used (other_cpu_share); on a shared
machine, --nice -20 (root) makes every worker the leader of its own session/autogroup at nice -20.
Correctness: --check compares 3 steps of every framework with a numpy reference backpropagation.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time

CONFIGS = {
    "A": ([784, 256, 256, 10], 256),
    "B": ([784, 1024, 1024, 10], 1024),
    "C": ([784, 1024, 1024, 10], 8192),
    "D": ([4096, 4096, 4096, 10], 1024),
}

# Samples/s quoted by the issue "Speed at the limit" (2-core Zen 4): (torch, jax) per thread count.
ISSUE_REFERENCE = {
    ("A", 1): (63.5e3, 75.3e3), ("A", 2): (114e3, 123e3),
    ("B", 1): (9.7e3, 10.1e3), ("B", 2): (18.6e3, 19.2e3),
    ("C", 1): (8.6e3, 8.8e3), ("C", 2): (16.1e3, 16.5e3),
    ("D", 1): (546, 568), ("D", 2): (892, 1113),
}

FRAMEWORKS = ("torch", "torch-compile", "jax")
LEARNING_RATE = 0.01


class UsageError(Exception):
    """A bad command-line value; the message names the flag at fault."""


# ---------------------------------------------------------------------------------------------------
# Worker side: builds one framework's training step and times it (runs under taskset).
# ---------------------------------------------------------------------------------------------------

def make_problem(layers, batch, seed):
    """The same float32 problem for every framework, from numpy's PCG64 seeded with `seed`:
    weights W (out x in) and biases b ~ U(-1/sqrt(in), 1/sqrt(in)) (nn.Linear's default),
    inputs x ~ N(0, 1) (batch x L0), labels y uniform in [0, Ln) (int64)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(layers[:-1], layers[1:]):
        bound = 1.0 / math.sqrt(fan_in)
        w = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32)
        b = rng.uniform(-bound, bound, (fan_out,)).astype(np.float32)
        params.append((w, b))
    x = rng.standard_normal((batch, layers[0]), dtype=np.float32)
    y = rng.integers(0, layers[-1], batch, dtype=np.int64)
    return params, x, y


def build_torch(problem, threads, compiled):
    """Returns (step, sync, details, parameters) for PyTorch; step() runs one training step and
    returns the loss, sync(loss) waits for it and returns it as a float."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set in this process (only in --check, which builds twice)
        pass
    init, x_np, y_np = problem
    modules = []
    for i, (w, b) in enumerate(init):
        linear = nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w))
            linear.bias.copy_(torch.from_numpy(b))
        modules.append(linear)
        if i < len(init) - 1:
            modules.append(nn.ReLU())
    model = nn.Sequential(*modules)
    x = torch.from_numpy(x_np).clone()
    y = torch.from_numpy(y_np).clone()
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)

    def loss_of(inputs, labels):
        return F.cross_entropy(model(inputs), labels)

    forward = torch.compile(loss_of) if compiled else loss_of
    update = torch.compile(optimizer.step) if compiled else optimizer.step

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = forward(x, y)
        loss.backward()
        update()
        return loss

    def sync(loss):
        return float(loss.detach())

    details = {
        "mode": "compile" if compiled else "eager",
        "version": torch.__version__,
        "torch_num_threads": torch.get_num_threads(),
        "torch_num_interop_threads": torch.get_num_interop_threads(),
        "blas": "mkl" if torch.backends.mkl.is_available() else "other",
    }

    def parameters():
        return [(m.weight.detach().numpy().copy(), m.bias.detach().numpy().copy())
                for m in model if isinstance(m, nn.Linear)]

    return step, sync, details, parameters


def build_jax(problem):
    """Returns (step, sync, details, parameters) for JAX; weights are kept as W^T (in x out) so the
    forward pass is h @ W^T + b without a transpose."""
    import jax
    import jax.numpy as jnp

    init, x_np, y_np = problem
    params = [(jnp.array(w.T), jnp.array(b)) for w, b in init]  # copies: params get donated
    x = jnp.array(x_np)
    y = jnp.array(y_np.astype("int32"))

    def loss_fn(params, inputs, labels):
        h = inputs
        for w, b in params[:-1]:
            h = jax.nn.relu(h @ w + b)
        w, b = params[-1]
        logits = h @ w + b
        log_probs = jax.nn.log_softmax(logits, axis=-1)
        return -jnp.mean(jnp.take_along_axis(log_probs, labels[:, None], axis=-1))

    def train_step(params, inputs, labels):
        loss, grads = jax.value_and_grad(loss_fn)(params, inputs, labels)
        params = jax.tree_util.tree_map(lambda p, g: p - LEARNING_RATE * g, params, grads)
        return params, loss

    train_step = jax.jit(train_step, donate_argnums=(0,))
    state = {"params": params}

    def step():
        state["params"], loss = train_step(state["params"], x, y)
        return loss

    def sync(loss):
        jax.block_until_ready(state["params"])
        return float(jax.block_until_ready(loss))

    details = {
        "mode": "jit",
        "version": jax.__version__,
        "jaxlib_version": __import__("jaxlib").__version__,
        "devices": [str(d) for d in jax.devices()],
    }

    def parameters():
        import numpy as np
        return [(np.asarray(w).T.copy(), np.asarray(b).copy()) for w, b in state["params"]]

    return step, sync, details, parameters


def cpu_jiffies(cpus):
    """(busy, steal) clock ticks summed over `cpus` from /proc/stat, or None where unreadable.

    busy = user + nice + system + irq + softirq (all processes); steal = time the hypervisor ran
    something else on these virtual CPUs. Used to report how contended each timed window was.
    """
    try:
        with open("/proc/stat") as f:
            lines = f.readlines()
    except OSError:
        return None
    busy = steal = 0
    names = {f"cpu{c}" for c in cpus}
    for line in lines:
        fields = line.split()
        if fields and fields[0] in names:
            v = [int(x) for x in fields[1:9]]
            busy += v[0] + v[1] + v[2] + v[5] + v[6]
            steal += v[7]
    return busy, steal


def raise_priority(nice):
    """Gives this worker scheduling priority `nice` (negative needs root). The worker is the leader
    of its own session, hence of its own autogroup (Linux groups fair scheduling per session when
    /proc/sys/kernel/sched_autogroup_enabled is 1), so the autogroup's nice is set as well; without
    it a negative nice only counts against processes of the same session."""
    if not nice:
        return
    try:
        os.setpriority(os.PRIO_PROCESS, 0, nice)
    except OSError as e:
        print(f"bench.py: cannot set nice {nice}: {e}", file=sys.stderr)
    try:
        with open("/proc/self/autogroup", "w") as f:
            f.write(str(nice))
    except OSError:
        pass  # no autogroups (or not permitted): the plain nice value is all there is


def autogroup_nice():
    try:
        with open("/proc/self/autogroup") as f:
            return int(f.read().split()[-1])
    except (OSError, ValueError, IndexError):
        return None


def worker(args):
    raise_priority(args.nice)
    layers, batch = args.layers, args.batch
    problem = make_problem(layers, batch, args.seed)
    if args.framework == "jax":
        step, sync, details, _ = build_jax(problem)
    else:
        step, sync, details, _ = build_torch(problem, args.threads,
                                             compiled=args.framework == "torch-compile")
    del problem
    load_before = os.getloadavg()

    first_loss = sync(step())  # first step: compilation for jit/torch.compile, not timed
    for _ in range(args.warmup):
        last_loss = sync(step())
    steps = args.steps
    if steps is None:
        start = time.perf_counter()
        last_loss = sync(step())
        one = time.perf_counter() - start
        steps = max(3, min(2000, math.ceil(args.window_seconds / max(one, 1e-6))))

    step_seconds, others, steal = [], [], []
    cpus = sorted(os.sched_getaffinity(0))
    for _ in range(args.repeat):
        stat_before, own_before = cpu_jiffies(cpus), os.times()
        start = time.perf_counter()
        for _ in range(steps):
            loss = step()
        last_loss = sync(loss)
        elapsed = time.perf_counter() - start
        stat_after, own_after = cpu_jiffies(cpus), os.times()
        step_seconds.append(elapsed / steps)
        if stat_before and stat_after:
            tick = os.sysconf("SC_CLK_TCK")
            own = (own_after.user + own_after.system) - (own_before.user + own_before.system)
            busy = (stat_after[0] - stat_before[0]) / tick
            others.append(round(max(0.0, busy - own) / (elapsed * len(cpus)), 3))
            steal.append(round((stat_after[1] - stat_before[1]) / tick / (elapsed * len(cpus)), 3))

    rates = sorted(batch / s for s in step_seconds)
    if not math.isfinite(last_loss):
        raise RuntimeError(f"loss became {last_loss}: the benchmark step is broken")
    result = {
        "framework": "jax" if args.framework == "jax" else "torch",
        "mode": details.pop("mode"),
        "version": details.pop("version"),
        "config": config_name(layers, batch),
        "layers": layers,
        "batch": batch,
        "threads": args.threads,
        "steps": steps,
        "warmup": args.warmup,
        "repeat": args.repeat,
        "samples_per_second_median": statistics.median(rates),
        "spread": [rates[0], rates[-1]],
        "step_seconds": step_seconds,
        "loss_first": first_loss,
        "loss_last": last_loss,
        "affinity": cpus,
        "nice": os.getpriority(os.PRIO_PROCESS, 0),
        "autogroup_nice": autogroup_nice(),
        "other_cpu_share": others,
        "steal_share": steal,
        "loadavg_before": load_before[0],
        "loadavg_after": os.getloadavg()[0],
        "env": {k: os.environ[k] for k in ("XLA_FLAGS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
                if k in os.environ},
        **details,
    }
    print(json.dumps(result), flush=True)


def reference_steps(problem, steps):
    """Plain numpy backpropagation (batch-major, W is out x in): the losses of `steps` SGD steps and
    the parameters after them. A = H W^T + b, delta(L) = (softmax(A) - onehot(y)) / batch,
    delta(l) = (delta(l+1) W(l+1)) * relu'(A(l)), dW = delta^T H(l-1), db = sum_rows delta."""
    import numpy as np

    init, x, y = problem
    params = [(w.astype(np.float64), b.astype(np.float64)) for w, b in init]
    x = x.astype(np.float64)
    losses = []
    for _ in range(steps):
        hs, pres = [x], []
        for i, (w, b) in enumerate(params):
            a = hs[-1] @ w.T + b
            pres.append(a)
            hs.append(np.maximum(a, 0) if i < len(params) - 1 else a)
        logits = hs[-1]
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        losses.append(float(-log_probs[np.arange(len(y)), y].mean()))
        delta = np.exp(log_probs)
        delta[np.arange(len(y)), y] -= 1
        delta /= len(y)
        grads = [None] * len(params)
        for i in range(len(params) - 1, -1, -1):
            w, _ = params[i]
            grads[i] = (delta.T @ hs[i], delta.sum(axis=0))
            if i > 0:
                delta = (delta @ w) * (pres[i - 1] > 0)
        params = [(w - LEARNING_RATE * gw, b - LEARNING_RATE * gb)
                  for (w, b), (gw, gb) in zip(params, grads)]
    return losses, params


def check(frameworks, steps=3):
    """Runs `steps` training steps of each framework on two small problems and compares the losses
    (absolute 1e-5) and the parameter updates (relative 1e-3 of the largest update of each tensor)
    with reference_steps; prints one line per run and returns the number of mismatches."""
    import numpy as np

    failures = 0
    for layers, batch in (([20, 16, 12, 5], 8), ([784, 256, 256, 10], 64)):
        problem = make_problem(layers, batch, seed=1)
        want_losses, want_params = reference_steps(problem, steps)
        for framework in frameworks:
            if framework == "jax":
                step, sync, _, parameters = build_jax(problem)
            else:
                step, sync, _, parameters = build_torch(problem, 1, framework == "torch-compile")
            losses = [sync(step()) for _ in range(steps)]
            loss_error = max(abs(a - b) for a, b in zip(losses, want_losses))
            # Compare what training changed (parameters minus initial ones), relative to the
            # largest change, so an error in the update shows however small lr * gradient is.
            update_error = 0.0
            for got, want, start in zip(parameters(), want_params, problem[0]):
                for g, r, s0 in zip(got, want, start):
                    change = np.abs(r - s0).max()
                    update_error = max(update_error, float(np.abs((g - s0) - (r - s0)).max()
                                                           / change))
            ok = loss_error < 1e-5 and update_error < 1e-3
            failures += not ok
            print(f"check {framework:13s} layers {','.join(map(str, layers))} batch {batch}: "
                  f"losses {[round(l, 5) for l in losses]}, max loss difference from numpy "
                  f"{loss_error:.1e}, max relative update difference {update_error:.1e} "
                  f"{'ok' if ok else 'MISMATCH'}")
    return failures


# ---------------------------------------------------------------------------------------------------
# Driver side: starts workers under taskset, aggregates, prints JSON / tables.
# ---------------------------------------------------------------------------------------------------

def config_name(layers, batch):
    for name, (l, b) in CONFIGS.items():
        if l == list(layers) and b == batch:
            return name
    return None


def worker_env(framework, threads):
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = str(threads)
    env["JAX_PLATFORMS"] = "cpu"
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    if framework == "jax" and threads == 1:
        env["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    else:
        env.pop("XLA_FLAGS", None)
    return env


def run_worker(framework, layers, batch, threads, steps, warmup, repeat, window_seconds, seed,
               timeout, nice=0):
    command = [sys.executable, os.path.abspath(__file__), "--worker", "--framework", framework,
               "--layers", ",".join(map(str, layers)), "--batch", str(batch),
               "--threads", str(threads), "--warmup", str(warmup), "--repeat", str(repeat),
               "--window-seconds", str(window_seconds), "--seed", str(seed)]
    if steps is not None:
        command += ["--steps", str(steps)]
    if shutil.which("taskset"):
        command = ["taskset", "-c", f"0-{threads - 1}"] + command
    command += ["--nice", str(nice)]
    proc = subprocess.run(command, env=worker_env(framework, threads), capture_output=True,
                          text=True, timeout=timeout, start_new_session=True)
    lines = [l for l in proc.stdout.splitlines() if l.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise RuntimeError(f"{framework} worker for layers {layers} batch {batch} threads {threads} "
                           f"failed (exit {proc.returncode}):\n{tail}")
    return json.loads(lines[-1])


def wait_for_quiet(cpus, threshold, max_wait):
    """Waits until other processes use less than `threshold` of `cpus` over one second, at most
    `max_wait` seconds; returns the last measured share (None where /proc/stat is unreadable)."""
    deadline = time.time() + max_wait
    while True:
        before, start = cpu_jiffies(cpus), time.perf_counter()
        time.sleep(1.0)
        after, elapsed = cpu_jiffies(cpus), time.perf_counter() - start
        if not before or not after:
            return None
        share = (after[0] - before[0]) / os.sysconf("SC_CLK_TCK") / (elapsed * len(cpus))
        if share < threshold or time.time() >= deadline:
            return share
        time.sleep(2.0)


def human(rate):
    if rate >= 1e4:
        return f"{rate / 1e3:.1f}k"
    if rate >= 1e3:
        return f"{rate / 1e3:.2f}k"
    return f"{rate:.0f}"


def run_all(args):
    configs = parse_list(args.configs, "--configs", lambda s: s.upper())
    for c in configs:
        if c not in CONFIGS:
            raise UsageError(f"--configs: unknown configuration '{c}' (expected some of A,B,C,D)")
    threads_list = parse_list(args.threads_list, "--threads-list", int)
    for t in threads_list:
        check_threads(t, "--threads-list")
    frameworks = parse_list(args.frameworks, "--frameworks", str)
    for f in frameworks:
        if f not in FRAMEWORKS:
            raise UsageError(f"--frameworks: unknown framework '{f}' (expected some of "
                             f"{','.join(FRAMEWORKS)})")

    windows = {}   # (config, threads, framework) -> [step seconds]
    shares = {}    # (config, threads, framework) -> [other processes' CPU share per window]
    meta = {}
    started = time.time()
    for r in range(args.rounds):
        for c in configs:
            layers, batch = CONFIGS[c]
            for t in threads_list:
                order = frameworks[r % len(frameworks):] + frameworks[:r % len(frameworks)]
                for f in order:
                    if args.quiet_below is not None:
                        wait_for_quiet(list(range(t)), args.quiet_below, args.quiet_wait)
                    res = run_worker(f, layers, batch, t, args.steps, args.warmup, args.repeat,
                                     args.window_seconds, args.seed + r, args.timeout,
                                     args.nice)
                    windows.setdefault((c, t, f), []).extend(res["step_seconds"])
                    shares.setdefault((c, t, f), []).extend(res["other_cpu_share"])
                    meta[(c, t, f)] = res
                    print(f"[round {r + 1}/{args.rounds} {time.time() - started:6.0f}s] {c} "
                          f"{t}t {f:13s} median {human(res['samples_per_second_median']):>7s}/s "
                          f"(others used {share_text(res['other_cpu_share'])} of the CPUs)",
                          file=sys.stderr, flush=True)

    results = []
    for (c, t, f), secs in windows.items():
        layers, batch = CONFIGS[c]
        rates = sorted(batch / s for s in secs)
        res = dict(meta[(c, t, f)])
        res.update({"samples_per_second_median": statistics.median(rates),
                    "spread": [rates[0], rates[-1]], "step_seconds": secs,
                    "other_cpu_share": shares[(c, t, f)],
                    "repeat": len(secs), "rounds": args.rounds})
        for k in ("loadavg_before", "loadavg_after", "loss_first", "loss_last", "steal_share"):
            res.pop(k, None)
        results.append(res)
    if args.json:
        for res in results:
            print(json.dumps(res), flush=True)
    table = format_table(results, configs, threads_list, frameworks)
    print(table, file=sys.stderr if args.json else sys.stdout, flush=True)


def share_text(shares):
    return f"{100 * statistics.median(shares):.0f}%" if shares else "?"


def format_table(results, configs, threads_list, frameworks):
    by = {(r["config"], r["threads"], r["framework"] + ("-compile" if r["mode"] == "compile" else "")):
          r for r in results}
    head = ["cfg", "thr"] + [f"{f} (min-max)" for f in frameworks]
    if "torch" in frameworks and "torch-compile" in frameworks:
        head.append("torch best")
    head += ["others", "issue torch/jax"]
    rows = [head]
    for c in configs:
        for t in threads_list:
            row = [c, str(t)]
            best = None
            for f in frameworks:
                r = by.get((c, t, f))
                if r is None:
                    row.append("-")
                    continue
                med = r["samples_per_second_median"]
                row.append(f"{human(med)} ({human(r['spread'][0])}-{human(r['spread'][1])})")
                if f.startswith("torch") and (best is None or med > best[0]):
                    best = (med, "eager" if f == "torch" else "compile")
            if "torch best" in head:
                row.append(f"{human(best[0])} {best[1]}" if best else "-")
            row.append(share_text([x for f in frameworks
                                   for x in by.get((c, t, f), {}).get("other_cpu_share", [])]))
            ref = ISSUE_REFERENCE.get((c, t))
            row.append(f"{human(ref[0])}/{human(ref[1])}" if ref else "-")
            rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["| " + " | ".join(cell.ljust(w) for cell, w in zip(r, widths)) + " |" for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return ("samples/s: median (min-max) over all timed windows; others = median share of the "
            "benchmark's CPUs used by other processes during the windows\n" + "\n".join(lines))


def parse_list(text, flag, convert):
    try:
        items = [convert(s.strip()) for s in text.split(",") if s.strip()]
    except ValueError:
        raise UsageError(f"{flag}: cannot parse '{text}'") from None
    if not items:
        raise UsageError(f"{flag}: empty list")
    return items


def check_threads(threads, flag):
    cpus = os.cpu_count() or 1
    if threads < 1 or threads > cpus:
        raise UsageError(f"{flag}: {threads} threads, but this machine has CPUs 0-{cpus - 1}")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n", 1)[1])
    p.add_argument("--framework", choices=FRAMEWORKS)
    p.add_argument("--config", help="A, B, C or D (instead of --layers/--batch)")
    p.add_argument("--layers", help="comma-separated layer sizes, e.g. 784,256,256,10")
    p.add_argument("--batch", type=int)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, help="steps per timed window (default: auto)")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps after the first (default 3)")
    p.add_argument("--repeat", type=int, default=5, help="timed windows (default 5; 3 per round "
                   "with --all)")
    p.add_argument("--window-seconds", type=float, default=1.0,
                   help="target length of a timed window when --steps is not given (default 1.0)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print JSON line(s) on stdout")
    p.add_argument("--timeout", type=float, default=900, help="seconds allowed per worker")
    p.add_argument("--all", action="store_true", help="all configs x threads x frameworks")
    p.add_argument("--rounds", type=int, default=3, help="--all: interleaved rounds (default 3)")
    p.add_argument("--configs", default="A,B,C,D")
    p.add_argument("--threads-list", default="1,2")
    p.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    p.add_argument("--quiet-below", type=float, metavar="SHARE",
                   help="--all: before each worker, wait until other processes use less than this "
                   "share (0-1) of its CPUs over one second")
    p.add_argument("--quiet-wait", type=float, default=120,
                   help="--all: at most this many seconds of waiting per worker (default 120)")
    p.add_argument("--nice", type=int, default=0,
                   help="run workers under `nice -n NICE`; -20 (needs root) gives the benchmark "
                   "priority over other work on a shared machine (default 0: unchanged)")
    p.add_argument("--check", action="store_true", help="compare 3 training steps of each "
                   "framework with a numpy reference on small problems, then exit")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    repeat_given = any(a == "--repeat" or a.startswith("--repeat=") for a in argv)
    if args.all and not repeat_given:
        args.repeat = 3

    for flag, value, low in (("--steps", args.steps, 1), ("--warmup", args.warmup, 0),
                             ("--repeat", args.repeat, 1), ("--rounds", args.rounds, 1)):
        if value is not None and value < low:
            raise UsageError(f"{flag}: must be at least {low}, got {value}")
    if args.window_seconds <= 0:
        raise UsageError("--window-seconds: must be positive")
    if args.all or args.check:
        return args
    if args.framework is None:
        raise UsageError("--framework: required (torch, torch-compile or jax), or use --all")
    check_threads(args.threads, "--threads")
    if args.config is not None:
        if args.layers is not None or args.batch is not None:
            raise UsageError("--config: give either --config or --layers/--batch, not both")
        key = args.config.upper()
        if key not in CONFIGS:
            raise UsageError(f"--config: unknown configuration '{args.config}' (expected A, B, C, D)")
        args.layers, args.batch = list(CONFIGS[key][0]), CONFIGS[key][1]
    else:
        if args.layers is None or args.batch is None:
            raise UsageError("--layers and --batch: both required when --config is not given")
        args.layers = parse_list(args.layers, "--layers", int)
        if len(args.layers) < 2 or min(args.layers) < 1:
            raise UsageError(f"--layers: need at least two positive sizes, got {args.layers}")
        if args.batch < 1:
            raise UsageError(f"--batch: must be positive, got {args.batch}")
    return args


def main(argv):
    try:
        args = parse_args(argv)
        if args.check:
            frameworks = [args.framework] if args.framework else list(FRAMEWORKS)
            return 1 if check(frameworks) else 0
        if args.worker:
            worker(args)
        elif args.all:
            run_all(args)
        else:
            res = run_worker(args.framework, args.layers, args.batch, args.threads, args.steps,
                             args.warmup, args.repeat, args.window_seconds, args.seed, args.timeout,
                             args.nice)
            if args.json:
                print(json.dumps(res), flush=True)
            else:
                print(f"{res['framework']} {res['version']} ({res['mode']}) layers "
                      f"{','.join(map(str, res['layers']))} batch {res['batch']} threads "
                      f"{res['threads']}: {human(res['samples_per_second_median'])} samples/s median "
                      f"(min {human(res['spread'][0])}, max {human(res['spread'][1])}, "
                      f"{res['repeat']} windows x {res['steps']} steps)")
    except UsageError as e:
        print(f"bench.py: {e}", file=sys.stderr)
        return 2
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        print(f"bench.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
