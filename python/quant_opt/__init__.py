"""quant-opt from Python: import PyTorch models, calibrate, quantize, compile
and report, in-process over the same C++ passes as the ``quant-opt`` and
``quant-run`` tools.

Typical use::

    import quant_opt as qo

    model = qo.from_torch(torch_model, (ids, mask))
    calibration = qo.calibrate(model, batches)
    int8 = qo.quantize(model, "w8a8", calibration=calibration)
    run = qo.compile(int8)                 # a callable on NumPy arrays
    print(qo.report(int8, model, held_out).table())

See docs/python.md for the guide and docs/reference/python.md for the API.
"""

from .ir import (Diagnostic, Executable, Module, QuantOptError, StorageRow,
                 TensorType)
from .torch_import import UnsupportedOpError, from_torch
from .workflow import (GPUS, SCHEMES, Calibration, LayerError,
                       QuantizationWarning, Report, Scheme, calibrate, compile,
                       quantize, report)

__all__ = [
    "Calibration", "Diagnostic", "Executable", "GPUS", "LayerError", "Module",
    "QuantOptError", "QuantizationWarning", "Report", "SCHEMES", "Scheme", "StorageRow",
    "TensorType", "UnsupportedOpError", "calibrate", "compile", "from_torch",
    "quantize", "report",
]
__version__ = "0.1.0"
