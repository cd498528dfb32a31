#!/usr/bin/env python3
"""Builds the kernels bench/gpu/run.py measures (run here, needs quant-opt).

Writes one MLIR module of weight-only products per configuration, runs
`qopt-gpu-pipeline{kernels-dir=...}` on it and leaves, under OUT,

  table/            the GEMVs of the benchmark table, weight-only and 8-bit
                    (M <= 16; tiling heuristic, weight-layout=tiles: run.py
                    passes tiled weights)
  table-gemm/       its other products (weights in rows), at the defaults:
                    on sm_90a the 8-bit GEMMs run on the persistent wgmma
                    kernel with TMA loads (run.py passes the kernels'
                    tensor maps)
  table-mma/        its 8-bit GEMMs on mma.sync (wgmma=0: what sm_80 and
                    sm_89 run), rows marked [mma]
  table-wgmma-nN/   its 8-bit GEMMs on wgmma with cp.async stages
                    (wgmma-tma=0, N-column tiles), rows marked [wgmma-nN];
                    table-wgmma-nN-sS: M = 4096, N = K = 8192 at S stages
  table-wgmma-tma-nN/
                    the same GEMMs with tiles loaded by TMA, not persistent
                    (wgmma-persistent=0), rows marked [wgmma-tma-nN];
                    table-wgmma-tma-nN-sS: at S stages;
                    table-wgmma-tma-persistent-nN: persistent, on M = 4096,
                    N = K = 8192 and two uneven shapes (K = 1152, M = 1500);
                    table-wgmma-tma-cluster-nN: the same products in
                    clusters of two (wgmma-cluster=2, TMA multicast);
                    table-wgmma-tma-cluster-persistent-nN: both
  e2e/decode        test/Integration/GPU/gemv_e2e.mlir compiled ahead of
                    time (quant-compile) with its checking main()
  e2e/resident      the same for constant weights (resident_weights.test):
                    two calls, the second on the weights the first uploaded
  e2e/w8a8          test/Integration/GPU/Inputs/w8a8_model.mlir for
                    quant-compile's default chips (sm_80,sm_90a), checked
                    by Inputs/w8a8_check.c (w8a8_e2e_device.test)
  sweep-skS-stP/    the M=1, N=K=4096 and 8192 INT4 kernels with split-K S,
                    P pipeline stages
  sweep-skS-tw/     tiled weights at split-K S (the table's layout);
                    sweep-sk8-pf2-tw two steps loaded ahead;
                    sweep-m16-skS-tw: M = 8 and 16 at split-K S;
                    sweep-gemm-tw: the X-tile GEMM on tiled weights;
                    sweep-m16-r2*: two row tiles a warp
  mma_sp_check      bench/gpu/mma_sp_check.cu (nvcc): the numerics
                    library's 2:4 mma.sp metadata on every shape and selector

each with the kernel binaries and kernels.json (qopt-export-gpu-kernels).
The function names carry the case: <family>_<act>_m<M>_n<N>_k<K>.

  python3 bench/gpu/build.py --quant-opt build/bin/quant-opt --out build/gpu-bench
"""

import argparse
import itertools
import os
import subprocess
import sys

# family: (weight storage type, packed, group size along K, zero points)
FAMILIES = {
    "w4a16": ("i4", True, 128, False),
    "w4a16u": ("ui4", True, 128, False),
    "w4a16z": ("ui4", True, 128, True),
    # Groups below the GEMV's K step: scaled in f16/bf16 before the product.
    "w4a16g64": ("i4", True, 64, False),
    "w4a16zg32": ("ui4", True, 32, True),
    "w8a16": ("i8", False, 0, False),
    "w8a16z": ("ui8", False, 0, True),
    "w8a16fp8": ("f8E4M3FN", False, 0, False),
    "w8a16fp8g32": ("f8E4M3FN", False, 32, False),
}


