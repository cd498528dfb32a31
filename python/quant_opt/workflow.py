"""The calibrate → quantize → compile → report workflow.

Shaped like torchao's ``quantize_`` and ModelOpt's ``quantize``: named
schemes, a calibration object, and a compiled callable. Every step runs the
same passes as the command-line tools (docs/python.md lists the
equivalents), so a model quantized here and one quantized with
``quant-opt`` / ``quant-run`` give identical outputs.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import tempfile
import warnings
from typing import Iterable, Sequence

import numpy as np

from . import _core
from .ir import Executable, Module, QuantOptError, StorageRow, _raise

__all__ = [
    "Calibration",
    "LayerError",
    "Report",
    "SCHEMES",
    "Scheme",
    "calibrate",
    "compile",
    "quantize",
    "report",
]

#: Statistics a default calibration records: enough for every scheme and
#: calibrator (min-max ranges, |x| histograms, AWQ's per-channel means,
#: GPTQ's Hessians).
DEFAULT_STATS = ("minmax", "histogram", "channel_absmax", "channel_absmean",
                 "hessian")


@dataclasses.dataclass(frozen=True)
class Scheme:
    """A named quantization recipe."""

    name: str
    description: str
    weights: str  #: ``qopt-weight-ptq`` options
    method: str = "rtn"  #: ``rtn``, ``gptq`` or ``awq`` (weights)
    activations: str | None = None  #: ``None``, ``"static"``, ``"dynamic"``
    activation_storage: str = ""  #: ``qopt-apply-calibration`` storage
    smooth: bool = False  #: SmoothQuant before quantizing
    act_order: bool = False  #: GPTQ: columns by decreasing Hessian diagonal


SCHEMES: dict[str, Scheme] = {s.name: s for s in [
    Scheme("w8a16", "INT8 weights per output channel, float activations",
           "storage=i8 group-size=0"),
    Scheme("w4a16-g128", "INT4 weights, one scale per 128 inputs (RTN)",
           "storage=i4 group-size=128"),
    Scheme("w4a16-g128-gptq", "INT4 g128 weights quantized with GPTQ "
           "(act-order, static groups)", "storage=i4 group-size=128",
           method="gptq", act_order=True),
    Scheme("w4a16-g128-awq", "INT4 g128 weights with AWQ scales",
           "storage=i4 group-size=128", method="awq"),
    Scheme("w8a8", "SmoothQuant (alpha 0.5), INT8 weights per channel, "
           "INT8 activations with per-token scales computed at run time",
           "storage=i8 group-size=0", activations="dynamic", smooth=True),
    Scheme("w8a8-dynamic", "INT8 weights per channel, INT8 activations "
           "with per-token scales computed at run time (no calibration)",
           "storage=i8 group-size=0", activations="dynamic"),
    Scheme("w8a8-static", "INT8 weights per channel, static per-tensor "
           "INT8 activations", "storage=i8 group-size=0",
           activations="static"),
    Scheme("w8a8-static-asym", "as w8a8-static, with asymmetric UINT8 "
           "activations", "storage=i8 group-size=0", activations="static",
           activation_storage="ui8"),
    Scheme("w8a8-static-smoothquant", "SmoothQuant, then w8a8-static-asym",
           "storage=i8 group-size=0", activations="static",
           activation_storage="ui8", smooth=True),
    Scheme("fp8", "E4M3 weights per channel, static per-tensor E4M3 "
           "activations", "storage=f8E4M3FN group-size=0",
           activations="static"),
    Scheme("fp8-dynamic", "E4M3 weights per channel, per-token E4M3 "
           "activations", "storage=f8E4M3FN group-size=0",
           activations="dynamic"),
]}


@dataclasses.dataclass
class Calibration:
    """Activation statistics of a model (a calibration file, docs/calibration.md).

    Keeps the batches it was computed from, so that recipes which change the
    activations (SmoothQuant) can calibrate the changed model again.
    """

    path: str  #: the calibration JSON file (with its ``.d/`` side files)
    stats: tuple[str, ...]
    observers: list[str]
    batches: list[tuple] = dataclasses.field(repr=False)
    entry: str | None = None  #: the function that was run
    opt_level: int = 3  #: LLVM's, for recalibrating a changed model
    _tmp: tempfile.TemporaryDirectory | None = dataclasses.field(
        default=None, repr=False)

    def has(self, stat: str) -> bool:
        return stat in self.stats


def _as_tuple(batch) -> tuple:
    if isinstance(batch, dict):
        return tuple(batch.values())
    return tuple(batch) if isinstance(batch, (tuple, list)) else (batch,)


def _progress(iterable, total: int, description: str, enabled: bool | None):
    """A tqdm bar on long runs (over 8 batches) at a terminal, else plain."""
    if enabled is False or (enabled is None and total <= 8):
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc=description, unit="batch",
                disable=None if enabled is None else False, file=sys.stderr)


def calibrate(model: Module, batches: Iterable, *,
              stats: Sequence[str] = DEFAULT_STATS, path: str | None = None,
              entry: str | None = None, progress: bool | None = None,
              opt_level: int = 3) -> Calibration:
    """Runs ``model`` on every batch and records the statistics of the inputs
    of its matrix products.

    ``batches`` yields argument tuples (or single arrays) of the entry's
    exact shapes. The file goes to ``path`` (a temporary directory that
    lives as long as the returned object otherwise). Equivalent to
    ``quant-opt --qopt-insert-observers=stats=...`` then ``quant-run
    --calibration-out``. ``opt_level`` is LLVM's (2 compiles a BERT-sized
    model several times faster than 3, at about the same speed).
    Calibration state is process-wide: do not calibrate from several
    threads at once.
    """
    batches = [_as_tuple(b) for b in batches]
    if not batches:
        raise ValueError("calibrate: no batches")
    tmp = None
    if path is None:
        tmp = tempfile.TemporaryDirectory(prefix="quant-opt-calibration-")
        path = os.path.join(tmp.name, "calibration.json")
    instrumented = model.transform(
        f"qopt-insert-observers{{stats={','.join(stats)}}}")
    executable = instrumented.compile(entry, opt_level)
    names = executable.observer_names
    if not names:
        raise QuantOptError("calibrate: the model has no matrix product with "
                            "an activation input to observe")
    _core.calibration_reset()
    try:
        for batch in _progress(batches, len(batches), "calibrating", progress):
            executable(*batch)
        _core.calibration_write(path, names)
    except _core.DiagnosticError as e:
        _raise(e)
    finally:
        _core.calibration_reset()
    return Calibration(path, tuple(stats), list(names), batches, entry,
                       opt_level, tmp)


def _require_products(model: Module) -> None:
    if not model.storage_report():
        raise QuantOptError(
            "quantize: the model contains no quantizable matrix product (no "
            "linalg contraction or qopt.matmul reads a constant weight)")


class QuantizationWarning(UserWarning):
    """A pass left part of the model as it was: a layer in float, or a
    product with float activations for want of calibration statistics."""


def _warn(diagnostics) -> None:
    """The passes' warnings (a layer left in float, a product without
    calibration statistics) as Python warnings, where callers see them."""
    for d in diagnostics:
        if d.severity == "warning":
            warnings.warn(f"{d.location}: {d.message}" if d.location
                          else d.message, QuantizationWarning, stacklevel=3)


def _option(value) -> str:
    """`value` as one pass-option value: quoted where it holds spaces or
    the characters that separate options (a path with a space, a regex)."""
    text = str(value)
    if not any(c in text for c in " \t{}[](),'\"="):
        return text
    for open_, close in (("'", "'"), ('"', '"'), ("{", "}")):
        if open_ not in text and close not in text:
            return f"{open_}{text}{close}"
    raise ValueError(f"cannot pass {text!r} as a pass option (it holds "
                     f"both kinds of quotes and braces)")


def quantize(model: Module, scheme: str | Scheme = "w8a8", *,
             method: str | None = None,
             calibration: Calibration | None = None,
             calibrator: str = "minmax", skip: str | None = None,
             act_order: bool | None = None, alpha: float = 0.5) -> Module:
    """Returns a quantized copy of ``model``.

    ``scheme`` is a name from :data:`SCHEMES` or a :class:`Scheme`;
    ``method`` (``rtn``, ``gptq``, ``awq``) overrides the scheme's weight
    method. Schemes with static activations, GPTQ, AWQ and SmoothQuant need
    ``calibration`` (from :func:`calibrate`); ``calibrator`` picks how static
    activation ranges are chosen (``minmax``, ``percentile``, ``mse``,
    ``entropy``). ``skip`` is a regex of layer names to leave in float.
    Raises :class:`QuantOptError` when the model has nothing to quantize or
    a pass fails, with the diagnostics and their locations.
    """
    if isinstance(scheme, str):
        if scheme not in SCHEMES:
            raise ValueError(f"unknown scheme '{scheme}'; known: "
                             f"{', '.join(SCHEMES)}")
        scheme = SCHEMES[scheme]
    method = method or scheme.method
    if method not in ("rtn", "gptq", "awq"):
        raise ValueError(f"unknown method '{method}' (rtn, gptq, awq)")
    needs = []
    if method == "gptq":
        needs.append("hessian")
    if method == "awq":
        needs += ["channel_absmean", "hessian"]
    if scheme.smooth:
        needs.append("channel_absmax")
    if scheme.activations == "static":
        needs.append("minmax" if calibrator == "minmax" else "histogram")
    if needs and calibration is None:
        raise ValueError(f"quantize: scheme '{scheme.name}' with method "
                         f"'{method}' needs calibration=calibrate(model, ...)")
    missing = [s for s in needs if calibration and not calibration.has(s)]
    if missing:
        raise ValueError(f"quantize: the calibration lacks {missing}; "
                         f"calibrate with stats including them")
    _require_products(model)

    result = model.clone()
    activation_calibration = calibration
    if scheme.smooth:
        _warn(result.run_passes(
            f"qopt-smooth-quant{{alpha={_option(alpha)} "
            f"calibration={_option(calibration.path)}}}"))
        if scheme.activations == "static":
            # Smoothing changes the activations: calibrate the smoothed
            # model for their static ranges.
            activation_calibration = calibrate(
                result, calibration.batches,
                stats=("minmax",) if calibrator == "minmax" else ("histogram",),
                entry=calibration.entry, opt_level=calibration.opt_level)
    options = scheme.weights
    if method != "rtn":
        options += (f" method={method} "
                    f"calibration={_option(calibration.path)}")
        if scheme.act_order if act_order is None else act_order:
            options += " act-order=true"
    if skip:
        options += f" skip={_option(skip)}"
    passes = [f"qopt-weight-ptq{{{options}}}"]
    if scheme.activations == "static":
        apply = (f"calibration={_option(activation_calibration.path)} "
                 f"calibrator={calibrator}")
        if scheme.activation_storage:
            apply += f" storage={scheme.activation_storage}"
        passes.append(f"qopt-apply-calibration{{{apply}}}")
    elif scheme.activations == "dynamic":
        passes.append("qopt-dynamic-quant")
    passes.append("canonicalize")
    _warn(result.run_passes(",".join(passes)))
    if all(row.storage in ("f32", "f64", "f16", "bf16")
           for row in result.storage_report()):
        raise QuantOptError(f"quantize: no weight could be quantized with "
                            f"'{scheme.name}' (see the warnings of "
                            f"qopt-quantize-weights)")
    return result


def compile(model: Module, target: str = "cpu", *,
            entry: str | None = None, opt_level: int = 3) -> Executable:
    """Lowers and JIT-compiles ``model`` for ``target`` and returns a callable
    on NumPy arrays (or torch tensors), like ``quant-run``. ``opt_level`` is
    LLVM's: 3 (the default, as quant-run) is what the quantized GEMV loops
    are tuned for; 2 compiles MiniLM about 4x faster and runs it as fast
    (docs/perf/cpu.md)."""
    if target != "cpu":
        hint = (" (GPU code is built ahead of time: qopt-gpu-pipeline and "
                "quant-compile, docs/passes/gpu.md)" if target == "gpu"
                else "")
        raise ValueError(f"target '{target}' is not available from Python; "
                         f"supported: 'cpu'{hint}")
    return model.compile(entry, opt_level)


@dataclasses.dataclass(frozen=True)
class LayerError:
    """The error of one layer's output against the float model."""

    name: str
    relative_error: float  #: ‖y_q − y‖ / ‖y‖ over the batches
    cosine: float  #: cosine similarity of y_q and y over the batches


