//===- Sema.cpp - semantic analysis of grade models -----------------------===//
//
// The driver of a Sema run, its diagnostics and the classification of lets.
// One pass over the declarations collects names and declared types
// (Declarations.cpp); then the solve clause is checked (TimeGrid.cpp) and
// every expression is typed bottom-up (Types.cpp, Builtins.cpp), the
// typing rules of each operation coming from the grade dialect. Lets are
// checked on demand (so they may be used before their declaration) with
// cycle detection. Checking goes on after an error so that one run reports
// as many independent problems as possible; an expression whose operand
// failed is skipped silently to avoid echoes.
//
//===----------------------------------------------------------------------===//

#include "compiler/Sema/Checker.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cstdio>
#include <functional>

using namespace grade;
using namespace grade::sema;
using ast::SourceLoc;

std::string sema::format(const Type &type) {
  std::string result;
  if (type.isNode())
    result = "node ";
  else if (type.isEdge())
    result = "edge ";
  else if (type.elem == Elem::Abstract && type.shape.empty())
    return "number";
  else
    result = "global ";
  result += elemName(type.elem);
  if (!type.shape.empty())
    result += formatShape(type.shape);
  return result;
}

std::string sema::describe(const ast::Expr &expr) {
  if (auto *name = llvm::dyn_cast<ast::NameExpr>(&expr))
    return "'" + name->getName().str() + "'";
  return "the operand";
}

std::string sema::formatNumber(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%g", value);
  return buffer;
}

llvm::StringRef sema::elemName(Elem elem) {
  switch (elem) {
  case Elem::F32:
    return "f32";
  case Elem::F64:
    return "f64";
  case Elem::Abstract:
    return "number";
  }
  llvm_unreachable("unknown element type");
}

bool Checker::run() {
  collectDecls();
  declareSymmetry();
  checkLie();
  if (model.solve)
    checkSolve();
  for (const std::string &name : model.order)
    if (model.decls[name].role == Role::Let ||
        model.decls[name].role == Role::Readout)
      ensureLet(name);
  checkStates();
  checkRhs();
  checkOutputs();
  markStored();
  // Laws are inferred on well-typed models only.
  if (!failed)
    checkLaws();
  return !failed;
}

//===----------------------------------------------------------------------===//
// Diagnostics
//===----------------------------------------------------------------------===//

mlir::Location Checker::loc(SourceLoc at) {
  return mlir::FileLineColLoc::get(context, ast.getFile(), at.line, at.col);
}

mlir::InFlightDiagnostic Checker::error(SourceLoc at,
                                        const llvm::Twine &message) {
  failed = true;
  mlir::InFlightDiagnostic diagnostic = mlir::emitError(loc(at), message);
  // A function body is checked at every call: its errors are reported once.
  if (!reported.insert({at.line, at.col, message.str()}).second)
    diagnostic.abandon();
  return diagnostic;
}

std::string Checker::suggest(llvm::StringRef name,
                             llvm::ArrayRef<llvm::StringRef> candidates) {
  llvm::StringRef best;
  unsigned bestDistance = 3;
  for (llvm::StringRef candidate : candidates) {
    unsigned distance = name.edit_distance(candidate, true, bestDistance);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = candidate;
    }
  }
  return best.empty() ? "" : "; did you mean '" + best.str() + "'?";
}

//===----------------------------------------------------------------------===//
// Stored lets
//===----------------------------------------------------------------------===//

void Checker::markStored() {
  std::function<void(const ast::Expr &)> visit = [&](const ast::Expr &expr) {
    llvm::TypeSwitch<const ast::Expr *>(&expr)
        .Case<ast::NameExpr>([&](const ast::NameExpr *name) {
          auto it = model.decls.find(name->getName());
          if (it != model.decls.end() && it->second.role == Role::Let &&
              !it->second.dynamic && !it->second.type.isGlobal())
            it->second.stored = true;
        })
        .Case<ast::IndexExpr>(
            [&](const ast::IndexExpr *index) { visit(index->getBase()); })
        .Case<ast::NegExpr>(
            [&](const ast::NegExpr *neg) { visit(neg->getOperand()); })
        .Case<ast::BinaryExpr>([&](const ast::BinaryExpr *binary) {
          visit(binary->getLhs());
          visit(binary->getRhs());
        })
        .Case<ast::CallExpr>([&](const ast::CallExpr *call) {
          for (const ast::ExprPtr &arg : call->getArgs())
            visit(*arg);
        });
  };
  for (const ast::RhsDecl *rhs : rhsDecls)
    visit(rhs->getValue());
  for (const std::string &name : model.order) {
    const DeclInfo &info = model.decls[name];
    if (info.role == Role::Let && info.dynamic)
      visit(llvm::cast<ast::LetDecl>(*info.decl).getValue());
  }
}

std::unique_ptr<Model> sema::analyze(const ast::Model &ast,
                                     mlir::MLIRContext *context,
                                     bool proveSymmetry) {
  auto model = std::make_unique<Model>(ast);
  Checker checker(ast, *model, context);
  checker.setProveSymmetry(proveSymmetry);
  if (!checker.run())
    return nullptr;
  return model;
}
