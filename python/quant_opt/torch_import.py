"""Import PyTorch models through torch-mlir's FX importer.

``torch.export`` traces the model; torch-mlir lowers the graph to
linalg-on-tensors with the weights as ``dense_resource`` constants; the
text is parsed by quant-opt's MLIR 22. Every op is named after the PyTorch
module that produced it (``encoder.layer.3.attention.self.query``), so
``skip=`` regexes, calibration files and reports speak the model's names.

Tested with torch 2.10.0 and torch-mlir 20261001 (pinned in scripts/setup).
"""

from __future__ import annotations

import contextlib
import re
from typing import Sequence

import numpy as np

from .ir import Module, QuantOptError

__all__ = ["from_torch", "UnsupportedOpError"]


class UnsupportedOpError(QuantOptError):
    """torch-mlir cannot lower an op of the model to linalg."""


def _module_path(node, strip_prefix: str) -> str | None:
    stack = node.meta.get("nn_module_stack")
    if not stack:
        return None
    path, _ = list(stack.values())[-1]
    # torch.export spells the root "L__self__" / "L['self']" in some
    # versions; keep the attribute path only.
    path = re.sub(r"^(L__self__|L\['self'\])\.?", "", path)
    path = re.sub(r"\[(\d+)\]", r".\1", path)  # ModuleList indices
    if strip_prefix and path.startswith(strip_prefix):
        path = path[len(strip_prefix):]
    return path or None


@contextlib.contextmanager
def _named_locations(strip_prefix: str):
    """Wraps torch-mlir's node locations in NameLoc(module path)."""
    from torch_mlir.extras import fx_importer
    from torch_mlir.ir import Location

    original = fx_importer.ContextCache.get_node_location

    def named(self, node):
        loc = original(self, node)
        path = _module_path(node, strip_prefix)
        if path is None:
            return loc
        if loc is None:
            loc = Location.unknown(context=self._c)
        return Location.name(path, childLoc=loc, context=self._c)

    fx_importer.ContextCache.get_node_location = named
    try:
        yield
    finally:
        fx_importer.ContextCache.get_node_location = original


@contextlib.contextmanager
def _persistent_buffers(module):
    """Non-persistent buffers (BERT's position_ids) are constants of the
    model, but torch-mlir only maps persistent state: mark them persistent
    for the export, and restore the caller's model afterwards."""
    saved = {sub: set(sub._non_persistent_buffers_set)
             for sub in module.modules()}
    for sub in saved:
        sub._non_persistent_buffers_set.clear()
    try:
        yield
    finally:
        for sub, names in saved.items():
            sub._non_persistent_buffers_set.update(names)


def _data_dependent_node(program, strip_prefix: str):
    """The first node of an exported program whose output shape depends on
    its input data (``x[x > 0]``, ``nonzero``: an unbacked symbolic size),
    as (op name, layer or None); None when every shape is static."""
    from torch.fx.experimental.symbolic_shapes import free_unbacked_symbols

    for node in program.graph.nodes:
        value = node.meta.get("val")
        values = value if isinstance(value, (list, tuple)) else [value]
        if any(v is not None and free_unbacked_symbols(v) for v in values):
            op = getattr(node.target, "__name__", str(node.target))
            return op, _module_path(node, strip_prefix)
    return None


_FAILED_OP = re.compile(r"failed to legalize operation '([^']+)'")
_OPERATOR_NAME = re.compile(r'name = "([^"]+)"')
_LAYER = re.compile(r'^loc\("([^"]+)"')


def _unsupported_op(diagnostics: list[tuple[str, str]]) -> str | None:
    """A sentence naming the op torch-mlir could not lower and its layer."""
    for location, message in diagnostics:
        match = _FAILED_OP.search(message)
        if not match:
            continue
        op = match.group(1)
        if op == "torch.operator":  # an op torch-mlir does not know at all
            named = _OPERATOR_NAME.search(message)
            op = named.group(1) if named else op
        layer = _LAYER.match(location)
        where = f" in layer '{layer.group(1)}'" if layer else ""
        return (f"from_torch: unsupported PyTorch op '{op}'{where}: "
                f"torch-mlir cannot lower it to linalg")
    return None


def from_torch(module, example_inputs: Sequence, *, func_name: str = "main",
               strip_prefix: str = "") -> Module:
    """Imports ``module`` (a ``torch.nn.Module``) traced on ``example_inputs``
    (torch tensors or NumPy arrays).

    The function ``func_name`` (``main``, what ``quant-run`` calls by
    default) takes tensors of exactly the example inputs' shapes and
    dtypes. ``strip_prefix`` removes a leading attribute path from
    the layer names (``"bert."`` for a wrapper that holds the model as
    ``self.bert``).

    Raises :class:`UnsupportedOpError` naming the op and the layer when
    torch-mlir cannot lower part of the model, or when an op's output shape
    depends on the input data (``x[x > 0]``, ``torch.nonzero``): quant-opt
    compiles static shapes, and torch-mlir's lowering of such a graph does
    not terminate.
    """
    import torch
    from torch_mlir import fx

    module = module.eval()
    args = tuple(torch.from_numpy(a) if isinstance(a, np.ndarray) else a
                 for a in example_inputs)
    # Our own context, so torch-mlir's diagnostics come to us rather than
    # to stderr.
    from torch_mlir import ir
    from torch_mlir.dialects import torch as torch_d
    from torch_mlir.extras.fx_importer import FxImporter

    context = ir.Context()
    torch_d.register_dialect(context)
    diagnostics: list[tuple[str, str]] = []

    def collect(diagnostic):
        diagnostics.append((str(diagnostic.location), diagnostic.message))
        return True

    context.attach_diagnostic_handler(collect)
    with torch.no_grad(), _named_locations(strip_prefix), \
            _persistent_buffers(module):
        # torch.export as torch-mlir would call it, then a look at the
        # shapes before handing the program over.
        program = torch.export.export(module, args, strict=False)
        dependent = _data_dependent_node(program, strip_prefix)
        if dependent:
            op, layer = dependent
            where = f" in layer '{layer}'" if layer else ""
            raise UnsupportedOpError(
                f"from_torch: the output shape of PyTorch op '{op}'{where} "
                f"depends on the input data (a boolean mask index, nonzero, "
                f"...); quant-opt compiles static shapes")
        try:
            imported = fx.export_and_import(
                program, output_type="linalg-on-tensors",
                func_name=func_name, fx_importer=FxImporter(context=context))
        except Exception as e:  # torch-mlir raises plain exceptions
            sentence = _unsupported_op(diagnostics)
            if sentence:
                raise UnsupportedOpError(
                    sentence, [("error", loc, msg) for loc, msg in diagnostics]
                ) from None
            raise
    text = imported.operation.get_asm(large_elements_limit=None,
                                      enable_debug_info=True)
    result = Module.parse(text, f"<torch:{type(module).__name__}>")
    # Linear layers read their weights through transposes and broadcasts:
    # fold those into the products so every layer is a quantizable product
    # reading its constant weight.
    result.run_passes("func.func(qopt-fold-weight-layout),canonicalize")
    return result
