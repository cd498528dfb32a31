"""Runs MLIR functions through quant-run and loads their results.

Used by the lit integration tests: a test builds a module whose function
takes its inputs as arguments, writes them as .npy, calls quant-run, and
compares the .npy results with test/python/reference.py.
"""

import json
import os
import subprocess
import sys
import tempfile

import ml_dtypes
import numpy as np
import warnings

# The tests feed inf, NaN and out-of-range values on purpose.
np.seterr(all="ignore")
warnings.filterwarnings("ignore", category=RuntimeWarning)
QUANT_RUN = os.environ.get("QUANT_RUN", "quant-run")

# MLIR element type -> dtype of the .npy that quant-run exchanges.
NPY_DTYPE = {
    "f32": np.float32, "f16": np.float16, "f64": np.float64,
    "bf16": np.float32,
    "i8": np.int8, "i4": np.int8, "ui8": np.uint8, "ui4": np.uint8,
    "f8E4M3FN": np.uint8, "f8E5M2": np.uint8, "i32": np.int32,
}


def tensor_type(shape, element):
    dims = "x".join(str(d) for d in shape)
    return f"tensor<{dims}x{element}>" if dims else f"tensor<{element}>"


class Module:
    """Accumulates cases into one function so quant-run compiles once."""

    def __init__(self):
        self.args = []      # (mlir type, numpy array)
        self.body = []
        self.results = []   # (mlir type, ssa name)
        self.counter = 0

    def arg(self, array, element):
        """Adds a function argument fed with `array`; returns its name."""
        name = f"%arg{len(self.args)}"
        self.args.append((tensor_type(array.shape, element), array))
        return name

    def op(self, text, result_type):
        """Adds `%vN = text` and returns %vN."""
        name = f"%v{self.counter}"
        self.counter += 1
        self.body.append(f"  {name} = {text}")
        return name

    def result(self, name, result_type):
        """Returns `name` from the function; returns its result index."""
        self.results.append((result_type, name))
        return len(self.results) - 1

    def text(self):
        params = ", ".join(f"%arg{i}: {t}" for i, (t, _) in enumerate(self.args))
        rtypes = ", ".join(t for t, _ in self.results)
        names = ", ".join(n for _, n in self.results)
        lines = [f"func.func @main({params}) -> ({rtypes}) {{"]
        lines += self.body
        lines.append(f"  return {names} : {rtypes}")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def run(self, extra_args=()):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "module.mlir")
            with open(path, "w") as f:
                f.write(self.text())
            inputs = []
            for i, (_, array) in enumerate(self.args):
                p = os.path.join(tmp, f"arg{i}.npy")
                np.save(p, array)
                inputs += ["--input", p]
            out = os.path.join(tmp, "out")
            proc = subprocess.run(
                [QUANT_RUN, path, *inputs, "--output-dir", out, *extra_args],
                capture_output=True, text=True)
            if proc.returncode != 0:
                sys.stderr.write(self.text())
                sys.stderr.write(proc.stderr)
                raise SystemExit(f"quant-run failed with {proc.returncode}")
            return [np.load(os.path.join(out, f"result{i}.npy"))
                    for i in range(len(self.results))]


class Checker:
    """Collects failures so one run reports every mismatching case."""

    def __init__(self):
        self.failures = 0
        self.checks = 0

    def equal(self, what, got, want):
        self.checks += 1
        if got.shape != want.shape or got.dtype != want.dtype:
            self.fail(what, f"shape/dtype {got.shape} {got.dtype} != "
                            f"{want.shape} {want.dtype}")
            return
        if np.array_equal(got.view(np.uint8) if got.dtype.itemsize == 1 else got,
                          want.view(np.uint8) if want.dtype.itemsize == 1 else want,
                          equal_nan=got.dtype.kind == "f"):
            return
        bad = np.argwhere(~((got == want) | (np.isnan(got) & np.isnan(want))
                            if got.dtype.kind == "f" else got == want))
        idx = tuple(bad[0])
        self.fail(what, f"{len(bad)} of {got.size} differ; first at {idx}: "
                        f"got {got[idx]!r}, want {want[idx]!r}")

    def fail(self, what, msg):
        self.failures += 1
        print(f"FAIL {what}: {msg}")

    def finish(self):
        print(f"checks: {self.checks - self.failures} ok, {self.failures} failed")
        if self.failures:
            raise SystemExit(1)


def bf16_round(x):
    """float32 values rounded to bf16 (what quant-run does to bf16 inputs)."""
    return x.astype(ml_dtypes.bfloat16).astype(np.float32)


def linear_layers_module(weights, tokens, names, return_hidden=False):
    """A function chaining linear layers: y_i = y_{i-1} @ w_i (y_0 = x of
    shape [tokens, K]), each a linalg.matmul from zeros of a constant f32
    weight [K_i, N_i], located (and so named for observers) by `names`.
    Returns the last output, and with `return_hidden` also the others."""
    def t(n):
        return f"tensor<{tokens}x{n}xf32>"
    body = ["  %zero = arith.constant 0.0 : f32"]
    x = "%x"
    for i, (w, name) in enumerate(zip(weights, names)):
        k, n = w.shape
        wt = f"tensor<{k}x{n}xf32>"
        body += [
            f"  %w{i} = arith.constant dense<\"0x{w.tobytes().hex().upper()}\"> : {wt}",
            f"  %e{i} = tensor.empty() : {t(n)}",
            f"  %i{i} = linalg.fill ins(%zero : f32) outs(%e{i} : {t(n)}) -> {t(n)}",
            f"  %y{i} = linalg.matmul ins({x}, %w{i} : {t(k)}, {wt}) "
            f"outs(%i{i} : {t(n)}) -> {t(n)} loc(\"{name}\")"]
        x = f"%y{i}"
    last = len(weights) - 1
    outs = [last] + (list(range(last)) if return_hidden else [])
    types = ", ".join(t(weights[i].shape[1]) for i in outs)
    body.append(f"  return {', '.join(f'%y{i}' for i in outs)} : {types}")
    return (f"func.func @main(%x: {t(weights[0].shape[0])}) -> ({types}) {{\n"
            + "\n".join(body) + "\n}\n")


def linear_layer_module(w, tokens, name="fc"):
    """A function computing x @ w for x [tokens, K] with the constant f32
    weight w [K, N] (linalg.matmul from zeros), the product named `name`."""
    return linear_layers_module([w], tokens, [name])


def calibrate(model, inputs, out, stats):
    """Instruments `model` with observers for `stats`, runs it on every
    input file and writes the calibration file `out`; returns its
    observers (name -> statistics)."""
    inst = out + ".inst.mlir"
    subprocess.run([os.environ["QUANT_OPT"], model,
                    f"--qopt-insert-observers=stats={stats}", "-o", inst],
                   check=True, capture_output=True, text=True)
    subprocess.run([os.environ["QUANT_RUN"], inst, "--input", ",".join(inputs),
                    "--calibration-out", out],
                   check=True, capture_output=True, text=True)
    return json.load(open(out))["observers"]


def run_model(model, input_file, out_dir):
    """Runs `model` (one argument) with quant-run on the .npy `input_file`;
    returns its first result."""
    subprocess.run([os.environ["QUANT_RUN"], model, "--input", input_file,
                    "--output-dir", out_dir],
                   check=True, capture_output=True, text=True)
    return np.load(os.path.join(out_dir, "result0.npy"))
