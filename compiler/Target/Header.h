//===- Header.h - the C header of a generated library -----------*- C++ -*-===//

#ifndef GRADE_COMPILER_TARGET_HEADER_H
#define GRADE_COMPILER_TARGET_HEADER_H

#include "dialects/Grade/IR/GradeOps.h"

#include "llvm/Support/raw_ostream.h"

namespace grade {

/// Writes the C header matching the library compiled from `model`: the
/// model-specific entry point and one block of macros per field (name,
/// role, kind, element type, feature shape) plus the solve settings. Fails,
/// with an error at the declaration and nothing written, when two fields
/// give the same macro (C macros are upper case: `x0` and `X0`).
mlir::LogicalResult emitModelHeader(ModelOp model, llvm::raw_ostream &os);

} // namespace grade

#endif // GRADE_COMPILER_TARGET_HEADER_H
