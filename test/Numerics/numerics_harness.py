"""Runs quant-numerics on arrays and loads its .npy outputs."""

import os
import subprocess
import tempfile

import numpy as np

QUANT_NUMERICS = os.environ.get("QUANT_NUMERICS", "quant-numerics")


def run(command, arrays, *flags):
    """arrays: {flag: ndarray}; returns {output name: ndarray}."""
    with tempfile.TemporaryDirectory() as tmp:
        args = [QUANT_NUMERICS, command]
        for flag, array in arrays.items():
            path = os.path.join(tmp, flag + ".npy")
            np.save(path, np.ascontiguousarray(array, np.float32))
            args += [f"--{flag}", path]
        out = os.path.join(tmp, "out")
        subprocess.run(args + ["--out", out, *flags], check=True)
        return {f[:-4]: np.load(os.path.join(out, f))
                for f in os.listdir(out)}