def w8a8_function(m, n, k):
    name = f"w8a8_i8_m{m}_n{n}_k{k}"
    types = (f"tensor<{m}x{k}xi8>, tensor<{n}x{k}xi8>, tensor<{n}x1xf32>, "
             f"tensor<{m}x1xf32>")
    return name, f"""
func.func @{name}(%x: tensor<{m}x{k}xi8>, %w: tensor<{n}x{k}xi8>,
                  %sw: tensor<{n}x1xf32>, %sx: tensor<{m}x1xf32>) -> tensor<{m}x{n}xf16> {{
  %y = qopt.matmul %x, %w, %sw input_scale(%sx) {{acc_type = f32}}
      : ({types}) -> tensor<{m}x{n}xf16>
  return %y : tensor<{m}x{n}xf16>
}}
"""


def w8a8_zero_function(family, m, n, k):
    """Asymmetric activations x i8 weights: w8a8u8, ui8 with per-row zero
    points; w8a8z, i8 with a per-tensor one. The weight is a constant (the
    GPU path folds its row sums); the kernel takes the weight and its row
    sums as operands, which run.py fills."""
    unsigned = family == "w8a8u8"
    code = "ui8" if unsigned else "i8"
    name = f"{family}_{code}_m{m}_n{n}_k{k}"
    xt = f"tensor<{m}x{k}x{code}>"
    st = f"tensor<{m}x1xf32>" if unsigned else "tensor<f32>"
    zt = f"tensor<{m}x1x{code}>" if unsigned else f"tensor<{code}>"
    return name, f"""
func.func @{name}(%x: {xt}, %sw: tensor<{n}x1xf32>, %sx: {st},
                  %zx: {zt}) -> tensor<{m}x{n}xf16> {{
  %w = arith.constant dense<1> : tensor<{n}x{k}xi8>
  %y = qopt.matmul %x, %w, %sw input_scale(%sx, %zx) {{acc_type = f32}}
      : ({xt}, tensor<{n}x{k}xi8>, tensor<{n}x1xf32>, {st}, {zt}) -> tensor<{m}x{n}xf16>
  return %y : tensor<{m}x{n}xf16>
}}
"""


# The FP8 pairs of the table ("act": X's format, then W's where it differs).
FP8_PAIRS = {"e4m3": ("f8E4M3FN", "f8E4M3FN"),
             "e4m3e5m2": ("f8E4M3FN", "f8E5M2")}


def fp8_function(act, m, n, k):
    """FP8 x FP8 (E4M3 x E4M3, or E4M3 x E5M2 weights) with per-row scales
    on both sides."""
    name = f"w8a8fp8_{act}_m{m}_n{n}_k{k}"
    fx, fw = FP8_PAIRS[act]
    types = (f"tensor<{m}x{k}x{fx}>, tensor<{n}x{k}x{fw}>, "
             f"tensor<{n}x1xf32>, tensor<{m}x1xf32>")
    return name, f"""
func.func @{name}(%x: tensor<{m}x{k}x{fx}>, %w: tensor<{n}x{k}x{fw}>,
                  %sw: tensor<{n}x1xf32>, %sx: tensor<{m}x1xf32>) -> tensor<{m}x{n}xf16> {{
  %y = qopt.matmul %x, %w, %sw input_scale(%sx) {{acc_type = f32}}
      : ({types}) -> tensor<{m}x{n}xf16>
  return %y : tensor<{m}x{n}xf16>
}}
"""


