//===- QOptDialect.td - The qopt dialect definition --------*- tablegen -*-===//
//
// The qopt dialect: affine and FP8 quantized tensors, packed 4-bit storage.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_DIALECT_QOPT_IR_QOPTDIALECT_TD
#define QUANT_OPT_DIALECT_QOPT_IR_QOPTDIALECT_TD

include "mlir/IR/OpBase.td"

def QOpt_Dialect : Dialect {
  let name = "qopt";
  let cppNamespace = "::mlir::qopt";
  let summary = "Quantized and compressed tensors for neural-network compilers";
  let description = [{
    The `qopt` dialect describes quantized tensors with ordinary builtin
    types: the *storage type* is the element type of the tensor (`i8`, `i4`,
    `ui8`, `ui4`, `f8E4M3FN`, `f8E5M2`) and the *quantization parameters* are
    SSA operands (a scale tensor and, for affine integer schemes, a zero-point
    tensor).

    **Granularity is the shape of the scale tensor.** A scale tensor has rank
    0 (per-tensor) or the rank of the quantized tensor. Every dimension of the
    data must be a multiple of the matching scale dimension; the quotient is
    the block size along that dimension. One rule covers per-tensor
    (`tensor<f32>` or an all-ones shape), per-channel (`tensor<Mx1xf32>` for
    the rows of an `MxN` weight), per-group (`tensor<Mx(N/128)xf32>`) and 2-D
    blocks (`tensor<(M/128)x(N/128)xf32>`).

    Numerics (see `docs/Numerics.md`):

    * integer quantize: `q = clip(round_half_even(x / s) + z, qmin, qmax)`
    * integer dequantize: `x' = s * (q - z)`
    * FP8 quantize: `q = fp8(x / s)`, round to nearest even, saturating to
      the largest finite value of the format; dequantize `x' = s * float(q)`.
  }];
  let hasConstantMaterializer = 1;
  let hasOperationAttrVerify = 1;
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

class QOpt_Op<string mnemonic, list<Trait> traits = []>
    : Op<QOpt_Dialect, mnemonic, traits>;

#endif // QUANT_OPT_DIALECT_QOPT_IR_QOPTDIALECT_TD
