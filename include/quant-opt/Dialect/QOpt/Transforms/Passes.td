//===- Passes.td - qopt transformation passes --------------*- tablegen -*-===//

#ifndef QUANT_OPT_DIALECT_QOPT_TRANSFORMS_PASSES_TD
#define QUANT_OPT_DIALECT_QOPT_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def RecordSignatures : Pass<"qopt-record-signatures", "::mlir::ModuleOp"> {
  let summary = "Record each public function's tensor signature for runners";
  let description = [{
    Attaches `qopt.signature = <function type>` to every public `func.func`
    with a body. The attribute survives the lowering to the LLVM dialect,
    where memref descriptors no longer say their element type, so that
    `quant-run` (and any host program) can call a lowered module with the
    right buffers. `qopt-cpu-pipeline` runs it first.

    Example:

    ```mlir
    func.func @main(%x: tensor<4xf32>) -> tensor<4xi8>
    // becomes
    func.func @main(%x: tensor<4xf32>) -> tensor<4xi8>
        attributes {qopt.signature = (tensor<4xf32>) -> tensor<4xi8>}
    ```
  }];
}

#endif // QUANT_OPT_DIALECT_QOPT_TRANSFORMS_PASSES_TD
