//===- Checker.h - the state of one Sema run (internal) ---------*- C++ -*-===//
//
// The Checker is shared by the files of compiler/Sema, one per concern:
//   Sema.cpp          the driver, diagnostics, stored lets
//   Declarations.cpp  names, declared types, lets, states, rhs, outputs
//   TimeGrid.cpp      the solve clause: scheme, step size, interval
//   Types.cpp         expression typing, asking the dialect for each rule
//   Builtins.cpp      the builtin functions and their typing
//   Schemes.cpp       user-written tableaux
// Not installed; include only from compiler/Sema.
//
//===----------------------------------------------------------------------===//

#ifndef GRADE_COMPILER_SEMA_CHECKER_H
#define GRADE_COMPILER_SEMA_CHECKER_H

#include "compiler/Sema/Sema.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace grade::sema {

/// Names that are values without a declaration.
inline constexpr llvm::StringRef kReservedNames[] = {"t", "weight", "degree",
                                                     "src", "dst"};

/// Whether an expression reads a state or the time, and why (for messages).
struct Usage {
  bool dynamic = false;
  std::string cause; ///< "state 'x'", "the time 't'", "let 'm'"
  /// The expression is a readout's value, which may read other readouts.
  bool inReadout = false;

  void markDynamic(const std::string &why) {
    if (!dynamic)
      cause = why;
    dynamic = true;
  }
};

/// Describes an operand for messages: 'x' for a name, else "the operand".
std::string describe(const ast::Expr &expr);

/// A number as a user would write it ("0.01", "1e-06").
std::string formatNumber(double value);

/// "f32", "f64" or "number".
llvm::StringRef elemName(Elem elem);

class Checker {
public:
  Checker(const ast::Model &ast, Model &model, mlir::MLIRContext *context)
      : ast(ast), model(model), context(context) {}

  /// Checks the whole model; false if any error was reported.
  bool run();
  /// Whether to prove the right-hand side equivariant (checkLaws).
  void setProveSymmetry(bool prove) { proveSymmetry = prove; }

private:
  // Diagnostics (Sema.cpp).
  mlir::Location loc(ast::SourceLoc at);
  mlir::InFlightDiagnostic error(ast::SourceLoc at, const llvm::Twine &message);
  /// "; did you mean 'x'?" for the closest of `candidates`, or "".
  static std::string suggest(llvm::StringRef name,
                             llvm::ArrayRef<llvm::StringRef> candidates);
  /// Static field lets read from a dynamic context are stored by init.
  void markStored();

  // Declarations (Declarations.cpp).
  std::optional<Elem> parseElem(const std::string &name, ast::SourceLoc at);
  std::optional<Type> typeFromSpec(const ast::TypeSpec &spec);
  void declare(const ast::Decl &decl, Role role);
  const ast::Decl *findNamed(llvm::StringRef name);
  void collectDecls();
  void declareScheme(const ast::SchemeDecl &decl);
  std::vector<llvm::StringRef> declaredNames();
  static bool assignable(const Type &from, const Type &to);
  bool ensureLet(llvm::StringRef name);
  void checkStates();
  void checkRhs();
  void declareVelocities();
  /// An initial value of state `name` (or of its velocity): not dynamic,
  /// assignable to `type`.
  void checkInitialValue(const ast::Expr &init, llvm::StringRef name,
                         const Type &type);
  void checkOutputs();

  // The solve clause (TimeGrid.cpp).
  void checkSolve();
  void checkTimeGrid(const ast::SolveDecl &solve);

  // Expressions (Types.cpp).
  std::optional<Type> check(const ast::Expr &expr, Usage &use);
  std::optional<Type> checkName(const ast::NameExpr &expr, Usage &use);
  std::optional<Type> checkIndex(const ast::IndexExpr &expr, Usage &use);
  std::optional<Type> checkBinary(const ast::BinaryExpr &expr, Usage &use);
  std::optional<Type> combine(const Type &lhs, const Type &rhs,
                              const ast::Expr &lhsExpr,
                              const ast::Expr &rhsExpr, llvm::StringRef op,
                              ast::SourceLoc at);
  std::optional<Type> checkDot(const Type &lhs, const Type &rhs,
                               const ast::Expr &lhsExpr,
                               const ast::Expr &rhsExpr, llvm::StringRef op,
                               ast::SourceLoc at);
  std::optional<Type> checkMatMul(const Type &lhs, const Type &rhs,
                                  ast::SourceLoc at);
  /// einsum("spec", ...): grade.contract's rule, its reasons reworded with
  /// the operands' names.
  std::optional<Type> checkTake(const ast::CallExpr &expr,
                                llvm::ArrayRef<Type> types);
  std::optional<Type> checkConv1d(const ast::CallExpr &expr,
                                  llvm::ArrayRef<Type> types);
  std::optional<Type> checkEinsum(const ast::CallExpr &expr,
                                  llvm::ArrayRef<Type> types);

