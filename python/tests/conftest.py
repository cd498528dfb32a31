"""Shared fixtures: the tools' paths, the bundled MLP example, and the
real MiniLM model (imported once per session: it takes seconds)."""

import os
import pathlib
import shutil

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _tool(name):
    build = pathlib.Path(os.environ.get("QUANT_OPT_BUILD_DIR", ROOT / "build"))
    path = build / "bin" / name
    if not path.exists():
        path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} not built (run scripts/build)")
    return str(path)


@pytest.fixture(scope="session")
def quant_opt_tool():
    return _tool("quant-opt")


@pytest.fixture(scope="session")
def quant_run_tool():
    return _tool("quant-run")


@pytest.fixture(scope="session")
def mlp_path():
    return ROOT / "examples" / "mlp.mlir"


@pytest.fixture(scope="session")
def mlp_batches():
    rng = np.random.default_rng(0)
    return [(rng.normal(0, 1, (4, 128)).astype(np.float32),)
            for _ in range(4)]
