# Float contractions as qopt-cpu-pipeline lowers them (dot-product loops with
# reassociated sums, or reordered loops) against NumPy in float64, for every
# operand layout a frontend produces, odd sizes included, and sizes that the
# dot-product loops take in register tiles of rows by output channels (4 x 2
# and 4 x 4). The bound is the worst case of a reassociated f32 sum:
# |y - y64| <= K * eps * sum|x||w|.
# RUN: %python %s

import os
import subprocess
import tempfile

import numpy as np

from harness import Checker

QUANT_RUN = os.environ["QUANT_RUN"]
QUANT_OPT = os.environ["QUANT_OPT"]
rng = np.random.default_rng(5)
check = Checker()
EPS = np.finfo(np.float32).eps

BODY = """{
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  }"""


def t(*shape):
    return f"tensor<{'x'.join(map(str, shape))}xf32>"


def zeros(shape):
    return (f"%e = tensor.empty() : {t(*shape)}\n  %z = arith.constant 0.0 : f32\n"
            f"  %acc = linalg.fill ins(%z : f32) outs(%e : {t(*shape)}) -> {t(*shape)}")


def cases(M, K, N, B):
    return {
        # y[m, n] = x[m, k] w[n, k] (PyTorch weight layout, as generic)
        "dot_product": ((M, K), (N, K), (M, N), lambda x, w: x @ w.T, f"""
    func.func @main(%x: {t(M, K)}, %w: {t(N, K)}) -> {t(M, N)} {{
      {zeros((M, N))}
      %r = linalg.generic {{indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
          affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>],
          iterator_types = ["parallel", "parallel", "reduction"]}}
          ins(%x, %w : {t(M, K)}, {t(N, K)}) outs(%acc : {t(M, N)}) {BODY} -> {t(M, N)}
      return %r : {t(M, N)}
    }}"""),
        # y = x @ w with w[k, n] (linalg.matmul)
        "row_major": ((M, K), (K, N), (M, N), lambda x, w: x @ w, f"""
    func.func @main(%x: {t(M, K)}, %w: {t(K, N)}) -> {t(M, N)} {{
      {zeros((M, N))}
      %r = linalg.matmul ins(%x, %w : {t(M, K)}, {t(K, N)}) outs(%acc : {t(M, N)}) -> {t(M, N)}
      return %r : {t(M, N)}
    }}"""),
        # attention-like batch_matmul
        "batch": ((B, M, K), (B, K, N), (B, M, N), lambda x, w: x @ w, f"""
    func.func @main(%x: {t(B, M, K)}, %w: {t(B, K, N)}) -> {t(B, M, N)} {{
      {zeros((B, M, N))}
      %r = linalg.batch_matmul ins(%x, %w : {t(B, M, K)}, {t(B, K, N)}) outs(%acc : {t(B, M, N)}) -> {t(B, M, N)}
      return %r : {t(B, M, N)}
    }}"""),
        # attention scores: x[b, m, k] against w[b, n, k]
        "batch_dot": ((B, M, K), (B, N, K), (B, M, N),
                      lambda x, w: x @ w.transpose(0, 2, 1), f"""
func.func @main(%x: {t(B, M, K)}, %w: {t(B, N, K)}) -> {t(B, M, N)} {{
  {zeros((B, M, N))}
  %r = linalg.generic {{indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>,
      affine_map<(b, m, n, k) -> (b, n, k)>, affine_map<(b, m, n, k) -> (b, m, n)>],
      iterator_types = ["parallel", "parallel", "parallel", "reduction"]}}
      ins(%x, %w : {t(B, M, K)}, {t(B, N, K)}) outs(%acc : {t(B, M, N)}) {BODY} -> {t(B, M, N)}
  return %r : {t(B, M, N)}
}}"""),
        # x[b, m, k] against a shared w[n, k]
        "batched_input": ((B, M, K), (N, K), (B, M, N), lambda x, w: x @ w.T, f"""
    func.func @main(%x: {t(B, M, K)}, %w: {t(N, K)}) -> {t(B, M, N)} {{
      {zeros((B, M, N))}
      %r = linalg.generic {{indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>,
          affine_map<(b, m, n, k) -> (n, k)>, affine_map<(b, m, n, k) -> (b, m, n)>],
          iterator_types = ["parallel", "parallel", "parallel", "reduction"]}}
          ins(%x, %w : {t(B, M, K)}, {t(N, K)}) outs(%acc : {t(B, M, N)}) {BODY} -> {t(B, M, N)}
      return %r : {t(B, M, N)}
    }}"""),
    }


with tempfile.TemporaryDirectory() as tmp:
    all_cases = [(f"{name} {m}x{k}x{n}", case)
                 for m, k, n, b in [(33, 70, 19, 3), (12, 70, 18, 2),
                                    (8, 64, 20, 2)]
                 for name, case in cases(m, k, n, b).items()]
    for name, (xs, ws, ys, ref, text) in all_cases:
        K = xs[-1]
        x = rng.normal(0, 1, xs).astype(np.float32)
        w = rng.normal(0, 1, ws).astype(np.float32)
        # Exercise cancellation too: some rows sum to nearly zero.
        x[..., 0, :] = 1e-3
        model = os.path.join(tmp, f"{name.replace(' ', '_')}.mlir")
        open(model, "w").write(text)
        np.save(os.path.join(tmp, "x.npy"), x)
        np.save(os.path.join(tmp, "w.npy"), w)
        out = os.path.join(tmp, name.replace(" ", "_"))
        subprocess.run([QUANT_RUN, model, "--input", os.path.join(tmp, "x.npy"),
                        "--input", os.path.join(tmp, "w.npy"), "--output-dir",
                        out], check=True, stdout=subprocess.DEVNULL)
        y = np.load(os.path.join(out, "result0.npy"))
        want = ref(x.astype(np.float64), w.astype(np.float64))
        bound = K * EPS * ref(np.abs(x).astype(np.float64),
                              np.abs(w).astype(np.float64))
        check.checks += 1
        if y.shape != ys or not np.all(np.abs(y - want) <= bound):
            check.fail(name, f"max error {np.max(np.abs(y - want)):.3g} "
                             f"over the bound (shape {y.shape})")
        print(f"{name}: max |error| / bound = "
              f"{np.max(np.abs(y - want) / bound):.3f}")

    # The lowering must have produced the vectorisable dot-product loop.
    r = subprocess.run([QUANT_OPT, os.path.join(tmp, "dot_product_33x70x19.mlir"),
                        "--qopt-order-contractions-for-cpu"],
                       capture_output=True, text=True, check=True)
    check.checks += 1
    if "fastmath<reassoc,contract>" not in r.stdout:
        check.fail("dot_product", "no reassociated reduction loop")
check.finish()
