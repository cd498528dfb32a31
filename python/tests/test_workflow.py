"""The workflow API against the command-line tools, on the bundled MLP."""

import json
import subprocess

import numpy as np
import pytest

import quant_opt as qo


@pytest.fixture(scope="module")
def model(mlp_path):
    return qo.Module.load(mlp_path)


@pytest.fixture(scope="module")
def calibration(model, mlp_batches):
    return qo.calibrate(model, mlp_batches)


def cli(tools, tmp_path, model_path, batches, passes):
    """The same job with quant-opt / quant-run, as docs/python.md spells it."""
    quant_opt, quant_run = tools
    inputs = []
    for i, (x,) in enumerate(batches):
        inputs.append(str(tmp_path / f"in{i}.npy"))
        np.save(inputs[-1], x)
    subprocess.run([quant_opt, model_path, "--qopt-insert-observers=stats="
                    "minmax,histogram,channel_absmax,channel_absmean,hessian",
                    "-o", tmp_path / "inst.mlir"], check=True)
    subprocess.run([quant_run, tmp_path / "inst.mlir", "--input",
                    ",".join(inputs), "--calibration-out",
                    tmp_path / "cal.json"], check=True,
                   stdout=subprocess.DEVNULL)
    cal = str(tmp_path / "cal.json")
    subprocess.run([quant_opt, model_path,
                    *[p.format(cal=cal) for p in passes],
                    "-o", tmp_path / "q.mlir"], check=True,
                   stderr=subprocess.DEVNULL)
    subprocess.run([quant_run, tmp_path / "q.mlir", "--input", inputs[0],
                    "--output-dir", tmp_path / "out"], check=True,
                   stdout=subprocess.DEVNULL)
    return np.load(tmp_path / "out" / "result0.npy")


# Relative output error bounds from the formats. Symmetric b-bit codes of
# a Gaussian group whose max is about 3 sigma have rounding noise of
# 3 / (qmax * sqrt(12)) sigma: 0.124 for INT4 (qmax 7), 0.0068 for INT8
# (127), per layer; E4M3's 3 mantissa bits give about 2^-4 / sqrt(3) = 0.036
# per element of weights and activations. The MLP has four layers; the
# bounds allow twice the one-layer estimate compounded over them.
BOUND = {"i4": 0.25, "i8": 0.03, "f8E4M3FN": 0.1}

CLI_PASSES = {
    "w4a16-g128": ["--qopt-weight-ptq=storage=i4 group-size=128",
                   "--canonicalize"],
    "w4a16-g128-gptq": ["--qopt-weight-ptq=storage=i4 group-size=128 "
                        "method=gptq act-order=true calibration={cal}",
                        "--canonicalize"],
    "w8a8-static": ["--qopt-weight-ptq=storage=i8 group-size=0",
                    "--qopt-apply-calibration=calibration={cal} "
                    "calibrator=minmax", "--canonicalize"],
    "w8a8": ["--qopt-smooth-quant=alpha=0.5 calibration={cal}",
             "--qopt-weight-ptq=storage=i8 group-size=0",
             "--qopt-dynamic-quant", "--canonicalize"],
}


@pytest.mark.parametrize("scheme", sorted(CLI_PASSES))
def test_python_api_matches_command_line(scheme, model, calibration,
                                         mlp_path, mlp_batches, tmp_path,
                                         quant_opt_tool, quant_run_tool):
    quantized = qo.quantize(model, scheme, calibration=calibration)
    got = qo.compile(quantized)(*mlp_batches[0])
    want = cli((quant_opt_tool, quant_run_tool), tmp_path, mlp_path,
               mlp_batches, CLI_PASSES[scheme])
    np.testing.assert_array_equal(got, want)


def test_every_scheme_quantizes_and_stays_close(model, calibration,
                                                mlp_batches):
    x = mlp_batches[0][0]
    reference = qo.compile(model)(x)
    for name, scheme in qo.SCHEMES.items():
        quantized = qo.quantize(model, name, calibration=calibration)
        storage = {r.storage for r in quantized.storage_report()}
        assert storage == {scheme.weights.split()[0].split("=")[1]}, name
        y = qo.compile(quantized)(x)
        error = np.linalg.norm(y - reference) / np.linalg.norm(reference)
        assert error < BOUND[storage.pop()], (name, error)