@dataclasses.dataclass
class Report:
    """What a quantized model costs and how far it is from the float one."""

    storage: list[StorageRow]
    layer_errors: list[LayerError]
    output_relative_error: float | None
    output_cosine: float | None
    gpu: str

    @property
    def total_bytes(self) -> int:
        return sum(r.total_bytes for r in self.storage)

    @property
    def parameters(self) -> int:
        return sum(math.prod(r.shape) for r in self.storage
                   if min(r.shape) > 0)

    def roofline(self, tokens: int = 1) -> dict:
        """Where one forward pass over ``tokens`` tokens sits on the chosen
        GPU's roofline: arithmetic intensity (FLOP per byte of weights) and
        the bound it gives, from the seed's model (docs/numerics-library.md).
        """
        spec = GPUS[self.gpu]
        flops = 2.0 * tokens * self.parameters
        intensity = flops / max(self.total_bytes, 1)
        peak = spec["int8_tflops" if self._is_int8() else "bf16_tflops"] * 1e12
        attainable = min(peak, spec["bandwidth_tbs"] * 1e12 * intensity)
        return {"gpu": self.gpu, "tokens": tokens, "flops": flops,
                "bytes": self.total_bytes, "intensity": intensity,
                "attainable_tflops": attainable / 1e12,
                "memory_bound": attainable < peak,
                "time_s": flops / attainable}

    def _is_int8(self) -> bool:
        return any(r.storage in ("i8", "f8E4M3FN", "f8E5M2")
                   for r in self.storage)

    def table(self) -> str:
        """The per-layer table as text."""
        errors = {e.name: e for e in self.layer_errors}
        lines = [f"{'layer':<44} {'shape':>11} {'storage':>9} "
                 f"{'bytes':>10} {'B/param':>8} {'rel.err':>8}"]
        for r in self.storage:
            e = errors.get(r.name)
            shape = "x".join(map(str, r.shape))
            lines.append(f"{r.name:<44} {shape:>11} "
                         f"{r.storage:>9} {r.total_bytes:>10} "
                         f"{r.bytes_per_param:>8.4f} "
                         f"{(f'{e.relative_error:.2%}' if e else '-'):>8}")
        return "\n".join(lines)

    def plot(self, directory: str | os.PathLike) -> list[str]:
        """Writes ``layer_error.png``, ``bytes_per_layer.png`` and
        ``roofline.png`` into ``directory``; returns their paths."""
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        os.makedirs(directory, exist_ok=True)
        paths = []
        names = [r.name for r in self.storage]

        def bars(labels, values, ylabel, title, filename):
            fig, ax = plt.subplots(figsize=(10, 4))
            ax.bar(range(len(values)), values)
            ax.set_xticks(range(len(values)), labels, rotation=90, fontsize=6)
            ax.set_ylabel(ylabel)
            ax.set_title(title)
            fig.tight_layout()
            paths.append(os.path.join(directory, filename))
            fig.savefig(paths[-1], dpi=120)
            plt.close(fig)

        if self.layer_errors:
            bars([e.name for e in self.layer_errors],
                 [100 * e.relative_error for e in self.layer_errors],
                 "relative output error (%)",
                 "Per-layer error against the float model", "layer_error.png")
        bars(names, [r.total_bytes / 2**20 for r in self.storage],
             "MiB (codes + scales + zero points)", "Weight bytes per layer",
             "bytes_per_layer.png")

        spec = GPUS[self.gpu]
        peak = spec["int8_tflops" if self._is_int8() else "bf16_tflops"]
        bw = spec["bandwidth_tbs"]
        x = np.logspace(-1, 4, 200)
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.loglog(x, np.minimum(peak, bw * x), label=f"{self.gpu} roofline")
        for tokens in (1, 16, 256, 4096):
            point = self.roofline(tokens)
            ax.plot(point["intensity"], point["attainable_tflops"], "o")
            ax.annotate(f"M={tokens}", (point["intensity"],
                                        point["attainable_tflops"]))
        ax.set_xlabel("FLOP per weight byte")
        ax.set_ylabel("attainable TFLOP/s")
        ax.set_title("Roofline position of the linear layers")
        ax.legend()
        fig.tight_layout()
        paths.append(os.path.join(directory, "roofline.png"))
        fig.savefig(paths[-1], dpi=120)
        plt.close(fig)
        return paths


