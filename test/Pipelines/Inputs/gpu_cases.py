"""Writes weight-only qopt.matmul products over the combinations the GPU
kernels take or refuse: shapes for each family (GEMV, X-tile GEMM, tiled
GEMM, M not a multiple of the tiles), f16/bf16 activations with f16, f32 or
bf16 results, INT4/INT8 codes signed or unsigned, FP8 codes, per-tensor, per-row and
per-group scales (groups 32, 64, 128), constant and argument zero points,
f32 and f16 scales, and a 3-D input. For gpu-coverage.test."""

import sys


def product(name, m, n, k, act, out, storage, packed, group, zero,
            zero_const=True, scale_type="f32", batch=None):
    cols = k // 2 if packed else k
    wtype = "i8" if packed else storage
    # group: 0 per row, -1 per tensor, else the group size along K.
    sshape = {0: f"{n}x1", -1: ""}[group] if group <= 0 else \
        f"{n}x{k // group}"
    prefix = sshape + "x" if sshape else ""
    stype = f"tensor<{prefix}{scale_type}>"
    ztype = f"tensor<{prefix}{storage}>"
    xshape = f"{batch}x{m}x{k}" if batch else f"{m}x{k}"
    yshape = f"{batch}x{m}x{n}" if batch else f"{m}x{n}"
    attrs = ("{acc_type = f32, packed = %s}" % storage if packed
             else "{acc_type = f32}")
    zdef = f"  %z = arith.constant dense<3> : {ztype}\n" \
        if zero and zero_const else ""
    zarg = f", %z: {ztype}" if zero and not zero_const else ""
    zuse, zt = (", %z", f", {ztype}") if zero else ("", "")
    return f"""func.func @{name}(%x: tensor<{xshape}x{act}>, %w: tensor<{n}x{cols}x{wtype}>, %s: {stype}{zarg}) -> tensor<{yshape}x{out}> {{
{zdef}  %y = qopt.matmul %x, %w, %s{zuse} {attrs} : (tensor<{xshape}x{act}>, tensor<{n}x{cols}x{wtype}>, {stype}{zt}) -> tensor<{yshape}x{out}>
  return %y : tensor<{yshape}x{out}>
}}
"""


FORMATS = [("i4", True, 128, False), ("ui4", True, 64, True),
           ("i4", True, 32, False), ("i8", False, 0, False),
           ("ui8", False, 32, True), ("i4", True, -1, True),
           ("ui4", True, 128, True), ("f8E4M3FN", False, 0, False),
           ("f8E4M3FN", False, 32, False), ("f8E5M2", False, 32, False),
           ("f8E5M2", False, -1, False)]
functions = []
for m, n, k in [(1, 16, 256), (17, 32, 256), (65, 64, 512), (100, 128, 256)]:
    for act, out in [("f16", "f16"), ("bf16", "f32")]:
        for storage, packed, group, zero in FORMATS:
            for scale_type in ["f32", "f16"]:
                gname = {0: "row", -1: "tensor"}.get(group, group)
                name = (f"c_m{m}_{act}_{storage}_g{gname}"
                        f"{'z' if zero else ''}_{scale_type}")
                functions.append(product(name, m, n, k, act, out, storage,
                                         packed, group, zero,
                                         scale_type=scale_type))
functions.append(product("batch3d", 4, 64, 256, "f16", "f16", "ui4", True,
                         128, True, batch=2))
functions.append(product("zero_argument", 4, 64, 256, "f16", "f16", "i4",
                         True, 128, True, zero_const=False))
sys.stdout.write("\n".join(functions))
