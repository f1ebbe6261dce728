//===- GradeOps.h - operations of the grade dialect -------------*- C++ -*-===//

#ifndef GRADE_DIALECTS_GRADE_IR_GRADEOPS_H
#define GRADE_DIALECTS_GRADE_IR_GRADEOPS_H

#include "dialects/Grade/IR/GradeAttrs.h"
#include "dialects/Grade/IR/GradeDialect.h"
#include "dialects/Grade/IR/GradeLaw.h"
#include "dialects/Grade/IR/GradeTypes.h"
#include "dialects/Grade/IR/GradeTyping.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/LLVMIR/LLVMTypes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/Grade/IR/GradeInterfaces.h.inc"

#define GET_OP_CLASSES
#include "dialects/Grade/IR/GradeOps.h.inc"

namespace grade {

/// The name of the library entry point a region op becomes: "init", "rhs",
/// "step", "jvp", "diagonal", for a part of a split right-hand side
/// "explicit_rhs", "implicit_rhs", "implicit_jvp", "implicit_diagonal", or
/// a vector entry's "vector_<kind>".
std::string getEntryName(mlir::Operation *region);

/// Declares `<state>__<suffix>` (numbered when the name is taken), of
/// `role` and `type`, belonging to `state` (`of`), at the builder's
/// insertion point; returns its symbol.
mlir::FlatSymbolRefAttr declareFor(mlir::OpBuilder &builder, ModelOp model,
                                   Role role, DeclOp state,
                                   llvm::StringRef suffix, mlir::Type type);

} // namespace grade

#endif // GRADE_DIALECTS_GRADE_IR_GRADEOPS_H
