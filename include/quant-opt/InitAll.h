//===- InitAll.h - Register everything quant-opt provides ---------*- C++ -*-===//

#ifndef QUANT_OPT_INITALL_H
#define QUANT_OPT_INITALL_H

namespace mlir {
class DialectRegistry;

namespace qopt {

/// Adds the qopt dialect and the upstream dialects its passes produce.
void registerDialects(DialectRegistry &registry);

/// Registers every quant-opt pass and pipeline with the global registry.
void registerPasses();

} // namespace qopt
} // namespace mlir

#endif // QUANT_OPT_INITALL_H
