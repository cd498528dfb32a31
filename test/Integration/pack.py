# qopt.pack / qopt.unpack through quant-run: unpack agrees with NumPy on all
# 256 byte values (i4 and ui4), pack agrees on random codes, and
# pack(unpack(b)) == b for every byte computed at run time.
# RUN: %python %s

import numpy as np

import reference as ref
from harness import Checker, Module, tensor_type

rng = np.random.default_rng(4)
m = Module()
checks = []

all_bytes = np.arange(256, dtype=np.uint8).view(np.int8).reshape(16, 16)
for elem, signed in [("i4", True), ("ui4", False)]:
    b = m.arg(all_bytes, "i8")
    ut = tensor_type((16, 32), elem)
    u = m.op(f"qopt.unpack {b} : {tensor_type((16, 16), 'i8')} -> {ut}", ut)
    checks.append((f"unpack/{elem}/all-bytes", m.result(u, ut),
                   ref.unpack_i4(all_bytes, signed)))

    lo, hi = (-8, 7) if signed else (0, 15)
    codes = rng.integers(lo, hi + 1, (3, 5, 64)).astype(
        np.int8 if signed else np.uint8)
    c = m.arg(codes, elem)
    pt = tensor_type((3, 5, 32), "i8")
    p = m.op(f"qopt.pack {c} : {tensor_type(codes.shape, elem)} -> {pt}", pt)
    checks.append((f"pack/{elem}/random", m.result(p, pt),
                   ref.pack_i4(codes)))

# The seed's example: (-3, 6) -> 0x6d.
seed = np.array([-3, 6], np.int8)
s = m.arg(seed, "i4")
p = m.op(f"qopt.pack {s} : tensor<2xi4> -> tensor<1xi8>", "tensor<1xi8>")
checks.append(("pack/seed", m.result(p, "tensor<1xi8>"),
               np.array([0x6d], np.int8)))

# Round trip at run time: unpack then pack an operand computed from the
# argument (an arith op in between keeps the folder from removing the pair).
b = m.arg(all_bytes, "i8")
zero = m.op("arith.constant dense<0> : tensor<16x16xi8>", "")
b2 = m.op(f"arith.addi {b}, {zero} : tensor<16x16xi8>", "")
u = m.op(f"qopt.unpack {b2} : tensor<16x16xi8> -> tensor<16x32xi4>", "")
a0 = m.op("arith.constant dense<0> : tensor<16x32xi4>", "")
u2 = m.op(f"arith.addi {u}, {a0} : tensor<16x32xi4>", "")
r = m.op(f"qopt.pack {u2} : tensor<16x32xi4> -> tensor<16x16xi8>", "")
checks.append(("pack(unpack(all bytes))", m.result(r, "tensor<16x16xi8>"),
               all_bytes))

results = m.run()
check = Checker()
for name, index, want in checks:
    check.equal(name, results[index], want)
check.finish()