def case_function(family, act, m, n, k):
    if family == "w8a8":
        return w8a8_function(m, n, k)
    if family == "w8a8fp8":
        return fp8_function(act, m, n, k)
    if family in ("w8a8u8", "w8a8z"):
        return w8a8_zero_function(family, m, n, k)
    storage, packed, group, zero = FAMILIES[family]
    cols = k // 2 if packed else k
    groups = k // group if group else 1
    name = f"{family}_{act}_m{m}_n{n}_k{k}"
    attrs = "{acc_type = f32, packed = %s}" % storage if packed else \
        "{acc_type = f32}"
    wtype = "i8" if packed or storage == "i8" else storage
    # Zero points are compile-time constants in a model (the GPU path folds
    # them); the kernel takes them as an i32 operand, which run.py fills.
    ztype = f"tensor<{n}x{groups}x{storage}>"
    zdef = f"  %z = arith.constant dense<1> : {ztype}\n" if zero else ""
    zuse, ztypes = (", %z", f", {ztype}") if zero else ("", "")
    return name, f"""
func.func @{name}(%x: tensor<{m}x{k}x{act}>, %w: tensor<{n}x{cols}x{wtype}>,
                  %s: tensor<{n}x{groups}xf32>) -> tensor<{m}x{n}x{act}> {{
{zdef}  %y = qopt.matmul %x, %w, %s{zuse} {attrs}
      : (tensor<{m}x{k}x{act}>, tensor<{n}x{cols}x{wtype}>, tensor<{n}x{groups}xf32>{ztypes}) -> tensor<{m}x{n}x{act}>
  return %y : tensor<{m}x{n}x{act}>
}}
"""


def table_cases():
    for m, nk in itertools.product((1, 16, 64, 256), (4096, 8192)):
        yield ("w4a16", "f16", m, nk, nk)
        yield ("w8a16", "f16", m, nk, nk)
    # M not a multiple of the 64-row X tile.
    yield ("w4a16", "f16", 100, 4096, 4096)
    yield ("w4a16", "bf16", 1, 8192, 8192)
    yield ("w4a16", "bf16", 16, 8192, 8192)
    yield ("w4a16u", "f16", 1, 8192, 8192)
    # Zero points (asymmetric codes) on every kernel family.
    for m in (1, 16, 64, 256):
        yield ("w4a16z", "f16", m, 4096, 4096)
    yield ("w4a16z", "bf16", 256, 4096, 4096)
    for m in (1, 64, 256):
        yield ("w4a16g64", "f16", m, 4096, 4096)
        yield ("w4a16zg32", "f16", m, 4096, 4096)
    yield ("w8a16z", "f16", 1, 4096, 4096)
    # FP8 weights with f16 activations (weight-only FP8).
    for m in (1, 256):
        yield ("w8a16fp8", "f16", m, 8192, 8192)
    for m in (1, 64):
        yield ("w8a16fp8g32", "f16", m, 4096, 4096)
    yield ("w8a16z", "f16", 256, 4096, 4096)
    for m, nk in itertools.product((256, 4096), (4096, 8192)):
        yield ("w8a8", "i8", m, nk, nk)
    # Any number of tokens: a partial last row tile, and decode sizes
    # (M = 1, 16: the 8-bit GEMV).
    for m in (1, 1000):
        yield ("w8a8", "i8", m, 4096, 4096)
    for m, nk in ((1, 8192), (16, 4096), (16, 8192)):
        yield ("w8a8", "i8", m, nk, nk)
    yield ("w8a8u8", "ui8", 16, 4096, 4096)
    yield ("w8a8fp8", "e4m3", 1, 8192, 8192)
    # Asymmetric activations (ui8 with per-row zero points).
    for m in (256, 4096):
        yield ("w8a8u8", "ui8", m, 4096, 4096)
    yield ("w8a8z", "i8", 256, 4096, 4096)
    # FP8 x FP8 (on sm_90a mma.sync FP8 runs as f16 HMMA: docs/passes/gpu.md).
    for m in (256, 4096):
        yield ("w8a8fp8", "e4m3", m, 8192, 8192)
    # A mixed pair (E5M2 weights): the other operand types of the same
    # instructions.
    yield ("w8a8fp8", "e4m3e5m2", 256, 8192, 8192)


# --shrink and --format (bench/gpu/cpu_check.py's test builds small
# manifests quickly): N, and M from 2048 on, divided by SHRINK (K stays: it
# decides the split-K and stage configurations the sweeps name; smaller M
# decide the kernel family), kernels as FORMAT.
SHRINK = 1
FORMAT = "fatbin"


