//===- Json.h - JSON parsing with bounded nesting ---------------*- C++ -*-===//

#ifndef QUANT_OPT_SUPPORT_JSON_H
#define QUANT_OPT_SUPPORT_JSON_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/JSON.h"

namespace quantopt {

/// llvm::json::parse, after checking that arrays and objects nest at most
/// `maxDepth` deep: the parser recurses once a level, so a file of a few
/// hundred thousand '[' would overflow the stack. Files this project writes
/// nest three or four levels.
llvm::Expected<llvm::json::Value> parseJson(llvm::StringRef text,
                                            unsigned maxDepth = 256);

} // namespace quantopt

#endif // QUANT_OPT_SUPPORT_JSON_H