def test_report(model, calibration, mlp_batches, tmp_path):
    quantized = qo.quantize(model, "w4a16-g128-gptq", calibration=calibration)
    report = qo.report(quantized, model, mlp_batches, plots=tmp_path)
    assert [r.name for r in report.storage] == [
        "layer0.fc1", "layer0.fc2", "layer1.fc1", "layer1.fc2"]
    assert all(r.storage == "i4" for r in report.storage)
    assert report.total_bytes == sum(r.total_bytes for r in report.storage)
    assert [e.name for e in report.layer_errors] == [
        "layer0.fc1", "layer0.fc2", "layer1.fc1", "layer1.fc2"]
    # Independent check of one layer's error: layer0.fc1 reads the model
    # input, so its error is the weight error alone.
    assert 0 < report.layer_errors[0].relative_error < 0.1
    assert 0.99 < report.output_cosine <= 1.0
    for png in ["layer_error.png", "bytes_per_layer.png", "roofline.png"]:
        assert (tmp_path / png).stat().st_size > 1000
    roof = report.roofline(tokens=1)
    assert roof["memory_bound"] and roof["bytes"] == report.total_bytes
    assert "layer0.fc1" in report.table()


def test_float_model_report_has_no_errors(model):
    report = qo.report(model)
    assert all(r.storage == "f32" and r.bytes_per_param == 4.0
               for r in report.storage)
    assert report.layer_errors == [] and report.output_cosine is None


def test_calibration_file(calibration):
    data = json.load(open(calibration.path))
    assert sorted(data["observers"]) == sorted(calibration.observers)


def test_paths_and_regexes_are_one_option_each(model, mlp_batches, tmp_path):
    # A calibration file under a directory with a space, and a skip regex
    # with spaces and '=': each reaches its pass as one option value.
    spaced = tmp_path / "my dir" / "cal.json"
    spaced.parent.mkdir()
    calibration = qo.calibrate(model, mlp_batches, path=str(spaced))
    quantized = qo.quantize(model, "w8a8-static", calibration=calibration)
    assert {row.storage for row in quantized.storage_report()} == {"i8"}
    kept = qo.quantize(model, "w8a16", skip="nothing storage=i4 group-size=8")
    assert {row.storage for row in kept.storage_report()} == {"i8"}


def test_pass_warnings_reach_python(model, mlp_batches, tmp_path):
    # Static activation quantization with another model's statistics: the
    # products keep float activations, and quantize says so.
    other = qo.Module.parse("""
func.func @main(%x: tensor<4x8xf32>) -> tensor<4x2xf32> {
  %w = arith.constant dense<0.5> : tensor<8x2xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x2xf32>
  %i = linalg.fill ins(%z : f32) outs(%e : tensor<4x2xf32>) -> tensor<4x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<4x8xf32>, tensor<8x2xf32>) outs(%i : tensor<4x2xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}""")
    foreign = qo.calibrate(other, [(np.ones((4, 8), np.float32),)],
                           path=str(tmp_path / "other.json"))
    with pytest.warns(qo.QuantizationWarning,
                      match="no calibration statistics for this product"):
        qo.quantize(model, "w8a8-static", calibration=foreign)


def test_bad_requests(model, calibration):
    with pytest.raises(ValueError, match="unknown scheme"):
        qo.quantize(model, "w3a5")
    with pytest.raises(ValueError, match="needs calibration"):
        qo.quantize(model, "w4a16-g128-gptq")
    with pytest.raises(ValueError, match="target 'cuda'"):
        qo.compile(model, target="cuda")
    with pytest.raises(ValueError, match="quant-compile"):
        qo.compile(model, target="gpu")
    empty = qo.Module.parse("""
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = arith.addf %x, %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}""")
    with pytest.raises(qo.QuantOptError, match="no quantizable matrix product"):
        qo.quantize(empty, "w8a16")
    with pytest.raises(qo.QuantOptError, match="no matrix product"):
        qo.calibrate(empty, [(np.zeros(4, np.float32),)])
