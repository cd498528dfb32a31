"""Reference quantizers that quant-opt is compared against.

Every baseline takes the same FP32 sentence-embedding model, a
``torch.nn.Module`` called ``wrapped`` whose signature is::

    forward(input_ids: int64[B, S], attention_mask: int64[B, S]) -> float32[B, D]

(mean-pooled, L2-normalised embeddings), and returns something that can be
called on the same inputs:

* the torchao baselines return a quantized deep copy of the module (run it
  with torch tensors, on the CPU);
* the ONNX Runtime baselines export the model to ONNX, quantize the file and
  return an :class:`OrtEmbedder`, which is called with NumPy arrays and returns
  a NumPy array.

Baselines that cannot run with the installed packages raise
:class:`BaselineUnavailable`, giving the reason, so that a benchmark can skip
them.

Tested with torch 2.10.0, torchao 0.16.0, onnx 1.23.2, onnxruntime 1.32.0 and
onnxscript 0.7.2 (Python 3.11).

The module imports only the standard library and NumPy at import time; torch,
torchao, onnx and onnxruntime are imported inside the functions that use them.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import io
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence, Tuple, Union

import numpy as np

if TYPE_CHECKING:  # pragma: no cover - for type checkers only
    import torch

__all__ = [
    "BaselineUnavailable",
    "OrtEmbedder",
    "cosine",
    "export_onnx",
    "ort_dynamic_int8",
    "ort_int4_weight_only",
    "ort_static_w8a8",
    "torchao_int4_weight_only",
    "torchao_int8_dynamic",
]

#: Names of the ONNX graph inputs and output written by :func:`export_onnx`.
INPUT_NAMES: Tuple[str, str] = ("input_ids", "attention_mask")
OUTPUT_NAME: str = "embedding"

ArrayLike = Union[np.ndarray, "torch.Tensor"]
ExampleInputs = Tuple[ArrayLike, ArrayLike]
PathLike = Union[str, "os.PathLike[str]"]


class BaselineUnavailable(RuntimeError):
    """A baseline cannot run here (missing package, no CPU kernel, ...).

    The message says why; benchmarks are expected to catch this exception,
    report the reason and carry on with the other baselines.
    """


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def _import(module: str, baseline: str) -> Any:
    """Import ``module`` or raise :class:`BaselineUnavailable` for ``baseline``."""
    try:
        return importlib.import_module(module)
    except Exception as exc:  # ImportError, or a broken install raising anything
        raise BaselineUnavailable(
            f"{baseline}: cannot import {module!r}: {type(exc).__name__}: {exc}"
        ) from exc


def _as_int64_tensor(x: ArrayLike) -> "torch.Tensor":
    """Return ``x`` (NumPy array or tensor) as a contiguous int64 CPU tensor."""
    import torch

    if isinstance(x, torch.Tensor):
        return x.detach().to(device="cpu", dtype=torch.int64).contiguous()
    return torch.from_numpy(np.ascontiguousarray(np.asarray(x, dtype=np.int64)))


def _as_int64_array(x: ArrayLike) -> np.ndarray:
    """Return ``x`` (NumPy array or tensor) as a contiguous int64 NumPy array."""
    if hasattr(x, "detach"):  # torch.Tensor, without importing torch
        x = x.detach().cpu().numpy()
    return np.ascontiguousarray(np.asarray(x, dtype=np.int64))


def _cpu_copy(wrapped: "torch.nn.Module") -> "torch.nn.Module":
    """Deep copy of ``wrapped`` on the CPU, in eval mode."""
    model = copy.deepcopy(wrapped)
    model = model.to("cpu")
    model.eval()
    return model


def _linear_filter(group_size: int) -> Callable[["torch.nn.Module", str], bool]:
    """``quantize_`` filter: nn.Linear layers whose in_features divide by group_size."""
    import torch

    def _filter(module: "torch.nn.Module", fqn: str) -> bool:
        return isinstance(module, torch.nn.Linear) and module.in_features % group_size == 0

    return _filter


# --------------------------------------------------------------------------
# torchao
# --------------------------------------------------------------------------


def torchao_int8_dynamic(wrapped: "torch.nn.Module") -> "torch.nn.Module":
    """Quantize a copy of ``wrapped`` with torchao int8 dynamic activation + int8 weight.

    Every ``nn.Linear`` gets symmetric per-channel (per output row) int8
    weights, and its input activations are quantized to int8 per token at run
    time (``quantize_(m, Int8DynamicActivationInt8WeightConfig())``). Other
    layers (embeddings, LayerNorm, softmax) stay in FP32.

    Args:
        wrapped: FP32 embedding model; it is not modified.

    Returns:
        A quantized deep copy on the CPU, in eval mode, with the same
        ``forward(input_ids, attention_mask)`` signature. The attribute
        ``quant_opt_baseline`` names the torchao config used.

    Raises:
        BaselineUnavailable: torchao is missing or its config cannot be applied.
    """
    _import("torch", "torchao_int8_dynamic")
    quantization = _import("torchao.quantization", "torchao_int8_dynamic")
    config_cls = getattr(quantization, "Int8DynamicActivationInt8WeightConfig", None)
    if config_cls is None:
        raise BaselineUnavailable(
            "torchao_int8_dynamic: torchao.quantization has no "
            "Int8DynamicActivationInt8WeightConfig (torchao too old?)"
        )
    model = _cpu_copy(wrapped)
    try:
        quantization.quantize_(model, config_cls())
    except Exception as exc:
        raise BaselineUnavailable(
            f"torchao_int8_dynamic: quantize_ failed: {type(exc).__name__}: {exc}"
        ) from exc
    model.quant_opt_baseline = "torchao Int8DynamicActivationInt8WeightConfig()"
    return model


def _int4_candidates(quantization: Any, group_size: int) -> list:
    """(description, config factory) pairs for torchao int4 weight-only, best first."""
    import torch

    candidates = []
    int4_cls = getattr(quantization, "Int4WeightOnlyConfig", None)
    if int4_cls is not None:
        # A CPU packing of the tinygemm-style int4 kernel, where this torchao has one.
        try:
            from torchao.quantization.quantize_.workflows.int4.int4_packing_format import (
                Int4PackingFormat,
            )
        except Exception:  # layout module moved or missing
            Int4PackingFormat = None  # noqa: N806
        for name in ("OPAQUE", "OPAQUE_CPU"):
            fmt = getattr(Int4PackingFormat, name, None) if Int4PackingFormat else None
            if fmt is not None:
                candidates.append(
                    (
                        f"Int4WeightOnlyConfig(group_size={group_size}, "
                        f"int4_packing_format={fmt.value!r})",
                        lambda fmt=fmt: int4_cls(group_size=group_size, int4_packing_format=fmt),
                    )
                )
        # The plain layout; in torchao 0.16 it needs the CUDA-only mslk package.
        candidates.append(
            (
                f"Int4WeightOnlyConfig(group_size={group_size})",
                lambda: int4_cls(group_size=group_size),
            )
        )
    intx_cls = getattr(quantization, "IntxWeightOnlyConfig", None)
    if intx_cls is not None:
        from torchao.quantization.granularity import PerGroup

        candidates.append(
            (
                f"IntxWeightOnlyConfig(weight_dtype=torch.int4, granularity=PerGroup({group_size}))",
                lambda: intx_cls(weight_dtype=torch.int4, granularity=PerGroup(group_size)),
            )
        )
    return candidates


def _probe_config(quantization: Any, make_config: Callable[[], Any], group_size: int) -> None:
    """Quantize and run a small ``nn.Linear`` on the CPU; raise if either fails."""
    import torch

    probe = torch.nn.Sequential(torch.nn.Linear(2 * group_size, 16)).eval()
    quantization.quantize_(probe, make_config())
    with torch.no_grad():
        out = probe(torch.randn(3, 2 * group_size))
    if out.shape != (3, 16) or not bool(torch.isfinite(out).all()):
        raise RuntimeError(f"probe output wrong: shape {tuple(out.shape)}")


def torchao_int4_weight_only(
    wrapped: "torch.nn.Module", group_size: int = 128
) -> "torch.nn.Module":
    """Quantize a copy of ``wrapped`` with torchao int4 weight-only, groups of ``group_size``.

    Weights of every ``nn.Linear`` whose ``in_features`` divides by
    ``group_size`` are quantized to symmetric int4 with one scale per group of
    ``group_size`` input channels; activations stay FP32. Several torchao
    configs are tried in order, each first probed on a small ``nn.Linear`` on
    the CPU, and the first one that runs is used:

    1. ``Int4WeightOnlyConfig`` with a CPU packing format, if this torchao
       has one;
    2. ``Int4WeightOnlyConfig`` with the plain layout (CUDA only in torchao
       0.16: it needs the ``mslk`` package);
    3. ``IntxWeightOnlyConfig(weight_dtype=torch.int4,
       granularity=PerGroup(group_size))`` — the one that runs on the CPU
       with torch 2.10 / torchao 0.16. It keeps int4 values unpacked in int8
       storage and dequantizes on the fly, so it measures int4 accuracy, not
       int4 speed or size.

    Args:
        wrapped: FP32 embedding model; it is not modified.
        group_size: input channels per quantization group (MiniLM's
            in_features, 384 and 1536, both divide by 128).

    Returns:
        A quantized deep copy on the CPU, in eval mode. The attribute
        ``quant_opt_baseline`` names the torchao config used.

    Raises:
        BaselineUnavailable: torchao is missing, or no int4 weight-only
            config runs on the CPU; the message lists each config's error.
    """
    _import("torch", "torchao_int4_weight_only")
    quantization = _import("torchao.quantization", "torchao_int4_weight_only")
    errors = []
    for description, make_config in _int4_candidates(quantization, group_size):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _probe_config(quantization, make_config, group_size)
        except Exception as exc:
            errors.append(f"{description}: {type(exc).__name__}: {exc}")
            continue
        model = _cpu_copy(wrapped)
        try:
            quantization.quantize_(
                model, make_config(), filter_fn=_linear_filter(group_size)
            )
        except Exception as exc:
            errors.append(f"{description} (on the model): {type(exc).__name__}: {exc}")
            continue
        model.quant_opt_baseline = f"torchao {description}"
        return model
    raise BaselineUnavailable(
        "torchao_int4_weight_only: no torchao int4 weight-only config runs on the CPU: "
        + ("; ".join(errors) if errors else "torchao has none of the int4 configs")
    )


# --------------------------------------------------------------------------
# ONNX export and ONNX Runtime
# --------------------------------------------------------------------------


def export_onnx(
    wrapped: "torch.nn.Module",
    example_inputs: ExampleInputs,
    path: PathLike,
    opset: int = 18,
    dynamic_seq: bool = True,
) -> Path:
    """Export ``wrapped`` to a single ONNX file with a dynamic batch axis.

    Uses the torch.export-based exporter (``torch.onnx.export(...,
    dynamo=True)``, which needs ``onnxscript``). The batch axis is always
    dynamic; the sequence axis is dynamic too when ``dynamic_seq`` is true
    and the exporter manages it. If the dynamo exporter fails, the legacy
    TorchScript exporter (``dynamo=False``) is tried with the same dynamic
    axes. The graph has inputs ``input_ids`` and ``attention_mask`` (int64)
    and output ``embedding`` (float32). Weights are stored inside the file
    (the model must stay under protobuf's 2 GiB limit).

    Args:
        wrapped: FP32 embedding model.
        example_inputs: ``(input_ids, attention_mask)`` as int64 tensors or
            NumPy arrays, used for tracing.
        path: ONNX file to write; its folder is created.
        opset: ONNX opset (at least 17; 18 is the dynamo exporter's own).
        dynamic_seq: also make the sequence axis dynamic.

    Returns:
        The path written.

    Raises:
        BaselineUnavailable: torch or onnxscript is missing, or both exporters
            fail (the message has both errors).
    """
    torch = _import("torch", "export_onnx")
    if opset < 17:
        raise ValueError(f"opset must be >= 17, got {opset}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = _cpu_copy(wrapped)
    args = tuple(_as_int64_tensor(x) for x in example_inputs)
    if len(args) != 2:
        raise ValueError("example_inputs must be (input_ids, attention_mask)")

    shape_plans = [True, False] if dynamic_seq else [False]
    errors = []
    sink = io.StringIO()  # the exporters print progress; keep the library silent

    def export(**options: Any) -> None:
        with warnings.catch_warnings(), contextlib.redirect_stdout(sink):
            warnings.simplefilter("ignore")
            torch.onnx.export(model, args, str(path), input_names=list(INPUT_NAMES),
                              output_names=[OUTPUT_NAME], opset_version=opset, **options)

    for seq_dynamic in shape_plans:
        batch = torch.export.Dim("batch", min=1, max=4096)
        axes = {0: batch}
        if seq_dynamic:
            axes[1] = torch.export.Dim("seq", min=2, max=4096)
        try:
            export(
                dynamic_shapes={INPUT_NAMES[0]: dict(axes), INPUT_NAMES[1]: dict(axes)},
                dynamo=True,
                external_data=False,
                verbose=False,
            )
            return path
        except Exception as exc:
            errors.append(
                f"dynamo exporter (dynamic seq={seq_dynamic}): {type(exc).__name__}: {exc}"
            )

    dyn = {0: "batch", 1: "seq"} if dynamic_seq else {0: "batch"}
    try:
        export(
            dynamic_axes={INPUT_NAMES[0]: dyn, INPUT_NAMES[1]: dyn, OUTPUT_NAME: {0: "batch"}},
            dynamo=False,
        )
        return path
    except Exception as exc:
        errors.append(f"TorchScript exporter: {type(exc).__name__}: {exc}")
    raise BaselineUnavailable("ONNX export failed: " + " | ".join(errors))


class OrtEmbedder:
    """Callable wrapping an ONNX Runtime session for an exported embedding model.

    ``embedder(input_ids, attention_mask)`` takes int64 (or castable) NumPy
    arrays of shape ``[B, S]`` and returns the float32 ``[B, D]`` embeddings.

    Attributes:
        model_path: the ONNX file the session runs.
        session: the ``onnxruntime.InferenceSession``.
        description: what quantization produced the model.
    """

    def __init__(self, model_path: PathLike, description: str, intra_op_num_threads: int = 2):
        """Open ``model_path`` on the CPU execution provider.

        Args:
            model_path: ONNX file with inputs ``input_ids`` and ``attention_mask``.
            description: human-readable name of the quantization applied.
            intra_op_num_threads: ORT intra-op thread count.
        """
        ort = _import("onnxruntime", description)
        options = ort.SessionOptions()
        options.intra_op_num_threads = intra_op_num_threads
        options.inter_op_num_threads = 1
        self.model_path = Path(model_path)
        self.description = description
        self.session = ort.InferenceSession(
            str(self.model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._input_names = [i.name for i in self.session.get_inputs()]

    def __call__(self, input_ids: ArrayLike, attention_mask: ArrayLike) -> np.ndarray:
        """Run the model; returns float32 embeddings of shape ``[B, D]``."""
        feeds = dict(
            zip(self._input_names, (_as_int64_array(input_ids), _as_int64_array(attention_mask)))
        )
        return self.session.run(None, feeds)[0]

    def __repr__(self) -> str:
        return f"OrtEmbedder({self.description!r}, {str(self.model_path)!r})"


def _export_fp32(wrapped: "torch.nn.Module", example_inputs: ExampleInputs, workdir: PathLike) -> Path:
    """Export the FP32 model to ``workdir/model_fp32.onnx`` (overwritten on each call)."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    return export_onnx(wrapped, example_inputs, workdir / "model_fp32.onnx")


def _weight_matmul_nodes(model_path: Path) -> list:
    """Names of MatMul/Gemm nodes whose second input is a constant initializer (linear layers)."""
    onnx = _import("onnx", "ort baselines")
    model = onnx.load(str(model_path))
    initializers = {t.name for t in model.graph.initializer}
    constants = {
        out for n in model.graph.node if n.op_type == "Constant" for out in n.output
    }
    names = []
    for index, node in enumerate(model.graph.node):
        if node.op_type not in ("MatMul", "Gemm") or len(node.input) < 2:
            continue
        if node.input[1] in initializers or node.input[1] in constants:
            if not node.name:
                raise BaselineUnavailable(f"unnamed {node.op_type} node #{index} in {model_path}")
            names.append(node.name)
    return names


def ort_dynamic_int8(
    wrapped: "torch.nn.Module", example_inputs: ExampleInputs, workdir: PathLike
) -> OrtEmbedder:
    """ONNX Runtime dynamic int8 quantization (``quantize_dynamic``).

    Exports ``wrapped`` to ONNX (:func:`export_onnx`), then quantizes the
    weights of every MatMul/Gemm with a constant weight to per-channel
    symmetric int8 (``QInt8``, ``per_channel=True``); activations are
    quantized to uint8 at run time (``MatMulInteger`` + ``DynamicQuantizeLinear``).
    MatMuls between two activations (attention scores) stay FP32.

    Args:
        wrapped: FP32 embedding model.
        example_inputs: ``(input_ids, attention_mask)`` for tracing.
        workdir: folder for ``model_fp32.onnx`` and ``model_dynamic_int8.onnx``.

    Returns:
        An :class:`OrtEmbedder` (CPU provider, 2 intra-op threads).

    Raises:
        BaselineUnavailable: onnx, onnxruntime or the exporter is missing or fails.
    """
    _import("onnx", "ort_dynamic_int8")
    quant = _import("onnxruntime.quantization", "ort_dynamic_int8")
    fp32 = _export_fp32(wrapped, example_inputs, workdir)
    out = Path(workdir) / "model_dynamic_int8.onnx"
    try:
        quant.quantize_dynamic(
            str(fp32),
            str(out),
            op_types_to_quantize=["MatMul", "Gemm"],
            per_channel=True,
            weight_type=quant.QuantType.QInt8,
            extra_options={"MatMulConstBOnly": True},
        )
    except Exception as exc:
        raise BaselineUnavailable(
            f"ort_dynamic_int8: quantize_dynamic failed: {type(exc).__name__}: {exc}"
        ) from exc
    return OrtEmbedder(out, "ORT quantize_dynamic int8 (per-channel QInt8 weights)")


class _BatchReader:
    """``onnxruntime.quantization.CalibrationDataReader`` over (ids, mask) pairs."""

    def __init__(self, batches: Iterable[Tuple[ArrayLike, ArrayLike]], input_names: Sequence[str]):
        self._feeds = [
            {input_names[0]: _as_int64_array(ids), input_names[1]: _as_int64_array(mask)}
            for ids, mask in batches
        ]
        self._it = iter(self._feeds)

    def get_next(self) -> Any:
        return next(self._it, None)

    def rewind(self) -> None:
        self._it = iter(self._feeds)


def ort_static_w8a8(
    wrapped: "torch.nn.Module",
    example_inputs: ExampleInputs,
    calibration_batches: Sequence[Tuple[np.ndarray, np.ndarray]],
    workdir: PathLike,
    quantize_matmul_outputs: bool = False,
    activation_type: str = "int8",
) -> OrtEmbedder:
    """ONNX Runtime static W8A8 quantization of the linear layers (``quantize_static``, QDQ).

    Exports ``wrapped`` to ONNX, then inserts QuantizeLinear/DequantizeLinear
    pairs (QDQ format) for the MatMul/Gemm nodes that have a constant weight,
    i.e. the model's linear layers: int8 per-channel symmetric weights and
    int8 (asymmetric) activations whose ranges come from MinMax calibration
    over ``calibration_batches``. Attention-score MatMuls (activation x
    activation), LayerNorm, softmax and GELU stay FP32 — the like-for-like
    comparison with a compiler that quantizes the linear layers.

    Args:
        wrapped: FP32 embedding model.
        example_inputs: ``(input_ids, attention_mask)`` for tracing.
        calibration_batches: list of ``(input_ids, attention_mask)`` NumPy
            pairs run through the model to collect activation ranges.
        workdir: folder for ``model_fp32.onnx`` and ``model_static_w8a8.onnx``.
        quantize_matmul_outputs: also put a QDQ pair on each MatMul's output
            (ORT's default). Off by default: a linear layer's int32
            accumulator is then rescaled straight to FP32, as in quant-opt.
            With it on, MiniLM-L6's mean cosine to FP32 drops from ~0.989
            to ~0.943.
        activation_type: ``"int8"`` (asymmetric int8, the default) or
            ``"uint8"``. Accuracy is the same (both have a zero point), but
            ORT 1.32's x86 CPU provider fuses only some int8-activation
            DQ->MatMul groups into integer kernels and runs the rest as
            dequantize + FP32 MatMul, while with ``"uint8"`` (U8S8) it fuses
            all of them into ``MatMulIntegerToFloat``: use ``"uint8"`` for
            timing comparisons.

    Returns:
        An :class:`OrtEmbedder` (CPU provider, 2 intra-op threads).

    Raises:
        BaselineUnavailable: onnx, onnxruntime or the exporter is missing or
            fails, or the graph has no MatMul/Gemm with constant weights.
        ValueError: ``calibration_batches`` is empty.
    """
    _import("onnx", "ort_static_w8a8")
    quant = _import("onnxruntime.quantization", "ort_static_w8a8")
    if not calibration_batches:
        raise ValueError("calibration_batches is empty")
    fp32 = _export_fp32(wrapped, example_inputs, workdir)
    act_types = {"int8": quant.QuantType.QInt8, "uint8": quant.QuantType.QUInt8}
    if activation_type not in act_types:
        raise ValueError(f"activation_type must be 'int8' or 'uint8', got {activation_type!r}")
    nodes = _weight_matmul_nodes(fp32)
    if not nodes:
        raise BaselineUnavailable(f"ort_static_w8a8: no MatMul/Gemm with constant weights in {fp32}")
    out = Path(workdir) / "model_static_w8a8.onnx"
    extra = {"ActivationSymmetric": False, "WeightSymmetric": True}
    if not quantize_matmul_outputs:
        extra["OpTypesToExcludeOutputQuantization"] = ["MatMul", "Gemm"]

    class _Reader(_BatchReader, quant.CalibrationDataReader):
        pass

    try:
        quant.quantize_static(
            str(fp32),
            str(out),
            _Reader(calibration_batches, INPUT_NAMES),
            quant_format=quant.QuantFormat.QDQ,
            op_types_to_quantize=["MatMul", "Gemm"],
            nodes_to_quantize=nodes,
            per_channel=True,
            activation_type=act_types[activation_type],
            weight_type=quant.QuantType.QInt8,
            calibrate_method=quant.CalibrationMethod.MinMax,
            extra_options=extra,
        )
    except Exception as exc:
        raise BaselineUnavailable(
            f"ort_static_w8a8: quantize_static failed: {type(exc).__name__}: {exc}"
        ) from exc
    return OrtEmbedder(
        out,
        "ORT quantize_static QDQ W8A8 (per-channel int8 weights, "
        f"MinMax {activation_type} activations"
        + (", MatMul outputs quantized)" if quantize_matmul_outputs else ")"),
    )


def ort_int4_weight_only(
    wrapped: "torch.nn.Module",
    example_inputs: ExampleInputs,
    workdir: PathLike,
    group_size: int = 128,
) -> OrtEmbedder:
    """ONNX Runtime int4 weight-only quantization (``MatMulNBitsQuantizer``).

    Exports ``wrapped`` to ONNX, then replaces every MatMul with a constant
    weight by a ``MatMulNBits`` node holding symmetric 4-bit weights, one
    scale per block of ``group_size`` input channels. Activations stay FP32
    (``accuracy_level`` unset).

    Args:
        wrapped: FP32 embedding model.
        example_inputs: ``(input_ids, attention_mask)`` for tracing.
        workdir: folder for ``model_fp32.onnx`` and ``model_int4_weight_only.onnx``.
        group_size: block size along the input channels (a power of two, >= 16).

    Returns:
        An :class:`OrtEmbedder` (CPU provider, 2 intra-op threads).

    Raises:
        BaselineUnavailable: onnxruntime has no ``matmul_nbits_quantizer``,
            or the export or the quantization fails.
    """
    onnx = _import("onnx", "ort_int4_weight_only")
    nbits = _import("onnxruntime.quantization.matmul_nbits_quantizer", "ort_int4_weight_only")
    quantizer_cls = getattr(nbits, "MatMulNBitsQuantizer", None)
    if quantizer_cls is None:
        raise BaselineUnavailable(
            "ort_int4_weight_only: onnxruntime.quantization.matmul_nbits_quantizer "
            "has no MatMulNBitsQuantizer"
        )
    fp32 = _export_fp32(wrapped, example_inputs, workdir)
    out = Path(workdir) / "model_int4_weight_only.onnx"
    try:
        quantizer = quantizer_cls(
            onnx.load(str(fp32)),
            bits=4,
            block_size=group_size,
            is_symmetric=True,
            accuracy_level=None,
        )
        quantizer.process()
        quantizer.model.save_model_to_file(str(out), use_external_data_format=False)
    except Exception as exc:
        raise BaselineUnavailable(
            f"ort_int4_weight_only: MatMulNBitsQuantizer failed: {type(exc).__name__}: {exc}"
        ) from exc
    return OrtEmbedder(out, f"ORT MatMulNBits int4 weight-only (symmetric, block {group_size})")


# --------------------------------------------------------------------------
# metrics
# --------------------------------------------------------------------------


def cosine(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """Per-row cosine similarity of two ``[N, D]`` arrays (or tensors).

    Computed in float64; a zero row gives 0 rather than NaN.

    Args:
        a: embeddings, shape ``[N, D]``.
        b: embeddings, shape ``[N, D]``.

    Returns:
        float64 array of shape ``[N]``.

    Raises:
        ValueError: the shapes differ or are not 2-D.
    """
    a = np.asarray(a.detach().cpu().numpy() if hasattr(a, "detach") else a, dtype=np.float64)
    b = np.asarray(b.detach().cpu().numpy() if hasattr(b, "detach") else b, dtype=np.float64)
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(f"cosine needs two [N, D] arrays of one shape, got {a.shape} and {b.shape}")
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    dots = np.einsum("ij,ij->i", a, b)
    return np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)