  /// Asks the dialect for the type of an op over `operands`: `rule` is one
  /// of the rules of GradeTyping.h applied to the operands' dialect types.
  /// An abstract element type (a number, 't', 'degree') takes the element
  /// type of the other operands (f64 when none has one), and the result is
  /// abstract when every operand is: literals adapt to their context, which
  /// the dialect has no notion of. On failure returns nullopt with `error`
  /// set, for the caller to reword in the language's terms.
  std::optional<Type> infer(llvm::ArrayRef<Type> operands,
                            llvm::function_ref<mlir::FailureOr<mlir::Type>(
                                llvm::ArrayRef<mlir::Type>, TypeError *)>
                                rule,
                            TypeError &error);
  /// Reports a broken rule that the caller has no wording for.
  void reportRule(const TypeError &error, llvm::StringRef op,
                  ast::SourceLoc at);

  // Symmetry groups and laws (Symmetry.cpp).
  /// Reads the `symmetry` clause: its groups and its fields' laws.
  void declareSymmetry();
  void declareGroups(const ast::SymmetryDecl &decl);
  void declareLaw(const ast::SymmetryDecl::Law &entry);
  /// Checks the `lie` clause: its state and period, and that each point
  /// transformation is affine as the grid augmentation needs.
  void checkLie();
  /// Infers the law of every let and readout and checks that each state's
  /// right-hand side and initial value transform as the state does.
  void checkLaws();
  /// The law of an expression; nullopt after reporting the rule it breaks.
  std::optional<Law> lawOf(const ast::Expr &expr);
  std::optional<Law> lawOfName(const ast::NameExpr &expr);
  std::optional<Law> lawOfCall(const ast::CallExpr &expr);
  /// The law of a named field (a let's inferred on first use).
  std::optional<Law> lawOfField(llvm::StringRef name);
  /// Reports a broken law rule of operation `op` at `at`, on `expr`.
  void reportLaw(const LawError &error, llvm::StringRef op,
                 const ast::Expr &expr, ast::SourceLoc at);
  /// Checks that `expr` transforms as `expected` (a state's right-hand
  /// side, an initial value); `what` names it, `field` the state.
  void checkLawOf(const ast::Expr &expr, const Law &expected,
                  const std::string &what, llvm::StringRef field);

  // Builtin functions (Builtins.cpp).
  std::optional<Type> checkCall(const ast::CallExpr &expr, Usage &use);
  static bool isBuiltinFunction(llvm::StringRef name);

  const ast::Model &ast;
  Model &model;
  mlir::MLIRContext *context;
  bool failed = false;
  /// The errors reported so far (line, column, message): a function body
  /// checked at each of its calls reports each of its errors once.
  std::set<std::tuple<unsigned, unsigned, std::string>> reported;
  std::vector<const ast::RhsDecl *> rhsDecls;
  /// The `fn` declarations (their calls are inlined by the frontend).
  std::vector<const ast::FunctionDecl *> functions;
  std::vector<const ast::OutputDecl *> outputDecls;
  /// `scheme` declarations by name, and the tableaux of the valid ones.
  llvm::StringMap<const ast::SchemeDecl *> schemeDecls;
  llvm::StringMap<TableauAttr> schemes;
  /// Progress of checking each let (cycle detection).
  enum LetState { Unchecked = 0, Checking, Done, Failed };
  llvm::StringMap<int> letStates;
  llvm::StringMap<std::string> letCauses;
  /// The `symmetry` clause, its law entries by field, and where the law
  /// inference is (for messages: "in the right-hand side of 'x'").
  const ast::SymmetryDecl *symmetryDecl = nullptr;
  const ast::LieDecl *lieDecl = nullptr;
  bool proveSymmetry = true;
  llvm::StringMap<const ast::SymmetryDecl::Law *> lawEntries;
  std::string lawContext;
  /// Lets whose law failed (reported once).
  llvm::StringSet<> lawFailures;
  /// The inferred laws of lets and readouts (constants included).
  llvm::StringMap<Law> letLaws;
};

} // namespace grade::sema

#endif // GRADE_COMPILER_SEMA_CHECKER_H
