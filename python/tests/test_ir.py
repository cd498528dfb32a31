"""quant_opt.ir: parsing, pass pipelines, diagnostics and the JIT."""

import ml_dtypes
import numpy as np
import pytest

import quant_opt as qo

ADD = """
func.func @add(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = arith.addf %a, %b : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
"""


def test_parse_and_run():
    module = qo.Module.parse(ADD)
    assert module.functions == ["add"]
    run = module.compile()
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(run(a, 2 * a), 3 * a)


def test_parse_error_has_location():
    with pytest.raises(qo.QuantOptError) as info:
        qo.Module.parse("func.func @f() {\n  %0 = arith.addf\n}", "bad.mlir")
    error = info.value
    assert error.location.startswith("bad.mlir:2:")
    assert "cannot parse 'bad.mlir'" in str(error)
    assert error.diagnostics[0].severity == "error"


def test_verifier_error_names_op_and_location():
    text = """
func.func @f(%x: tensor<4xf32>, %s: tensor<f32>) -> tensor<4xi8> {
  %q = qopt.quantize %x, %s : (tensor<4xf32>, tensor<f32>) -> tensor<4xi16> loc("fc1")
  %t = arith.trunci %q : tensor<4xi16> to tensor<4xi8>
  return %t : tensor<4xi8>
}"""
    with pytest.raises(qo.QuantOptError) as info:
        qo.Module.parse(text)
    assert info.value.location.startswith("fc1")
    assert "'qopt.quantize' op result #0" in str(info.value)


def test_pass_failure_is_an_exception_with_location(tmp_path):
    module = qo.Module.parse(ADD)
    with pytest.raises(qo.QuantOptError) as info:
        module.run_passes(f"qopt-apply-calibration{{calibration={tmp_path}/none.json}}")
    assert "none.json" in str(info.value)
    with pytest.raises(qo.QuantOptError, match="invalid pass pipeline"):
        module.run_passes("no-such-pass")


def test_warnings_are_returned(mlp_path):
    module = qo.Module.load(mlp_path)
    # K = 128 is not a multiple of 96: every layer is left with a warning.
    warnings = module.run_passes("qopt-weight-ptq{storage=i4 group-size=96}")
    warned = [w for w in warnings if w.severity == "warning"]
    assert len(warned) == 4
    assert warned[0].location == "layer0.fc1"
    assert "left unquantized" in warned[0].message


def test_argument_checks():
    run = qo.Module.parse(ADD).compile()
    a = np.zeros((2, 3), np.float32)
    with pytest.raises(TypeError, match="takes 2 array"):
        run(a)
    with pytest.raises(TypeError, match="float64"):
        run(a, a.astype(np.float64))
    with pytest.raises(TypeError, match="shape"):
        run(a, np.zeros((3, 2), np.float32))
    # Non-contiguous inputs are copied, not rejected.
    b = np.zeros((3, 2), np.float32).T
    np.testing.assert_array_equal(run(a, b), a)


def test_fp8_and_bf16_arrays_round_trip():
    text = """
func.func @codes(%x: tensor<5xf32>, %s: tensor<f32>) -> (tensor<5xf8E4M3FN>, tensor<5xbf16>) {
  %q = qopt.quantize %x, %s : (tensor<5xf32>, tensor<f32>) -> tensor<5xf8E4M3FN>
  %b = arith.truncf %x : tensor<5xf32> to tensor<5xbf16>
  return %q, %b : tensor<5xf8E4M3FN>, tensor<5xbf16>
}"""
    run = qo.Module.parse(text).compile()
    x = np.array([0.0, 0.3, -1.7, 500.0, 1e-9], np.float32)
    q, b = run(x, np.array(1.0, np.float32))
    assert q.dtype == ml_dtypes.float8_e4m3fn and b.dtype == ml_dtypes.bfloat16
    # Reference: ml_dtypes' round-to-nearest-even, saturating at 448.
    want = np.clip(x, -448, 448).astype(ml_dtypes.float8_e4m3fn)
    np.testing.assert_array_equal(q.view(np.uint8), want.view(np.uint8))
    np.testing.assert_array_equal(b.view(np.uint16),
                                  x.astype(ml_dtypes.bfloat16).view(np.uint16))


def test_int4_results_are_sign_extended():
    # Codes of i4 / ui4 come back one per byte with their value, as from
    # quant-run: round half to even of x / s, clamped to the code range.
    text = """
func.func @codes(%x: tensor<6xf32>, %s: tensor<f32>) -> (tensor<6xi4>, tensor<6xui4>) {
  %q = qopt.quantize %x, %s : (tensor<6xf32>, tensor<f32>) -> tensor<6xi4>
  %u = qopt.quantize %x, %s : (tensor<6xf32>, tensor<f32>) -> tensor<6xui4>
  return %q, %u : tensor<6xi4>, tensor<6xui4>
}"""
    run = qo.Module.parse(text).compile()
    x = np.array([-1.0, -8.0, 7.0, 2.5, -20.0, 20.0], np.float32)
    q, u = run(x, np.array(1.0, np.float32))
    np.testing.assert_array_equal(q, np.clip(np.round(x), -8, 7).astype(np.int8))
    np.testing.assert_array_equal(u, np.clip(np.round(x), 0, 15).astype(np.uint8))


