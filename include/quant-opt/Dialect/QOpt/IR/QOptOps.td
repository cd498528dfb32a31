//===- QOptOps.td - qopt operations ------------------------*- tablegen -*-===//
//
// Core ops of the qopt dialect: quantize, dequantize, pack and unpack.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_DIALECT_QOPT_IR_QOPTOPS_TD
#define QUANT_OPT_DIALECT_QOPT_IR_QOPTOPS_TD

include "quant-opt/Dialect/QOpt/IR/QOptDialect.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def QOpt_I4 : I<4>;
def QOpt_UI4 : UI<4>;

def QOpt_FloatElement : AnyTypeOf<[F16, BF16, F32, F64]>;
def QOpt_ScaleElement : AnyTypeOf<[F16, BF16, F32, F64]>;
def QOpt_IntegerStorage : AnyTypeOf<[I8, QOpt_I4, UI8, QOpt_UI4]>;
def QOpt_StorageElement
    : AnyTypeOf<[I8, QOpt_I4, UI8, QOpt_UI4, F8E4M3FN, F8E5M2]>;
def QOpt_NibbleElement : AnyTypeOf<[QOpt_I4, QOpt_UI4]>;

def QOpt_FloatTensor : RankedTensorOf<[QOpt_FloatElement]>;
def QOpt_ScaleTensor : RankedTensorOf<[QOpt_ScaleElement]>;
def QOpt_ZeroPointTensor : RankedTensorOf<[QOpt_IntegerStorage]>;
def QOpt_StorageTensor : RankedTensorOf<[QOpt_StorageElement]>;
def QOpt_NibbleTensor : RankedTensorOf<[QOpt_NibbleElement]>;
def QOpt_ByteTensor : RankedTensorOf<[I8]>;

//===----------------------------------------------------------------------===//
// quantize / dequantize
//===----------------------------------------------------------------------===//

