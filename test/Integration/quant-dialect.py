# Upstream quant.qcast / quant.dcast with !quant.uniform types (per-tensor,
# per-axis, sub-channel; signed, unsigned, narrow, 4-bit) through quant-run,
# against the NumPy reference with the same parameters.
# RUN: %python %s

import numpy as np

import reference as ref
from harness import Checker, Module, tensor_type

rng = np.random.default_rng(11)
m = Module()
checks = []


def fmt(v):
    return repr(float(v))


def case(name, x, qtype, storage, scale, zp, narrow=False):
    """qtype: the !quant.uniform text; scale / zp: the same parameters as
    arrays shaped by the granularity rule."""
    xa = m.arg(x, "f32")
    xt = tensor_type(x.shape, "f32")
    qt = f"tensor<{'x'.join(map(str, x.shape))}x{qtype}>"
    # Upstream's storage side is signless: u8 is stored as i8, u4 as i4.
    signless = storage.lstrip("u")
    st = tensor_type(x.shape, signless)
    q = m.op(f"quant.qcast {xa} : {xt} to {qt}", qt)
    qs = m.op(f"quant.scast {q} : {qt} to {st}", st)
    d = m.op(f"quant.dcast {q} : {qt} to {xt}", xt)
    want_q = ref.quantize_int(x, scale, zp, storage, narrow)
    want_s = want_q.view(np.int8)
    if signless == "i4":
        want_s = np.where(want_s >= 8, want_s - 16, want_s).astype(np.int8)
    checks.append((f"{name} qcast", m.result(qs, st), want_s))
    checks.append((f"{name} dcast", m.result(d, xt),
                   ref.dequantize_int(want_q, scale, zp)))


x = rng.normal(0, 2, (4, 8)).astype(np.float32)
x[0, :3] = [np.nan, np.inf, -np.inf]
s = np.float32(0.0244)
case("per-tensor i8", x, f"!quant.uniform<i8:f32, {fmt(s)}>", "i8",
     np.array(s), None)
case("per-tensor u8 z=17", x, f"!quant.uniform<u8:f32, {fmt(s)}:17>", "ui8",
     np.array(s), np.array(17, np.uint8))
case("per-tensor i4 narrow", x, f"!quant.uniform<i4<-7:7>:f32, 0.25>", "i4",
     np.array(0.25, np.float32), None, narrow=True)
case("per-tensor u4 z=8", x, f"!quant.uniform<u4:f32, 0.3:8>", "ui4",
     np.array(0.3, np.float32), np.array(8, np.uint8))

# Per-axis along rows (axis 0) and columns (axis 1).
rs = rng.uniform(0.01, 0.1, 4).astype(np.float32)
rz = rng.integers(-20, 20, 4).astype(np.int8)
spec = ", ".join(f"{fmt(a)}:{b}" for a, b in zip(rs, rz))
case("per-axis-0 i8", x, f"!quant.uniform<i8:f32:0, {{{spec}}}>", "i8",
     rs.reshape(4, 1), rz.reshape(4, 1))
cs = rng.uniform(0.01, 0.1, 8).astype(np.float32)
spec = ", ".join(fmt(a) for a in cs)
case("per-axis-1 i8 narrow", x, f"!quant.uniform<i8<-127:127>:f32:1, {{{spec}}}>",
     "i8", cs.reshape(1, 8), None, narrow=True)

# Sub-channel: 2x4 blocks -> a 2x2 scale tensor.
bs = rng.uniform(0.05, 0.5, (2, 2)).astype(np.float32)
bz = rng.integers(0, 16, (2, 2)).astype(np.uint8)
rows = ", ".join("{" + ", ".join(f"{fmt(a)}:{b}" for a, b in zip(r, zr)) + "}"
                 for r, zr in zip(bs, bz))
case("sub-channel u4", x, f"!quant.uniform<u4:f32:{{0:2, 1:4}}, {{{rows}}}>",
     "ui4", bs, bz)

results = m.run()
check = Checker()
for name, index, want in checks:
    check.equal(name, results[index], want)
check.finish()
