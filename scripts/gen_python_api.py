#!/usr/bin/env python3
"""Writes the Python API reference (docs/reference/python.md) from the
docstrings and signatures of what ``quant_opt`` exports. scripts/gen-docs
runs it; python/tests/test_docs.py checks the committed copy is current."""

import dataclasses
import inspect
import sys

import quant_opt
from quant_opt import baselines, models

MODULES = [
    ("quant_opt", quant_opt, quant_opt.__all__),
    ("quant_opt.models", models, models.__all__),
    ("quant_opt.baselines", baselines, baselines.__all__),
]


def _signature(obj) -> str:
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return "(...)"


def _doc(obj) -> str:
    return inspect.cleandoc(obj.__doc__ or "").strip()


def render() -> str:
    out = ["# Python API reference", "",
           "Generated from the docstrings by `scripts/gen_python_api.py` "
           "(`scripts/gen-docs`); the guide is [docs/python.md](../python.md).",
           ""]
    for title, module, names in MODULES:
        out += [f"## `{title}`", "", _doc(module), ""]
        for name in sorted(names):
            obj = getattr(module, name)
            if inspect.isclass(obj):
                kind = "dataclass" if dataclasses.is_dataclass(obj) else "class"
                out += [f"### {kind} `{name}`", ""]
                if dataclasses.is_dataclass(obj):
                    fields = ", ".join(f.name for f in dataclasses.fields(obj)
                                       if not f.name.startswith("_"))
                    out += [f"Fields: `{fields}`", ""]
                doc = _doc(obj)
                if doc and not doc.startswith(name + "("):
                    out += [doc, ""]
                for member, value in sorted(vars(obj).items()):
                    if member.startswith("_") and member != "__call__":
                        continue
                    if isinstance(value, (staticmethod, classmethod)):
                        value = value.__func__
                    if isinstance(value, property):
                        doc = _doc(value)
                        out += [f"- `{member}` (property)" +
                                (f": {doc.splitlines()[0]}" if doc else "")]
                    elif inspect.isfunction(value):
                        doc = _doc(value)
                        out += [f"- `{member}{_signature(value)}`" +
                                (f": {' '.join(doc.split())}" if doc else "")]
                out.append("")
            elif name == "SCHEMES":
                out += [f"### `{name}`", "", "| scheme | recipe |",
                        "|---|---|"]
                out += [f"| `{k}` | {v.description} |" for k, v in obj.items()]
                out.append("")
            elif callable(obj):
                out += [f"### `{name}{_signature(obj)}`", "", _doc(obj), ""]
            else:
                out += [f"### `{name}`", "", f"`{type(obj).__name__}` with "
                        f"{len(obj) if hasattr(obj, '__len__') else 1} "
                        "entries" + (f": {', '.join(f'`{k}`' for k in obj)}"
                                     if isinstance(obj, dict) else ""), ""]
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    text = render()
    if len(sys.argv) > 1:
        open(sys.argv[1], "w").write(text)
    else:
        sys.stdout.write(text)
