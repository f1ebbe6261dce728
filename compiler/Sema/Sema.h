//===- Sema.h - semantic analysis of grade models ---------------*- C++ -*-===//
//
// Sema resolves names, infers and checks the type of every expression (kind,
// element type, feature shape) by the grade dialect's typing rules
// (dialects/Grade/IR/GradeTyping.h), checks the structure of the model (one
// graph, one right-hand side per state, a solve clause, outputs), and
// classifies lets: a let that depends on a state or on time is *dynamic* and
// is re-evaluated inside the right-hand side; any other let is *static*,
// evaluated once at initialisation, and *stored* when a dynamic context or
// an output needs its value.
//
// Errors go through MLIR's diagnostic engine with FileLineColLoc locations
// into the model file.
//
//===----------------------------------------------------------------------===//

#ifndef GRADE_COMPILER_SEMA_SEMA_H
#define GRADE_COMPILER_SEMA_SEMA_H

#include "compiler/Frontend/AST.h"
#include "dialects/Grade/IR/GradeLaws.h"
#include "dialects/Grade/IR/GradeOps.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mlir {
class MLIRContext;
} // namespace mlir

namespace grade::sema {

/// Element types; numeric literals, `degree` and `t` are Abstract until
/// their use fixes a type (f64 when nothing does).
enum class Elem { Abstract, F32, F64 };

/// The type of an expression or declaration.
struct Type {
  std::optional<FieldKind> kind; ///< nullopt: a global (scalar or tensor)
  Elem elem = Elem::Abstract;
  std::vector<int64_t> shape; ///< feature shape, or tensor shape of a global

  bool isGlobal() const { return !kind.has_value(); }
  bool isNode() const { return kind == FieldKind::node; }
  bool isEdge() const { return kind == FieldKind::edge; }
  bool operator==(const Type &other) const {
    return kind == other.kind && elem == other.elem && shape == other.shape;
  }
};

/// The value of a whole-number literal (`take(v, 2)`), or nullopt.
std::optional<int64_t> getIntegerLiteral(const ast::Expr &expr);

/// The value of a number literal, negated or not (`-0.5`), or nullopt.
std::optional<double> getNumberLiteral(const ast::Expr &expr);

/// Renders a type for messages: "node f32[64]", "edge f64", "global f32[4, 2]".
std::string format(const Type &type);

/// The role of a named declaration. A readout is a let computed after the
/// solve, from the final states; only readouts read readouts.
enum class Role { Input, Param, State, Let, Readout };

struct DeclInfo {
  const ast::Decl *decl = nullptr;
  Role role = Role::Input;
  Type type;
  /// Lets: depends on a state or on time, so it is evaluated in the rhs.
  bool dynamic = false;
  /// Lets: computed once by init and kept in a buffer.
  bool stored = false;
  /// Listed in the `output` clause.
  bool output = false;
  /// States: the right-hand side, whole or split into an explicit and an
  /// implicit part (either may be absent: zero).
  const ast::RhsDecl *rhs = nullptr;
  const ast::RhsDecl *explicitPart = nullptr, *implicitPart = nullptr;
  /// States: the first `rhs` declaration of any part (for locations).
  const ast::RhsDecl *firstRhs() const {
    const ast::RhsDecl *first = nullptr;
    for (const ast::RhsDecl *decl : {rhs, explicitPart, implicitPart})
      if (decl && (!first || decl->getLoc().line < first->getLoc().line ||
                   (decl->getLoc().line == first->getLoc().line &&
                    decl->getLoc().col < first->getLoc().col)))
        first = decl;
    return first;
  }
  bool isSplit() const { return explicitPart || implicitPart; }
  /// A second-order state (`rhs d2x/dt2`): its velocity state "dx/dt",
  /// whose right-hand sides are the `d2x/dt2` declarations; its own
  /// derivative is that velocity.
  std::string velocity;
  /// A velocity state: its position's name (`decl` is the position's
  /// declaration, whose `dx/dt = ...` gives the initial velocity).
  std::string position;
  /// The declaration has an error already reported (e.g. its type): uses
  /// are accepted silently so that the error is not echoed.
  bool poisoned = false;
};

/// A checked `lie` clause: the state, the grid's period (a number or a
/// global scalar parameter), and each transformation's formulas as
/// programs (the ABI's grade_lie_op_t pairs; empty: the identity).
struct LieClause {
  std::string state;
  double period = 0;
  std::string periodParam;
  struct Transform {
    std::string name;
    /// "x -> x + e * t, u -> u + e" as written (rendered).
    std::string spelling;
    std::vector<double> x, t, u;
  };
  std::vector<Transform> transforms;
};

/// A checked model, ready for MLIRGen.
class Model {
public:
  explicit Model(const ast::Model &ast) : ast(ast) {}

