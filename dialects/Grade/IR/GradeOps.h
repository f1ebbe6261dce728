//===- GradeOps.h - operations of the grade dialect -------------*- C++ -*-===//

#ifndef GRADE_DIALECTS_GRADE_IR_GRADEOPS_H
#define GRADE_DIALECTS_GRADE_IR_GRADEOPS_H

#include "dialects/Grade/IR/GradeAttrs.h"
#include "dialects/Grade/IR/GradeDialect.h"
#include "dialects/Grade/IR/GradeTypes.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/LLVMIR/LLVMTypes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/Grade/IR/GradeInterfaces.h.inc"

#include <array>
#include <string>

namespace grade {

/// A `grade.contract` spec such as "ij,j->i", split into subscripts, with
/// the size of every index letter taken from the operands' feature shapes.
struct ContractSpec {
  /// One subscript per operand, and the output's.
  llvm::SmallVector<std::string> inputs;
  std::string output;
  /// The letters summed over (in some input, not in the output), in order
  /// of first appearance.
  std::string reduced;
  /// The size of each letter (indexed by the letter's character).
  std::array<int64_t, 128> sizes{};

  /// Parses `spec` and binds its letters to the feature shapes of
  /// `inputs`; std::nullopt (with `reason` set) when they do not match.
  static std::optional<ContractSpec> get(llvm::StringRef spec,
                                         mlir::TypeRange inputs,
                                         std::string *reason = nullptr);

  /// The size of `letter`.
  int64_t size(char letter) const { return sizes[(unsigned char)letter]; }
};

} // namespace grade

#define GET_OP_CLASSES
#include "dialects/Grade/IR/GradeOps.h.inc"

#endif // GRADE_DIALECTS_GRADE_IR_GRADEOPS_H
