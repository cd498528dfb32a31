//===- QOpt.h - The qopt dialect ----------------------------------*- C++ -*-===//
//
// Declarations of the qopt dialect and its operations.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_DIALECT_QOPT_IR_QOPT_H
#define QUANT_OPT_DIALECT_QOPT_IR_QOPT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "quant-opt/Dialect/QOpt/IR/QOptOpsDialect.h.inc"

#define GET_OP_CLASSES
#include "quant-opt/Dialect/QOpt/IR/QOptOps.h.inc"

namespace mlir::qopt {

/// The quantization scheme implied by a storage element type.
struct StorageInfo {
  Type type;          ///< The storage element type itself.
  unsigned bitWidth;  ///< 4 or 8.
  bool isFloat;       ///< FP8 storage.
  bool isSigned;      ///< i8 / i4 (two's complement); false for ui8 / ui4.
  int64_t qmin, qmax; ///< Integer code range (unused for FP8).
};

/// Returns the scheme of `type`, or std::nullopt when it is not one of the
/// storage types `i8 i4 ui8 ui4 f8E4M3FN f8E5M2`.
std::optional<StorageInfo> getStorageInfo(Type type, bool narrowRange = false);

/// Block sizes of a scale tensor over a data tensor (the granularity rule):
/// result[i] is how many data elements along dimension i share one scale, or
/// ShapedType::kDynamic when that is only known at run time. Returns failure
/// (with `error` set) when the shapes break the rule.
FailureOr<SmallVector<int64_t>> getBlockSizes(ArrayRef<int64_t> dataShape,
                                              ArrayRef<int64_t> scaleShape,
                                              std::string *error = nullptr);

/// The name a location carries (a NameLoc, also inside a FusedLoc or
/// CallSiteLoc): how passes and reports refer to a layer
/// ("layer0.q_proj"). Without one, "file:line:col" of a FileLineColLoc, or
/// the printed location.
std::string getLocationName(Location loc);

/// The attribute of a launch function of convert-qopt-matmul-to-gpu: a
/// dictionary with the `kernel` symbol and 3-D `grid` and `block` arrays,
/// and optionally `cluster` (3-D thread-block clusters),
/// `dynamic_shared_memory`, `persistent` (grid x at most the device's SM
/// count, taken at launch), `resident` and `tensor_maps` (checked by the
/// dialect's attribute verifier).
constexpr StringLiteral kGPULaunchAttrName = "qopt.gpu_launch";

/// Why a TMA tensor map of a buffer of `type` cannot load boxes of `box` =
/// [rows, columns] elements (empty if it can): the buffer must be 2-D,
/// row-major, of 1-, 2- or 4-byte elements, non-empty, its rows a multiple
/// of 16 bytes; the box 2-D, 1 to 256 elements a dimension, its rows a
/// multiple of 16 bytes. Shared by qopt.gpu_tensor_map and the
/// `tensor_maps` of qopt.gpu_launch.
std::string getTensorMapError(ShapedType type, ArrayRef<int64_t> box);

/// The swizzle a tensor map of boxes `boxRowBytes` bytes wide loads with:
/// the span of a box row when it is 32, 64 or 128 bytes, else 0 (none).
inline int64_t getTensorMapSwizzleBytes(int64_t boxRowBytes) {
  return boxRowBytes == 32 || boxRowBytes == 64 || boxRowBytes == 128
             ? boxRowBytes
             : 0;
}

} // namespace mlir::qopt

#endif // QUANT_OPT_DIALECT_QOPT_IR_QOPT_H