  const ast::Model &getAST() const { return ast; }
  const ast::GraphDecl &getGraph() const { return *graph; }
  /// Element type of the edge weights; nullopt if the model reads none.
  std::optional<Elem> getWeightElem() const { return weightElem; }
  const ast::SolveDecl &getSolve() const { return *solve; }
  /// The tableau of the solve clause's scheme (built in or declared).
  TableauAttr getScheme() const { return scheme; }
  /// The step (fixed schemes) or first step (adaptive ones; 0: automatic).
  double getDt() const { return dt; }
  /// An adaptive scheme's tolerances; nullopt where the model gives none.
  std::optional<double> getRtol() const { return rtol; }
  std::optional<double> getAtol() const { return atol; }
  /// A state's own tolerances (`rtol(x) = ...`, `atol(x) = ...`), by
  /// state in declaration order; 0 where not given.
  const std::vector<std::pair<std::string, std::pair<double, double>>> &
  getStateTolerances() const {
    return stateTolerances;
  }

  /// Names of inputs, params, states and lets in declaration order.
  const std::vector<std::string> &getOrder() const { return order; }
  const DeclInfo &getDecl(llvm::StringRef name) const {
    return decls.find(name)->second;
  }
  const DeclInfo *lookup(llvm::StringRef name) const {
    auto it = decls.find(name);
    return it == decls.end() ? nullptr : &it->second;
  }
  /// The inferred type of an expression of this model.
  const Type &typeOf(const ast::Expr &expr) const {
    return types.find(&expr)->second;
  }
  /// The `symmetry` clause's groups (node permutations when none).
  const Symmetry &getSymmetry() const { return symmetry; }
  /// The `lie` clause, checked; null when the model has none.
  const LieClause *getLie() const { return lie ? &*lie : nullptr; }
  /// How a field transforms under the groups: declared (inputs, params,
  /// states), derived (velocities) or inferred (lets, readouts); null for
  /// an invariant, and for every field of a model with permutations only.
  const Law *getLaw(llvm::StringRef name) const {
    auto it = laws.find(name);
    return it == laws.end() ? nullptr : &it->second;
  }

  /// The velocity state `dx/dt` an expression reads (written `dx/dt`),
  /// or null.
  const std::string *getVelocityRef(const ast::Expr &expr) const {
    auto it = velocityRefs.find(&expr);
    return it == velocityRefs.end() ? nullptr : &it->second;
  }

private:
  friend class Checker;
  const ast::Model &ast;
  const ast::GraphDecl *graph = nullptr;
  std::optional<Elem> weightElem;
  const ast::SolveDecl *solve = nullptr;
  TableauAttr scheme;
  double dt = 0;
  std::optional<double> rtol, atol;
  std::vector<std::pair<std::string, std::pair<double, double>>>
      stateTolerances;
  std::vector<std::string> order;
  llvm::StringMap<DeclInfo> decls;
  llvm::DenseMap<const ast::Expr *, Type> types;
  llvm::DenseMap<const ast::Expr *, std::string> velocityRefs;
  Symmetry symmetry;
  llvm::StringMap<Law> laws;
  std::optional<LieClause> lie;
};

/// Checks a parsed model. Returns null after reporting every error found.
/// Without `proveSymmetry`, a model whose right-hand side breaks its
/// symmetry groups is accepted, its declared laws kept (for measuring what
/// the proof would reject).
std::unique_ptr<Model> analyze(const ast::Model &model,
                               mlir::MLIRContext *context,
                               bool proveSymmetry = true);

} // namespace grade::sema

#endif // GRADE_COMPILER_SEMA_SEMA_H
