//===- Passes.td - qopt transformation passes --------------*- tablegen -*-===//

#ifndef QUANT_OPT_DIALECT_QOPT_TRANSFORMS_PASSES_TD
#define QUANT_OPT_DIALECT_QOPT_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def RecordSignatures : Pass<"qopt-record-signatures", "::mlir::ModuleOp"> {
  let summary = "Record each public function's tensor signature for runners";
  let description = [{
    Attaches `qopt.signature = <function type>` to every public `func.func`
    with a body, and `qopt.out_params` when the pipeline will return results
    through caller-allocated buffers (option `out-params`). The attribute survives the lowering to the LLVM dialect,
    where memref descriptors no longer say their element type, so that
    `quant-run` (and any host program) can call a lowered module with the
    right buffers. `qopt-cpu-pipeline` runs it first.

    Example:

    ```mlir
    func.func @main(%x: tensor<4xf32>) -> tensor<4xi8>
    // becomes
    func.func @main(%x: tensor<4xf32>) -> tensor<4xi8>
        attributes {qopt.out_params, qopt.signature = (tensor<4xf32>) -> tensor<4xi8>}
    ```
  }];
  let options = [
    Option<"outParams", "out-params", "bool", /*default=*/"true",
           "Mark functions whose results become out-parameters">,
  ];
}

def WidenSubByteMemory
    : Pass<"qopt-widen-sub-byte-memory", "::mlir::LLVM::LLVMFuncOp"> {
  let summary = "Access sub-byte integers in memory as whole bytes";
  let description = [{
    A buffer of `i4` (or `i1`) elements holds one element per byte, but LLVM
    only defines a load of such a type when the same type stored the byte,
    and its vectorizers treat `<N x i4>` as bit-packed. Buffers filled by a
    host program would read as garbage. This pass rewrites every scalar
    `llvm.load` of an integer narrower than 8 bits into an `i8` load and a
    truncation, and every such `llvm.store` into an extension (sign for
    4-bit codes, zero for `i1`) and an `i8` store, which pins the memory
    format: one element per byte, sign-extended. `qopt-cpu-pipeline` runs
    it after the conversion to the LLVM dialect.

    Example:

    ```mlir
    %v = llvm.load %p : !llvm.ptr -> i4
    // becomes
    %b = llvm.load %p : !llvm.ptr -> i8
    %v = llvm.trunc %b : i8 to i4
    ```
  }];
}

#endif // QUANT_OPT_DIALECT_QOPT_TRANSFORMS_PASSES_TD