#: Targets of the roofline model (the numerics library's, docs/numerics-library.md).
GPUS = {
    "h100": {"bandwidth_tbs": 3.35, "bf16_tflops": 989.0, "int8_tflops": 1979.0},
    "h200": {"bandwidth_tbs": 4.8, "bf16_tflops": 989.0, "int8_tflops": 1979.0},
    "a100": {"bandwidth_tbs": 2.039, "bf16_tflops": 312.0, "int8_tflops": 624.0},
}


def _returned_products(model: Module,
                       opt_level: int) -> tuple[Executable, list[str]]:
    exposed = model.transform("qopt-return-products")
    entry = exposed.functions[0] if len(exposed.functions) == 1 else None
    if entry is None:
        raise ValueError("report: the model must have exactly one function")
    names = json.loads(exposed._core.function_attribute(
        entry, "qopt.returned_products") or "[]")
    return exposed.compile(entry, opt_level), names


def report(model: Module, reference: Module | None = None,
           batches: Iterable | None = None, *, gpu: str = "h100",
           plots: str | os.PathLike | None = None,
           opt_level: int = 3) -> Report:
    """Storage of every weight of ``model`` and, given the float
    ``reference`` and input ``batches``, the error of every layer's output
    and of the model's output. ``plots`` names a directory for the figures
    (:meth:`Report.plot`); ``opt_level`` is LLVM's for the two models it
    compiles.

    Layer errors compare each product's output in both models on the same
    inputs, so they include the error propagated from earlier layers; a
    layer whose output AWQ or SmoothQuant rescaled (1/s folded into it)
    is compared in its rescaled form and shows that factor as error.
    """
    if gpu not in GPUS:
        raise ValueError(f"unknown gpu '{gpu}'; known: {', '.join(GPUS)}")
    storage = model.storage_report()
    layer_errors: list[LayerError] = []
    out_err = out_cos = None
    if reference is not None and batches is not None:
        batches = [_as_tuple(b) for b in batches]
        ref_exe, ref_names = _returned_products(reference, opt_level)
        q_exe, q_names = _returned_products(model, opt_level)
        n_out = len(ref_exe.result_types) - len(ref_names)
        # (name, reference result, quantized result) index triples; a name
        # that repeats pairs its k-th occurrences in both models.
        q_index: dict[str, list[int]] = {}
        for i, name in enumerate(q_names):
            q_index.setdefault(name, []).append(n_out + i)
        triples = [("<output>", i, i) for i in range(n_out)]
        seen: dict[str, int] = {}
        for i, name in enumerate(ref_names):
            k = seen.get(name, 0)
            seen[name] = k + 1
            if k < len(q_index.get(name, [])):
                triples.append((name, n_out + i, q_index[name][k]))
        sums: dict[str, list[float]] = {}
        for batch in batches:
            ref_out = ref_exe(*batch)
            q_out = q_exe(*batch)
            ref_out = ref_out if isinstance(ref_out, tuple) else (ref_out,)
            q_out = q_out if isinstance(q_out, tuple) else (q_out,)
            pairs = [(name, ref_out[r], q_out[q]) for name, r, q in triples]
            for name, r, q in pairs:
                r = np.asarray(r, np.float64)
                q = np.asarray(q, np.float64)
                acc = sums.setdefault(name, [0.0, 0.0, 0.0, 0.0])
                acc[0] += float(np.sum((q - r) ** 2))
                acc[1] += float(np.sum(r * r))
                acc[2] += float(np.sum(q * r))
                acc[3] += float(np.sum(q * q))

        def summary(acc):
            rel = math.sqrt(acc[0] / acc[1]) if acc[1] else 0.0
            cos = acc[2] / math.sqrt(acc[1] * acc[3]) if acc[1] and acc[3] else 1.0
            return rel, cos

        for name, acc in sums.items():
            if name == "<output>":
                out_err, out_cos = summary(acc)
            else:
                layer_errors.append(LayerError(name, *summary(acc)))
    result = Report(storage, layer_errors, out_err, out_cos, gpu)
    if plots is not None:
        result.plot(plots)
    return result