def shrunk(m, n):
    return (m // SHRINK if m >= 2048 else m), n // SHRINK


def build(quant_opt, cases, out, options):
    os.makedirs(out, exist_ok=True)
    source = os.path.join(out, "cases.mlir")
    with open(source, "w") as f:
        # (Shrinking can make two cases one.)
        for case in dict.fromkeys((family, act, *shrunk(m, n), k)
                                  for family, act, m, n, k in cases):
            f.write(case_function(*case)[1])
    pipeline = f"qopt-gpu-pipeline{{chip=sm_90a format={FORMAT} host=0 " \
               f"kernels-dir={out} {options}}}"
    subprocess.run([quant_opt, f"--pass-pipeline=builtin.module({pipeline})",
                    source, "-o", os.devnull], check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quant-opt", default="build/bin/quant-opt")
    parser.add_argument("--out", default="build/gpu-bench")
    parser.add_argument("--quant-compile", default="build/bin/quant-compile")
    parser.add_argument("--nvcc", default="/usr/local/cuda/bin/nvcc")
    parser.add_argument("--shrink", type=int, default=1,
                        help="divide N (and M from 2048) of every case by "
                        "this (bench/gpu/cpu_check.py's test; not for timing)")
    parser.add_argument("--format", default="fatbin",
                        help="kernel binaries: fatbin, or isa (PTX only)")
    parser.add_argument("--kernels-only", action="store_true",
                        help="leave out e2e/ and mma_sp_check")
    args = parser.parse_args()
    global SHRINK, FORMAT
    SHRINK, FORMAT = args.shrink, args.format
    # The GEMVs (M <= 16, weight-only and 8-bit) read weights in tiles, as
    # they do for the constant weights of a compiled model (run.py tiles
    # the operand); the other products read rows.
    def gemv(case):
        return case[2] <= 16
    build(args.quant_opt, [c for c in table_cases() if gemv(c)],
          os.path.join(args.out, "table"), "weight-layout=tiles")
    build(args.quant_opt, [c for c in table_cases() if not gemv(c)],
          os.path.join(args.out, "table-gemm"), "")
    # The 8-bit GEMMs on mma.sync (what sm_80 and sm_89 run).
    eight_bit = [c for c in table_cases()
                 if c[0].startswith("w8a8") and c[2] > 16]
    build(args.quant_opt, eight_bit, os.path.join(args.out, "table-mma"),
          "wgmma=0")
    # The wgmma GEMM's variants (the default: TMA, persistent, 256 or 128
    # columns by a wave estimate), each pinned by its options. With
    # cp.async stages, at two tile widths.
    # FP8 takes tiles of at most 128 columns: only in the -n128 builds.
    def for_tile(cases, tile_n):
        return [c for c in cases if tile_n <= 128 or c[0] != "w8a8fp8"]
    cp_async = "wgmma-tma=0 wgmma-persistent=0"
    for tile_n in (256, 128):
        build(args.quant_opt, for_tile(eight_bit, tile_n),
              os.path.join(args.out, f"table-wgmma-n{tile_n}"),
              f"{cp_async} wgmma-tile-n={tile_n}")
    # Fewer stages than the heuristic's (4 at 256, 6 at 128), the most that
    # fit (7 at 128), and 3 at 128: 97 KiB and about 113 registers, two
    # blocks an SM; on the largest products.
    largest = [c for c in eight_bit if c[2] == 4096 and c[3] == 8192]
    for tile_n, stages in ((256, 3), (128, 3), (128, 4), (128, 7)):
        build(args.quant_opt, for_tile(largest, tile_n),
              os.path.join(args.out, f"table-wgmma-n{tile_n}-s{stages}"),
              f"{cp_async} wgmma-tile-n={tile_n} wgmma-stages={stages}")
    # The same with tiles loaded by TMA from a producer warpgroup, not
    # persistent: at the heuristic's stages (4 at 256, the most that fit;
    # 6 at 128), and fewer on the largest products (168 registers a
    # thread: one block an SM at any stage count).
    for tile_n in (256, 128):
        build(args.quant_opt, for_tile(eight_bit, tile_n),
              os.path.join(args.out, f"table-wgmma-tma-n{tile_n}"),
              f"wgmma-persistent=0 wgmma-tile-n={tile_n}")
    for tile_n, stages in ((256, 3), (128, 4)):
        build(args.quant_opt, for_tile(largest, tile_n),
              os.path.join(args.out, f"table-wgmma-tma-n{tile_n}-s{stages}"),
              f"wgmma-persistent=0 wgmma-tile-n={tile_n} "
              f"wgmma-stages={stages}")
    # The TMA kernel persistent (on an H100, 132 blocks walking 7 or 8 of
    # the 1024 (N = 256) or 2048 tiles), on the largest products: their
    # time. And its correctness where a tile's 9 K steps are no multiple
    # of 2 S (a stage's mbarrier parity flips from one tile to the next),
    # with a partial row tile and a short last group of row tiles
    # (M = 1500: 12 row tiles), INT8 and FP8, 192 or 384 tiles.
    uneven = [("w8a8", "i8", 1500, 4096, 1152),
              ("w8a8fp8", "e4m3", 1500, 2048, 1152)]
    for tile_n in (256, 128):
        build(args.quant_opt, for_tile(largest + uneven, tile_n),
              os.path.join(args.out,
                           f"table-wgmma-tma-persistent-n{tile_n}"),
              f"wgmma-tile-n={tile_n}")
    # The TMA kernel in clusters of two blocks sharing the Wq tile by
    # multicast (wgmma-cluster=2), on the same products.
    for tile_n in (256, 128):
        build(args.quant_opt, for_tile(largest + uneven, tile_n),
              os.path.join(args.out, f"table-wgmma-tma-cluster-n{tile_n}"),
              f"wgmma-persistent=0 wgmma-cluster=2 wgmma-tile-n={tile_n}")
        # ... and persistent as well (pairs of tiles a cluster).
        build(args.quant_opt, for_tile(largest + uneven, tile_n),
              os.path.join(args.out,
                           f"table-wgmma-tma-cluster-persistent-n{tile_n}"),
              f"wgmma-cluster=2 wgmma-tile-n={tile_n}")
    for rows, warps in ((32, 2), (32, 4), (64, 2), (64, 8)):
        build(args.quant_opt, [("w4a16", "f16", m, nk, nk)
                               for m in (64, 256) for nk in (4096, 8192)],
              os.path.join(args.out, f"sweep-gemm-r{rows}-w{warps}"),
              f"tiled-gemm=0 gemm-tile-m={rows} gemm-warps={warps}")
    for split_k, stages in ((4, 1), (8, 1), (16, 1), (4, 3), (8, 3)):
        # The cp.async pipeline stages zero points and small-group scales.
        zero = [("w4a16z", "f16", 1, 4096, 4096),
                ("w4a16zg32", "f16", 1, 4096, 4096)] if stages > 1 else []
        build(args.quant_opt, [("w4a16", "f16", 1, nk, nk)
                               for nk in (4096, 8192)] + zero,
              os.path.join(args.out, f"sweep-sk{split_k}-st{stages}"),
              f"split-k={split_k} stages={stages}")
    # Register prefetch depth 2 (steps of weights loaded ahead), tiled.
    build(args.quant_opt, [("w4a16", "f16", 1, 8192, 8192)],
          os.path.join(args.out, "sweep-sk8-pf2-tw"),
          "split-k=8 stages=1 prefetch=2 weight-layout=tiles")
    # Tiled weights ([N/16][K steps][16][64 bytes], as the table reads them)
    # at other split-K values; the sweep-skS-st1 builds above read rows.
    # Tiles at other split-K values, and without streaming loads (-nosl:
    # through L1, no L2 prefetch hint).
    for name, options in (("sk4-tw", "split-k=4 weight-layout=tiles"),
                          ("sk16-tw", "split-k=16 weight-layout=tiles"),
                          ("sk8-tw-nosl", "split-k=8 weight-layout=tiles "
                                          "streaming-loads=0")):
        build(args.quant_opt, [("w4a16", "f16", 1, nk, nk)
                               for nk in (4096, 8192)]
              + [("w8a16", "f16", 1, 8192, 8192)],
              os.path.join(args.out, f"sweep-{name}"),
              f"{options} stages=1")
    # The X-tile GEMM (16 < M <= 64) on tiled weights with streaming loads
    # (gemm-tiled-weights, off by default until measured): against the
    # table's rows, and sweep-gemm-r32-w* above.
    build(args.quant_opt, [(fam, "f16", m, nk, nk) for fam in ("w4a16", "w8a16")
                           for m in (32, 64) for nk in (4096, 8192)],
          os.path.join(args.out, "sweep-gemm-tw"),
          "weight-layout=tiles gemm-tiled-weights=1")
    # Two 16-row tiles of W a warp (row-tiles=2: X fragments reused; off by
    # default until measured), tiled, at the heuristic's split-K and at 8.
    for name, options in (("m16-r2-tw", ""), ("m16-r2-sk8-tw", "split-k=8")):
        build(args.quant_opt, [("w4a16", "f16", 16, 8192, 8192),
                               ("w8a16", "f16", 16, 8192, 8192),
                               ("w4a16", "f16", 8, 8192, 8192),
                               ("w4a16", "f16", 1, 8192, 8192)],
              os.path.join(args.out, f"sweep-{name}"),
              f"{options} stages=1 row-tiles=2 weight-layout=tiles")
    # M = 8 and 16 (batched decode) at other split-K values, tiled.
    for split_k in (2, 4, 8, 16):
        build(args.quant_opt, [("w4a16", "f16", 16, 8192, 8192),
                               ("w8a16", "f16", 16, 8192, 8192),
                               ("w4a16", "f16", 8, 8192, 8192)],
              os.path.join(args.out, f"sweep-m16-sk{split_k}-tw"),
              f"split-k={split_k} stages=1 weight-layout=tiles")
    if args.kernels_only:
        print(f"kernels in {args.out}", file=sys.stderr)
        return
    e2e = os.path.join(args.out, "e2e")
    os.makedirs(e2e, exist_ok=True)
    subprocess.run([args.quant_compile, "test/Integration/GPU/gemv_e2e.mlir",
                    "-o", os.path.join(e2e, "decode"), "--main",
                    "test/Integration/GPU/Inputs/gemv_e2e.c"], check=True)
    # W8A8 for quant-compile's default chips (sm_80,sm_90a): the wgmma GEMM
    # on a device of compute capability 9.0, mma.sync elsewhere.
    subprocess.run([args.quant_compile,
                    "test/Integration/GPU/Inputs/w8a8_model.mlir", "-o",
                    os.path.join(e2e, "w8a8"), "--main",
                    "test/Integration/GPU/Inputs/w8a8_check.c"], check=True)
    # Constant weights resident on the device across calls.
    model = os.path.join(e2e, "resident_model.mlir")
    with open(model, "w") as f:
        subprocess.run([sys.executable,
                        "test/Integration/GPU/Inputs/resident_model.py"],
                       stdout=f, check=True)
    subprocess.run([args.quant_compile, model, "-o",
                    os.path.join(e2e, "resident"), "--main",
                    "test/Integration/GPU/Inputs/resident_main.c"], check=True)
    subprocess.run([args.nvcc, "-std=c++20", "-O2", "-Iinclude",
                    "-gencode", "arch=compute_80,code=sm_80",
                    "-gencode", "arch=compute_90a,code=sm_90a",
                    "bench/gpu/mma_sp_check.cu", "lib/Numerics/Sparsity.cpp",
                    "-o", os.path.join(args.out, "mma_sp_check")], check=True)
    print(f"kernels in {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