def QOpt_QuantizeOp : QOpt_Op<"quantize", [Pure]> {
  let summary = "Quantize a floating-point tensor to integer or FP8 storage";
  let description = [{
    Maps every element `x` of `input` to the storage type of the result:

    * integer storage (`i8`, `i4`, `ui8`, `ui4`):
      `q = clip(round_half_even(x / s) + z, qmin, qmax)`, where `s` and `z`
      are the scale and zero point of the block that holds `x` (`z = 0` when
      no zero point is given). `[qmin, qmax]` is the full range of the
      storage type, or `[-(2^(b-1) - 1), 2^(b-1) - 1]` with `narrow_range`.
    * FP8 storage (`f8E4M3FN`, `f8E5M2`): `q = fp8(x / s)` with round to
      nearest even and saturation to the largest finite value (448 for
      E4M3FN, 57344 for E5M2). There is no zero point.

    The division is computed in `f32` (`f64` when the input or the scale is
    `f64`). Special values are defined: NaN quantizes to the zero point
    (integer storage) or to NaN (FP8 E4M3FN has no infinity; E5M2 keeps its
    NaN); +-inf saturates to `qmax` / `qmin` (integer) or the largest finite
    FP8 value. A zero scale therefore sends non-zero inputs to the clipping
    bounds and `0 / 0` to the zero point; an infinite scale sends finite
    inputs to the zero point.

    The shape of `scale` is the granularity (see the dialect description);
    `zero_point`, when present, has the shape of `scale` and the element type
    of the result.

    Requantizing integer codes with the parameters they were dequantized
    with, `quantize(dequantize(q, s, z), s, z)`, folds to `q` (each code
    survives the round trip exactly). The opposite order is never folded:
    `dequantize(quantize(x))` carries the quantization error the IR asks
    for.

    Example:

    ```mlir
    // Per-group INT4 (groups of 128 along the rows of an 8x256 weight).
    %q = qopt.quantize %w, %s : (tensor<8x256xf32>, tensor<8x2xf32>) -> tensor<8x256xi4>
    // Asymmetric per-tensor UINT8.
    %a = qopt.quantize %x, %s, %z : (tensor<4xf32>, tensor<f32>, tensor<ui8>) -> tensor<4xui8>
    // Symmetric narrow-range INT8: codes in [-127, 127].
    %n = qopt.quantize %x, %s {narrow_range} : (tensor<4xf32>, tensor<f32>) -> tensor<4xi8>
    ```
  }];
  let arguments = (ins QOpt_FloatTensor:$input, QOpt_ScaleTensor:$scale,
                       Optional<QOpt_ZeroPointTensor>:$zero_point,
                       UnitAttr:$narrow_range);
  let results = (outs QOpt_StorageTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale (`,` $zero_point^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def QOpt_DequantizeOp : QOpt_Op<"dequantize", [Pure]> {
  let summary = "Dequantize integer or FP8 storage to floating point";
  let description = [{
    Maps every code `q` of `input` back to a real value: `s * (q - z)` for
    integer storage (`z = 0` when no zero point is given) and
    `s * float(q)` for FP8 storage. The product is computed in `f32` (`f64`
    when the result or the scale is `f64`) and rounded once to the result
    element type. The operands follow the rules of `qopt.quantize`;
    `narrow_range` is accepted so that a quantize / dequantize pair can carry
    the same attributes, and has no effect on the result.

    Example:

    ```mlir
    %d = qopt.dequantize %q, %s : (tensor<8x256xi4>, tensor<8x2xf32>) -> tensor<8x256xf32>
    ```
  }];
  let arguments = (ins QOpt_StorageTensor:$input, QOpt_ScaleTensor:$scale,
                       Optional<QOpt_ZeroPointTensor>:$zero_point,
                       UnitAttr:$narrow_range);
  let results = (outs QOpt_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale (`,` $zero_point^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// pack / unpack
//===----------------------------------------------------------------------===//

def QOpt_PackOp : QOpt_Op<"pack", [Pure]> {
  let summary = "Pack two 4-bit codes per byte along the innermost dimension";
  let description = [{
    Stores element `2k` of the innermost dimension in the low nibble and
    element `2k + 1` in the high nibble of byte `k`, each as its 4-bit
    pattern (two's complement for `i4`). The innermost dimension must be
    even; the result has half as many elements along it.

    Example: the `i4` pair `(-3, 6)` packs to the byte `0x6d`.

    ```mlir
    %p = qopt.pack %q : tensor<8x256xi4> -> tensor<8x128xi8>
    ```

    `pack(unpack(p))` folds to `p` and constant operands fold to constants.
  }];
  let arguments = (ins QOpt_NibbleTensor:$input);
  let results = (outs QOpt_ByteTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def QOpt_UnpackOp : QOpt_Op<"unpack", [Pure]> {
  let summary = "Unpack bytes into two 4-bit codes each";
  let description = [{
    The inverse of `qopt.pack`: byte `k` of the innermost dimension yields
    element `2k` (low nibble) and `2k + 1` (high nibble) of the result,
    sign-extended for `i4` and zero-extended for `ui4`.

    ```mlir
    %u = qopt.unpack %p : tensor<8x128xi8> -> tensor<8x256xi4>
    ```

    `unpack(pack(x))` folds to `x` and constant operands fold to constants.
  }];
  let arguments = (ins QOpt_ByteTensor:$input);
  let results = (outs QOpt_NibbleTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// matmul
//===----------------------------------------------------------------------===//

def QOpt_MatmulWeightElement
    : AnyTypeOf<[I8, QOpt_I4, UI8, QOpt_UI4, F8E4M3FN, F8E5M2]>;

def QOpt_MatmulInputElement
    : AnyTypeOf<[F16, BF16, F32, F64, I8, UI8, F8E4M3FN, F8E5M2]>;

def QOpt_MatmulOp : QOpt_Op<"matmul", [Pure, AttrSizedOperandSegments]> {
  let summary = "Matrix product with a quantized weight, dequantized on the fly";
  let description = [{
    Computes `Y = X · dequant(W)ᵀ` the way `nn.Linear` does: `X` is
    `[..., K]` (any number of leading batch dimensions, f32 / f16 / bf16),
    the weight is `[N, K]` and `Y` is `[..., N]`:

    ```
    Y[..., n] = sum_k X[..., k] * s[n / bn, k / bk] * (q[n, k] - z[n / bn, k / bk])
    ```

    `scale` (and `zero_point`) follow the granularity rule of
    `qopt.quantize` over the `[N, K]` weight: `tensor<f32>` per tensor,
    `tensor<Nx1xf32>` per output channel, `tensor<Nx(K/g)xf32>` per group.

    The weight is stored as its codes: `tensor<NxKxi8>` (or `ui8`,
    `f8E4M3FN`, `f8E5M2`, unpacked `i4` / `ui4`), or packed two 4-bit codes
    per byte as by `qopt.pack` — `tensor<Nx(K/2)xi8>` with
    `packed = i4` (or `ui4`) naming the code type. Products accumulate in
    `acc_type` (`f32`) and are rounded once to the result element type.

    Lowerings never materialise the full-precision weight: each code is
    dequantized inside the reduction loop.

    **Quantized activations.** With `input_scale(%sx)` the input holds
    codes too — `i8` (symmetric, W8A8 with an `i8` weight: products of
    codes accumulate exactly in `i32` per scale group), `ui8` with an input
    zero point (`input_scale(%sx, %zx)`, asymmetric activations) or FP8
    (with an FP8 weight) — and
    `Y = sx · Σ_k (q_x[k] − zx) · s_w · (q_w[n, k] − z)`. `sx` is
    per tensor (`tensor<f32>`) or per row of the input (`tensor<...x1xf32>`,
    the shape of the input with K replaced by 1: per-token scales).

    ```mlir
    %y = qopt.matmul %xq, %w, %sw input_scale(%sx) {acc_type = f32}
        : (tensor<16x4096xi8>, tensor<4096x4096xi8>, tensor<4096x1xf32>, tensor<f32>) -> tensor<16x4096xf32>
    ```

    Canonicalization reads activation codes directly where they exist: an
    input `qopt.dequantize %q, %s, %z` (per tensor or per row, codes that
    pair with the weight) becomes `qopt.matmul %q, ... input_scale(%s, %z)`,
    and so does a requantization `qopt.quantize (qopt.dequantize %q ...)`
    feeding `input_scale`: the product then sees the exact dequantized
    values, without a second rounding.

    Example (INT4, groups of 128, packed):

    ```mlir
    %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4}
        : (tensor<16x4096xf32>, tensor<4096x2048xi8>, tensor<4096x32xf32>) -> tensor<16x4096xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[QOpt_MatmulInputElement]>:$input,
                       RankedTensorOf<[QOpt_MatmulWeightElement]>:$weight,
                       QOpt_ScaleTensor:$scale,
                       Optional<QOpt_ZeroPointTensor>:$zero_point,
                       Optional<QOpt_ScaleTensor>:$input_scale,
                       Optional<QOpt_ZeroPointTensor>:$input_zero_point,
                       TypeAttr:$acc_type,
                       OptionalAttr<TypeAttr>:$packed);
  let results = (outs QOpt_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $scale (`,` $zero_point^)?
    (`input_scale` `(` $input_scale^ (`,` $input_zero_point^)? `)`)?
    attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
  let extraClassDeclaration = [{
    /// The code type of the weight: the packed type, or the element type.
    Type getWeightStorageType();
    /// N and K of the logical [N, K] weight.
    int64_t getN() { return getWeight().getType().getDimSize(0); }
    int64_t getK();
  }];
}

//===----------------------------------------------------------------------===//
// observe
//===----------------------------------------------------------------------===//

def QOpt_ObserveOp : QOpt_Op<"observe",
    [AllTypesMatch<["input", "result"]>,
     DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "Record statistics of a tensor at run time (identity)";
  let description = [{
    Returns its operand unchanged and, each time it runs, adds the operand's
    statistics to the calibration state under `name`. `stats` selects them:

    * `minmax`: smallest and largest finite value;
    * `histogram`: histogram of |x| (2048 bins over a power-of-two range,
      for percentile, MSE and entropy calibration);
    * `channel_absmax`, `channel_absmean`: per channel of the last
      dimension, max |x| and mean |x| over all other dimensions (AWQ,
      SmoothQuant);
    * `hessian`: sum of x xᵀ over the rows of the operand viewed as
      [tokens, K] and the token count (GPTQ's H = 2/n · X Xᵀ).

    `qopt-insert-observers` inserts these ops; `qopt-cpu-pipeline` lowers
    them to calls into the calibration runtime that `quant-run` provides,
    and `quant-run --calibration-out` writes what they saw.

    ```mlir
    %y = qopt.observe %x {name = "layer0.q_proj.input", stats = ["minmax", "hessian"]} : tensor<16x4096xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$input, StrAttr:$name,
                       StrArrayAttr:$stats);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The statistic names the op accepts.
    static ArrayRef<StringRef> getKnownStats();
  }];
}

//===----------------------------------------------------------------------===//
// gpu_tensor_map
//===----------------------------------------------------------------------===//

def QOpt_GPUTensorMapOp : QOpt_Op<"gpu_tensor_map", [Pure]> {
  let summary = "The device address of a TMA tensor map of a device buffer";
  let description = [{
    Returns the device address (`i64`) of a CUDA tensor map (`CUtensorMap`,
    128 bytes in global memory) of `buffer`, a row-major 2-D device buffer
    of 1-, 2- or 4-byte elements, for `cp.async.bulk.tensor` loads of
    `box` = [rows, columns] elements into shared memory. The loads are
    swizzled over a box row when it is 32, 64 or 128 bytes wide (the
    pattern `wgmma` reads), not swizzled otherwise; rows past the buffer
    read as zeros.

    `qopt-materialize-gpu-launches` makes these for the kernels that load
    with TMA (the `tensor_maps` of a `qopt.gpu_launch`), and
    `qopt-lower-gpu-tensor-maps` lowers them to calls of
    `qoptTensorMap` in `libqopt_cuda_runtime`, which encodes a map once per
    address, shape and box and returns the same device copy afterwards.
    The op is therefore pure, which lets `gpu-async-region` leave it
    between the operations of one stream instead of synchronising there
    (its first evaluation for a buffer waits for the map's upload; hoisting
    or dropping it, as a pure op may be, changes nothing else).

    ```mlir
    %map = qopt.gpu_tensor_map %x box [128, 128] : memref<4096x8192xi8>
    ```
  }];
  let arguments = (ins AnyStaticShapeMemRef:$buffer, DenseI64ArrayAttr:$box);
  let results = (outs I64:$map);
  let assemblyFormat = "$buffer `box` $box attr-dict `:` type($buffer)";
  let hasVerifier = 1;
}

#endif // QUANT_OPT_DIALECT_QOPT_IR_QOPTOPS_TD
