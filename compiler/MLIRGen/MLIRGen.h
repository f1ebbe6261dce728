//===- MLIRGen.h - grade AST to the grade dialect ---------------*- C++ -*-===//
//
// Emits a checked model as a `grade.model`: declarations, the init region
// (stored lets and initial states), the rhs region and the solve clause.
// MLIRGen writes the mathematics only; schemes, fusion and targets are the
// business of passes.
//
//===----------------------------------------------------------------------===//

#ifndef GRADE_COMPILER_MLIRGEN_MLIRGEN_H
#define GRADE_COMPILER_MLIRGEN_MLIRGEN_H

#include "compiler/Sema/Sema.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace grade {

/// Builds the module for `model`; every op carries the FileLineColLoc of the
/// source it came from. Returns null (after reporting) if verification fails.
mlir::OwningOpRef<mlir::ModuleOp> generateMLIR(const sema::Model &model,
                                               mlir::MLIRContext &context);

} // namespace grade

#endif // GRADE_COMPILER_MLIRGEN_MLIRGEN_H