def test_int4_arguments_out_of_range_are_errors():
    # 4-bit codes travel one a byte: a byte outside the type's range is an
    # error naming the element (as quant-run reports it), not wrapped.
    text = """
func.func @id(%a: tensor<5xi4>, %b: tensor<3xui4>) -> (tensor<5xi4>, tensor<3xui4>) {
  return %a, %b : tensor<5xi4>, tensor<3xui4>
}"""
    run = qo.Module.parse(text).compile()
    good_a = np.array([-8, -1, 0, 3, 7], np.int8)
    good_b = np.array([0, 9, 15], np.uint8)
    a, b = run(good_a, good_b)
    np.testing.assert_array_equal(a, good_a)
    np.testing.assert_array_equal(b, good_b)
    with pytest.raises(ValueError, match=r"argument 0: element 2 is 100, "
                                         r"outside the i4 range \[-8, 7\]"):
        run(np.array([-8, -1, 100, 3, 7], np.int8), good_b)
    with pytest.raises(ValueError, match=r"argument 1: element 0 is 16, "
                                         r"outside the ui4 range \[0, 15\]"):
        run(good_a, np.array([16, 0, 0], np.uint8))


def test_signed_integer_types():
    text = """
func.func @id(%a: tensor<2xsi8>) -> tensor<2xsi8> {
  return %a : tensor<2xsi8>
}"""
    run = qo.Module.parse(text).compile()
    np.testing.assert_array_equal(run(np.array([-3, 4], np.int8)), [-3, 4])


def test_results_own_their_memory():
    run = qo.Module.parse(ADD).compile()
    a = np.ones((2, 3), np.float32)
    first = run(a, a)
    second = run(a, 2 * a)
    np.testing.assert_array_equal(first, 2 * a)
    np.testing.assert_array_equal(second, 3 * a)


def test_module_text_round_trips(tmp_path):
    module = qo.Module.parse(ADD)
    path = tmp_path / "m.mlir"
    module.save(path)
    assert qo.Module.load(path).to_string() == module.to_string()


def test_anchored_and_bare_pipelines(mlp_path):
    module = qo.Module.load(mlp_path)
    # One anchor spanning the pipeline and a bare list run on the module.
    for pipeline in ["builtin.module(qopt-weight-ptq{storage=i8 group-size=0},"
                     "canonicalize)",
                     "qopt-weight-ptq{storage=i8 group-size=0},canonicalize"]:
        quantized = module.transform(pipeline)
        assert {r.storage for r in quantized.storage_report()} == {"i8"}, pipeline
    # An anchor followed by more passes is not a pipeline (quant-opt's
    # --pass-pipeline refuses it too): an error, not a silent no-op.
    with pytest.raises(qo.QuantOptError, match="must span the whole"):
        module.transform("builtin.module(canonicalize),canonicalize")


INSERT = """
func.func @set_first(%a: tensor<4xf32>) -> tensor<4xf32> {
  %c0 = arith.constant 0 : index
  %v = arith.constant 9.0 : f32
  %r = tensor.insert %v into %a[%c0] : tensor<4xf32>
  return %r : tensor<4xf32>
}
"""


def test_inputs_are_read_only():
    run = qo.Module.parse(INSERT).compile()
    a = np.arange(4, dtype=np.float32)
    # An update of an argument tensor writes into a copy, never into the
    # caller's array (bufferization would otherwise reuse its buffer).
    np.testing.assert_array_equal(run(a), [9, 1, 2, 3])
    np.testing.assert_array_equal(a, [0, 1, 2, 3])
    # So read-only arrays are taken: contiguous ones as they are, strided
    # ones (np.broadcast_to) through a copy.
    a.flags.writeable = False
    np.testing.assert_array_equal(run(a), [9, 1, 2, 3])
    np.testing.assert_array_equal(a, [0, 1, 2, 3])
    np.testing.assert_array_equal(run(np.broadcast_to(np.float32(5), (4,))),
                                  [9, 5, 5, 5])
    # Also where the function asks for an argument it may write: the
    # caller's array is not the function's to update.
    asked = INSERT.replace("%a: tensor<4xf32>",
                           "%a: tensor<4xf32> {bufferization.writable = true}")
    frozen = np.frombuffer(bytes(16), np.float32)
    np.testing.assert_array_equal(qo.Module.parse(asked).compile()(frozen),
                                  [9, 0, 0, 0])
    np.testing.assert_array_equal(frozen, [0, 0, 0, 0])


WORKGROUP_LOAD = """
func.func @f(%a: memref<4xf32>, %w: memref<4xf32, #gpu.address_space<workgroup>>) {
  %c0 = arith.constant 0 : index
  %v = memref.load %w[%c0] : memref<4xf32, #gpu.address_space<workgroup>>
  memref.store %v, %a[%c0] : memref<4xf32>
  return
}
"""


def test_error_of_a_pass_that_succeeds_raises():
    # finalize-memref-to-llvm reports the address space it cannot map and
    # returns success; the error must not pass for a warning.
    module = qo.Module.parse(WORKGROUP_LOAD)
    with pytest.raises(qo.QuantOptError, match="reported errors") as info:
        module.run_passes("finalize-memref-to-llvm")
    assert "memory space" in str(info.value)


def test_concurrent_runs_on_clones_keep_their_diagnostics(mlp_path):
    import concurrent.futures

    base = qo.Module.load(mlp_path)
    # Clones share a context (and MLIR's diagnostic handler stack); each run
    # must get its own warnings, not its neighbour's.
    def run(i):
        module = base.clone()
        if i % 2:
            pipeline = "qopt-weight-ptq{storage=i4 group-size=96}"  # 4 warnings
        else:
            pipeline = "qopt-weight-ptq{storage=i8 group-size=0}"  # none
        warned = [w for w in module.run_passes(pipeline) if w.severity == "warning"]
        return i, len(warned)

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for i, count in pool.map(run, range(16)):
            assert count == (4 if i % 2 else 0), i
