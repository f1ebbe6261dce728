//===- Schemes.h - checking `scheme` declarations ---------------*- C++ -*-===//
//
// A `scheme NAME { a = ...; b = ...; c = ...; order = p; }` declaration is
// an explicit Runge-Kutta scheme given by its Butcher tableau. Its entries
// are constant expressions (numbers, + - * /, parentheses, sqrt); this file
// evaluates them, checks the tableau (grade::findTableauDefect, shared with
// the attribute's verifier) and reports each defect at the entry at fault.
//
//===----------------------------------------------------------------------===//

#ifndef GRADE_COMPILER_SEMA_SCHEMES_H
#define GRADE_COMPILER_SEMA_SCHEMES_H

#include "compiler/Frontend/AST.h"
#include "dialects/Grade/IR/GradeOps.h"

#include "llvm/ADT/STLFunctionalExtras.h"

namespace grade::sema {

/// Reports an error at a source location (and marks the model as failed).
using ErrorFn =
    llvm::function_ref<mlir::InFlightDiagnostic(ast::SourceLoc,
                                                const llvm::Twine &)>;

/// Checks a scheme declaration of the model file `file`; returns its
/// tableau, or null after reporting the first problem of each entry.
TableauAttr checkSchemeDecl(const ast::SchemeDecl &decl, llvm::StringRef file,
                            mlir::MLIRContext *context, ErrorFn error);

} // namespace grade::sema

#endif // GRADE_COMPILER_SEMA_SCHEMES_H
