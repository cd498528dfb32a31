"""Writes DIR/model.mlir, products of M rows (argv[2], default 1: GEMVs;
above 16 the X-tile GEMM) with constant weights of distinct bytes, and
DIR/check.txt, the FileCheck lines of their weights as the kernels tile
them: [N/16][K steps][16 rows][64 bytes], computed here with NumPy. The
third product's weight is a dense_resource blob, as importers write
weights; the fourth's a blob of [2, N/2, bytes] collapsed to [N, bytes]
(what the canonicalizer cannot fold)."""

import sys

import numpy as np

out = sys.argv[1]
m = int(sys.argv[2]) if len(sys.argv) > 2 else 1
family = "gemv" if m <= 16 else "gemm"
cases = []  # (name, N, K, bytes a row, weight bytes [N, B], attributes)
rng = np.random.default_rng(7)
for name, n, k, packed in (("i4", 32, 256, True), ("i8", 16, 128, False),
                           ("blob", 16, 256, True), ("blob3d", 32, 256, True)):
    nbytes = k // 2 if packed else k
    w = rng.integers(0, 256, (n, nbytes), dtype=np.uint8)
    attrs = "{acc_type = f32, packed = i4}" if packed else "{acc_type = f32}"
    cases.append((name, n, k, nbytes, w, attrs))

with open(f"{out}/model.mlir", "w") as f:
    for name, n, k, nbytes, w, attrs in cases:
        wt = f"tensor<{n}x{nbytes}xi8>"
        st = f"tensor<{n}x1xf32>"
        value = f'dense_resource<{name}>' if name.startswith("blob") else \
            f'dense<"0x{w.tobytes().hex().upper()}">'
        if name == "blob3d":
            w3t = f"tensor<2x{n // 2}x{nbytes}xi8>"
            weight = (f"%w3 = arith.constant {value} : {w3t}\n"
                      f"  %w = tensor.collapse_shape %w3 [[0, 1], [2]] : "
                      f"{w3t} into {wt}")
        else:
            weight = f"%w = arith.constant {value} : {wt}"
        f.write(f"""func.func @{name}(%x: tensor<{m}x{k}xf16>, %s: {st}) -> tensor<{m}x{n}xf16> {{
  {weight}
  %y = qopt.matmul %x, %w, %s {attrs}
      : (tensor<{m}x{k}xf16>, {wt}, {st}) -> tensor<{m}x{n}xf16>
  return %y : tensor<{m}x{n}xf16>
}}
""")
    # The blobs: a 4-byte little-endian alignment, then the bytes.
    blobs = ",\n".join(
        f'      {name}: "0x01000000{w.tobytes().hex().upper()}"'
        for name, n, k, nbytes, w, attrs in cases if name.startswith("blob"))
    f.write('{-#\n  dialect_resources: {\n    builtin: {\n'
            f'{blobs}\n'
            '    }\n  }\n#-}\n')

with open(f"{out}/check.txt", "w") as f:
    for name, n, k, nbytes, w, attrs in cases:
        tiles = w.reshape(n // 16, 16, nbytes // 64, 64).transpose(0, 2, 1, 3)
        f.write(f"CHECK-LABEL: func.func @{name}(\n")
        f.write(f'CHECK: arith.constant dense<"0x{tiles.tobytes().hex().upper()}"> : tensor<{n}x{nbytes}xi8>\n')
        codes = "i8" if name == "i8" else "i4"
        f.write(f"CHECK: call @qopt_{family}_{codes}_f16_f16_m{m}n{n}k{k}_{{{{[a-z0-9_]+}}}}s_tw_launch_c1(\n")
