"""MLIR modules, pass pipelines and JIT-compiled functions, in-process.

A thin, typed layer over the native extension ``quant_opt._core``: every
diagnostic the compiler emits surfaces as :class:`QuantOptError` with its
location, and arrays cross into compiled code without copies when their
layout allows.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from typing import NamedTuple, Sequence

import numpy as np

from . import _core

__all__ = [
    "Diagnostic",
    "Executable",
    "Module",
    "QuantOptError",
    "StorageRow",
]


class Diagnostic(NamedTuple):
    """One compiler diagnostic."""

    severity: str  #: ``error``, ``warning``, ``note`` or ``remark``
    location: str  #: ``layer name (file:line:col)``, ``file:line:col`` or ``""``
    message: str


class QuantOptError(RuntimeError):
    """A compilation step failed.

    ``str(error)`` names the step and lists each error with its location;
    :attr:`diagnostics` holds every diagnostic emitted, notes included.
    """

    def __init__(self, message: str, diagnostics: Sequence[Diagnostic] = ()):
        super().__init__(message)
        self.diagnostics = [Diagnostic(*d) for d in diagnostics]

    @property
    def location(self) -> str:
        """Location of the first error (``""`` when it has none)."""
        for d in self.diagnostics:
            if d.severity == "error" and d.location:
                return d.location
        return ""


def _raise(error: _core.DiagnosticError) -> None:
    message, diagnostics = error.args
    raise QuantOptError(message, diagnostics) from None


@dataclasses.dataclass(frozen=True)
class StorageRow:
    """One weight of :meth:`Module.storage_report`."""

    name: str
    #: ``(N, K)`` (batch dimensions first for batched weights; -1 where
    #: dynamic). Float weights not yet quantized keep their constant's layout.
    shape: tuple[int, ...]
    storage: str  #: ``f32``, ``i8``, ``i4``, ``f8E4M3FN``, ...
    granularity: str  #: ``per-tensor``, ``per-channel``, ``group 128``
    code_bytes: int
    scale_bytes: int
    zero_bytes: int
    bytes_per_param: float

    @property
    def total_bytes(self) -> int:
        return self.code_bytes + self.scale_bytes + self.zero_bytes


class Module:
    """A verified MLIR module with quant-opt's dialects and passes.

    Build one with :meth:`parse`, :meth:`load` or :func:`quant_opt.from_torch`.
    Transformations return new modules unless their name says *in place*.
    """

    def __init__(self, core: _core.Module):
        self._core = core

    @staticmethod
    def parse(text: str, source_name: str = "<string>") -> "Module":
        """Parses and verifies MLIR text (diagnostics name ``source_name``)."""
        try:
            return Module(_core.Module.parse(text, source_name))
        except _core.DiagnosticError as e:
            _raise(e)

    @staticmethod
    def load(path: str | os.PathLike) -> "Module":
        """Parses and verifies an MLIR file."""
        try:
            return Module(_core.Module.load(os.fspath(path)))
        except _core.DiagnosticError as e:
            _raise(e)

    def run_passes(self, pipeline: str) -> list[Diagnostic]:
        """Runs a pass pipeline *in place*, as ``quant-opt --pass-pipeline``.

        ``pipeline`` is a textual pipeline; a bare pass list such as
        ``"qopt-weight-ptq{storage=i4 group-size=128},canonicalize"`` is
        anchored on the module. Returns the warnings and remarks; raises
        :class:`QuantOptError` when a pass fails.
        """
        try:
            return [Diagnostic(*d) for d in self._core.run_passes(pipeline)]
        except _core.DiagnosticError as e:
            _raise(e)

    def transform(self, pipeline: str) -> "Module":
        """A copy of the module with ``pipeline`` applied."""
        result = self.clone()
        result.run_passes(pipeline)
        return result

    def clone(self) -> "Module":
        return Module(self._core.clone())

    @property
    def functions(self) -> list[str]:
        """Public functions with bodies, in order."""
        return list(self._core.functions)

    def to_string(self, debug_info: bool = False,
                  large_elements_limit: int | None = None) -> str:
        """The module as text; ``large_elements_limit`` elides big constants."""
        limit = -1 if large_elements_limit is None else large_elements_limit
        return self._core.to_string(debug_info, limit)

    def __str__(self) -> str:
        return self.to_string()

    def save(self, path: str | os.PathLike, debug_info: bool = True) -> None:
        """Writes the module as text that ``quant-opt`` and ``quant-run`` read."""
        try:
            self._core.save(os.fspath(path), debug_info)
        except _core.DiagnosticError as e:
            _raise(e)

    def storage_report(self) -> list[StorageRow]:
        """One row per matrix-product weight (``qopt-storage-report``)."""
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "report.txt")
            # An analysis: the pass leaves the module as it is.
            self.run_passes(f"qopt-storage-report{{file={path}}}")
            with open(path) as f:
                lines = f.read().splitlines()
        rows = []
        for line in lines[1:]:
            fields = line.split()
            if not fields or fields[0] == "total" or line.startswith("total"):
                continue
            # name  NxK  storage  granularity(1-2 words)  codes scales zeros bpp
            name, shape, storage = fields[0], fields[1], fields[2]
            codes, scales, zeros, bpp = fields[-4:]
            granularity = " ".join(fields[3:-4])
            dims = tuple(-1 if v == "?" else int(v) for v in shape.split("x"))
            rows.append(StorageRow(name, dims, storage, granularity,
                                   int(codes), int(scales), int(zeros),
                                   float(bpp)))
        return rows

    def compile(self, entry: str | None = None, opt_level: int = 3) -> "Executable":
        """Lowers a copy with ``qopt-cpu-pipeline`` and JIT-compiles ``entry``
        (the only public function when omitted)."""
        if entry is None:
            functions = self.functions
            if len(functions) != 1:
                raise ValueError(f"name the entry: the module has functions "
                                 f"{functions}")
            entry = functions[0]
        try:
            return Executable(_core.Executable(self._core, entry, opt_level),
                              entry)
        except _core.DiagnosticError as e:
            _raise(e)


# Element types whose host arrays NumPy cannot describe by itself travel as
# their raw bits and are viewed as ml_dtypes types.
def _ml_dtype(element: str):
    if element in ("bf16", "f8E4M3FN", "f8E5M2"):
        import ml_dtypes
        return {"bf16": ml_dtypes.bfloat16,
                "f8E4M3FN": ml_dtypes.float8_e4m3fn,
                "f8E5M2": ml_dtypes.float8_e5m2}[element]
    return None


def _raw_dtype(t: "TensorType"):
    """The unsigned integer dtype an ml_dtypes-typed argument travels as."""
    if _ml_dtype(t.element) is None:
        return None
    return np.dtype(np.uint8 if t.dtype.itemsize == 1 else np.uint16)


_NUMPY_TYPES = {
    "f32": np.float32, "f64": np.float64, "f16": np.float16,
    "i1": np.bool_, "i4": np.int8, "ui4": np.uint8, "si4": np.int8,
    "i8": np.int8, "ui8": np.uint8, "si8": np.int8, "i16": np.int16,
    "ui16": np.uint16, "si16": np.int16, "i32": np.int32, "ui32": np.uint32,
    "si32": np.int32, "i64": np.int64, "ui64": np.uint64, "si64": np.int64,
}

# 4-bit codes travel one a byte; values outside the type's range are an
# error (as quant-run reports them), not silently wrapped.
_SUB_BYTE_RANGES = {"i4": (-8, 7), "si4": (-8, 7), "ui4": (0, 15)}


class TensorType(NamedTuple):
    shape: tuple[int, ...]
    element: str  #: MLIR element type, e.g. ``f32``, ``i8``, ``f8E4M3FN``

    @property
    def dtype(self) -> np.dtype:
        """The NumPy dtype of arrays of this type (ml_dtypes for FP8, bf16)."""
        special = _ml_dtype(self.element)
        if special is not None:
            return np.dtype(special)
        return np.dtype(_NUMPY_TYPES[self.element])


class Executable:
    """A JIT-compiled function: call it with NumPy arrays (or anything
    ``np.asarray`` takes); it returns one array, or a tuple for several
    results. The same compiled code as ``quant-run``."""

    def __init__(self, core: _core.Executable, entry: str):
        self._core = core
        self.entry = entry
        self.input_types = [TensorType(tuple(s), e) for s, e in core.input_types]
        self.result_types = [TensorType(tuple(s), e) for s, e in core.result_types]
        # Per argument: the dtype callers pass, the raw-bits dtype it
        # travels as (uint8 / uint16 for ml_dtypes types, else None) and the
        # range of 4-bit codes (else None); per result, the ml_dtypes type
        # to view it as. Worked out once here, not on every call.
        self._inputs = [(t.dtype, _raw_dtype(t), _SUB_BYTE_RANGES.get(t.element))
                        for t in self.input_types]
        self._results = [_ml_dtype(t.element) for t in self.result_types]

    @property
    def observer_names(self) -> list[str]:
        """Names of the ``qopt.observe`` ops this function records into."""
        return list(self._core.observer_names)

    def __call__(self, *args):
        if len(args) != len(self.input_types):
            raise TypeError(f"{self.entry} takes {len(self.input_types)} "
                            f"array(s), got {len(args)}")
        arrays = []
        for i, (arg, (dtype, raw, limits)) in enumerate(zip(args, self._inputs)):
            if hasattr(arg, "detach"):  # a torch tensor
                arg = arg.detach().cpu().numpy()
            array = np.asarray(arg)
            if array.dtype != dtype:
                t = self.input_types[i]
                raise TypeError(f"argument {i}: expected {dtype} for "
                                f"tensor<{'x'.join(map(str, t.shape))}x"
                                f"{t.element}>, got {array.dtype}")
            if (limits is not None and array.size and
                    (array.min() < limits[0] or array.max() > limits[1])):
                bad = np.flatnonzero((array < limits[0]) | (array > limits[1]))
                raise ValueError(
                    f"argument {i}: element {int(bad[0])} is "
                    f"{array.reshape(-1)[bad[0]]}, outside the "
                    f"{self.input_types[i].element} range "
                    f"[{limits[0]}, {limits[1]}]")
            if not array.flags.c_contiguous:  # (ascontiguousarray makes 0-d 1-d)
                array = array.copy(order="C")
            if raw is not None:
                array = array.view(raw)
            arrays.append(array)
        try:
            results = self._core(*arrays)
        except _core.DiagnosticError as e:
            _raise(e)
        out = [array if special is None else array.view(special)
               for array, special in zip(results, self._results)]
        return out[0] if len(out) == 1 else tuple(out)
