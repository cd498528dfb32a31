# GPTQ and AWQ against independent NumPy implementations of the papers, fed
# identical inputs. GPTQ runs a long chain of float32 updates in both, so
# codes may differ where a value sits on a rounding boundary: nearly all
# must agree, and the output errors must agree to 1%. The test also prints
# the quality ratios against RTN.
# RUN: %python %s

import numpy as np

import numerics_reference as nref
from harness import Checker
from numerics_harness import run

rng = np.random.default_rng(7)
check = Checker()

n, k, t = 96, 256, 1024
mix = rng.normal(0, 1, (8, k)).astype(np.float32)
x = (rng.normal(0, 1, (t, 8)).astype(np.float32) @ mix +
     0.05 * rng.normal(0, 1, (t, k)).astype(np.float32)).astype(np.float32)
x[:, 17] = 0  # a dead input channel
w = rng.normal(0, 0.02, (n, k)).astype(np.float32)
out = x @ w.T


def rel_out_err(wq):
    return float(np.linalg.norm(x @ wq.T - out) / np.linalg.norm(out))


for group, act_order in [(128, False), (0, False), (64, True)]:
    flags = ["--storage", "i4", "--group", str(group)]
    if act_order:
        flags.append("--act-order")
    got = run("gptq", {"w": w, "x": x}, *flags)
    q, s, z = nref.gptq(w, x, "i4", group, act_order=act_order)
    name = f"gptq g{group}{' act-order' if act_order else ''}"
    same = float(np.mean(got["codes"].astype(np.int32) == q))
    e_cpp = rel_out_err(nref.dequant(got["codes"].astype(np.int32),
                                     got["scales"], got["zeros"]))
    e_np = rel_out_err(nref.dequant(q, s, z))
    qr, sr, zr = nref.rtn(w, "i4", group)
    e_rtn = rel_out_err(nref.dequant(qr, sr, zr))
    print(f"{name}: codes equal {same:.4%}, output error C++ {e_cpp:.4f} "
          f"NumPy {e_np:.4f}, RTN {e_rtn:.4f} (GPTQ/RTN {e_cpp / e_rtn:.3f})")
    check.checks += 1
    if same < 0.99:
        check.fail(name, f"only {same:.4%} of the codes agree")
    check.checks += 1
    if abs(e_cpp - e_np) > 0.01 * e_np:
        check.fail(name, f"output error {e_cpp} vs NumPy {e_np}")
    check.checks += 1
    if not np.all(got["codes"][:, 17] == 0):
        check.fail(name, "the dead input channel is not zeroed")
    check.checks += 1
    if not e_cpp < 0.7 * e_rtn:
        check.fail(name, f"GPTQ {e_cpp} is not clearly below RTN {e_rtn}")

# AWQ: activations with outlier channels.
xa = rng.normal(0, 1, (512, k)).astype(np.float32)
xa[:, [5, 90, 200]] *= 40
got = run("awq", {"w": w, "x": xa}, "--storage", "i4", "--group", "128")
errors = nref.awq_alpha_errors(w, xa, "i4", 128)
best_alpha, best_err, best_s = min(errors, key=lambda e: e[1])
print(f"awq: alpha C++ {float(got['alpha']):.4f} NumPy {best_alpha:.4f}; "
      f"AWQ/RTN calibration error {best_err / errors[0][1]:.3f}")
check.checks += 1
if abs(float(got["alpha"]) - best_alpha) > 1e-6:
    check.fail("awq alpha", f"{float(got['alpha'])} vs {best_alpha}")
check.checks += 1
if not np.allclose(got["input_scales"], best_s, rtol=1e-5):
    check.fail("awq scales", "input scales differ")
q, s, z = nref.rtn(w * best_s[None, :], "i4", 128)
same = float(np.mean(got["codes"].astype(np.int32) == q))
check.checks += 1
if same < 0.999:
    check.fail("awq codes", f"only {same:.4%} agree")

check.finish()
