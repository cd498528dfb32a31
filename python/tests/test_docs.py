"""docs/reference/python.md is generated from the docstrings: it must be
current (run scripts/gen-docs after changing the API)."""

import importlib.util

from conftest import ROOT


def test_python_reference_is_current():
    spec = importlib.util.spec_from_file_location(
        "gen_python_api", ROOT / "scripts" / "gen_python_api.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    committed = (ROOT / "docs" / "reference" / "python.md").read_text()
    assert generator.render() == committed, "run scripts/gen-docs"
