//===- Frontend.h - parsing grade model files -------------------*- C++ -*-===//
//
// The frontend's interface: a model file in, an AST out. Nothing of ANTLR
// crosses this header.
//
//===----------------------------------------------------------------------===//

#ifndef GRADE_COMPILER_FRONTEND_FRONTEND_H
#define GRADE_COMPILER_FRONTEND_FRONTEND_H

#include "compiler/Frontend/AST.h"

#include <memory>

namespace llvm {
class SourceMgr;
} // namespace llvm

namespace mlir {
class MLIRContext;
} // namespace mlir

namespace grade {

/// Parses the model held in buffer `bufferId` of `sourceMgr`. Syntax errors
/// are reported through `context`'s diagnostic engine at
/// FileLineColLoc(buffer identifier, line, column); on any error the result
/// is null.
std::unique_ptr<ast::Model> parseModel(llvm::SourceMgr &sourceMgr,
                                       unsigned bufferId,
                                       mlir::MLIRContext *context);

} // namespace grade

#endif // GRADE_COMPILER_FRONTEND_FRONTEND_H
