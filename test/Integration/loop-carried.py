# A tensor carried through scf.for (a recurrent layer or a decode loop that
# feeds each step's output back) through the CPU pipeline and quant-run:
# steps of an INT8 weight-only product, tanh and a float product. The same
# loop runs 1, 2 and 3 times; each run's result is checked against one step
# of NumPy (float64) from the previous run's result, under the bound of
# that step's f32 sums (libm tanh within two ulps).
# RUN: %python %s

import numpy as np

from harness import Checker, Module, tensor_type

rng = np.random.default_rng(31)
M, K = 3, 64
m = Module()
x = rng.normal(0, 1, (M, K)).astype(np.float32)
codes = rng.integers(-127, 128, (K, K)).astype(np.int8)
scale = rng.uniform(0.001, 0.002, (K, 1)).astype(np.float32)
wf = rng.normal(0, 0.1, (K, K)).astype(np.float32)
xt, wt = tensor_type((M, K), "f32"), tensor_type((K, K), "f32")
xa, qa, sa, fa = (m.arg(x, "f32"), m.arg(codes, "i8"), m.arg(scale, "f32"),
                  m.arg(wf, "f32"))
m.body += ["  %c0 = arith.constant 0 : index",
           "  %c1 = arith.constant 1 : index",
           "  %zero = arith.constant 0.0 : f32"]
for steps in (1, 2, 3):
    n = m.op(f"arith.constant {steps} : index", "index")
    loop = m.op(f"""scf.for %i = %c0 to {n} step %c1 iter_args(%a = {xa}) -> ({xt}) {{
    %q = qopt.matmul %a, {qa}, {sa} {{acc_type = f32}} : ({xt}, {tensor_type((K, K), 'i8')}, {tensor_type((K, 1), 'f32')}) -> {xt}
    %t = math.tanh %q : {xt}
    %e = tensor.empty() : {xt}
    %z = linalg.fill ins(%zero : f32) outs(%e : {xt}) -> {xt}
    %f = linalg.matmul ins(%t, {fa} : {xt}, {wt}) outs(%z : {xt}) -> {xt}
    scf.yield %f : {xt}
  }}""", xt)
    m.result(loop, xt)

w = codes.astype(np.float64) * scale.astype(np.float64)
wf64 = wf.astype(np.float64)
check = Checker()
previous = x.astype(np.float64)
for steps, got in zip((1, 2, 3), m.run()):
    q = previous @ w.T
    t = np.tanh(q)
    want = t @ wf64
    # f32 sums of the first product, carried through tanh (1-Lipschitz),
    # tanh's rounding, then the second product's own sums.
    err_t = 2 * K * 2.0 ** -24 * (np.abs(previous) @ np.abs(w).T) + \
        2.0 ** -22 * np.abs(t)
    bound = err_t @ np.abs(wf64) + \
        2 * K * 2.0 ** -24 * (np.abs(t) @ np.abs(wf64)) + 1e-30
    check.checks += 1
    err = np.abs(got - want)
    if not (err <= bound).all():
        check.fail(f"{steps} steps", f"{int((err > bound).sum())} of "
                   f"{err.size} outside the bound; largest error "
                   f"{err.max():.3g}")
    print(f"{steps} steps: |y| up to {np.abs(want).max():.3g}, largest "
          f"|error| / bound {np.max(err / bound):.3f}")
    previous = got.astype(np.float64)
check.finish()
