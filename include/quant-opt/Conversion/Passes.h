//===- Passes.h - qopt conversion passes --------------------------*- C++ -*-===//

#ifndef QUANT_OPT_CONVERSION_PASSES_H
#define QUANT_OPT_CONVERSION_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"
#include "quant-opt/Dialect/QOpt/IR/QOpt.h"

namespace mlir {
class RewritePatternSet;
class TypeConverter;

namespace qopt {

#define GEN_PASS_DECL
#include "quant-opt/Conversion/Passes.h.inc"

/// Patterns lowering qopt.quantize / dequantize / pack / unpack to
/// linalg.generic on tensors.
void populateQOptToLinalgPatterns(RewritePatternSet &patterns);

/// Patterns lowering qopt.matmul to scf.for loops over tensors.
void populateQOptMatmulToLoopsPatterns(RewritePatternSet &patterns);

/// Converts `!quant.uniform` element types (and tensors of them) to their
/// storage types; other types are left as they are.
void populateQuantStorageTypeConversion(TypeConverter &converter);

/// Whether an NVIDIA target chip of qopt-gpu-pipeline (sm_80, sm_89,
/// sm_90a) runs FP8 mma.sync: every chip but sm_80.
inline bool hasFP8MmaSync(llvm::StringRef chip) {
  return chip != "sm_80";
}

/// The chips of a `chip` option ("sm_80,sm_90a"): split at commas, trimmed,
/// empty entries dropped.
inline llvm::SmallVector<llvm::StringRef> splitChipList(llvm::StringRef list) {
  llvm::SmallVector<llvm::StringRef> chips;
  list.split(chips, ',', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
  for (llvm::StringRef &chip : chips)
    chip = chip.trim();
  llvm::erase_if(chips, [](llvm::StringRef c) { return c.empty(); });
  return chips;
}

#define GEN_PASS_REGISTRATION
#include "quant-opt/Conversion/Passes.h.inc"

} // namespace qopt
} // namespace mlir

#endif // QUANT_OPT_CONVERSION_PASSES_H
