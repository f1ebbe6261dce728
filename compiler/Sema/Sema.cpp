//===- Sema.cpp - semantic analysis of grade models -----------------------===//
//
// One pass over the declarations collects names and declared types; then
// every expression is typed bottom-up. Lets are checked on demand (so they
// may be used before their declaration) with cycle detection. Checking goes
// on after an error so that one run reports as many independent problems as
// possible; an expression whose operand failed is skipped silently to avoid
// echoes.
//
//===----------------------------------------------------------------------===//

#include "compiler/Sema/Sema.h"

#include "compiler/Sema/Schemes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <cstdio>
#include <functional>
#include <tuple>

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
  switch (type.elem) {
  case Elem::Abstract:
    result += "number";
    break;
  case Elem::F32:
    result += "f32";
    break;
  case Elem::F64:
    result += "f64";
    break;
  }
  if (!type.shape.empty())
    result += formatShape(type.shape);
  return result;
}

namespace {

/// Builtin functions: name, number of arguments.
enum class Builtin {
  Unary,     ///< exp log sqrt tanh relu sigmoid abs sin cos ... sign
  Binary,    ///< min max pow atan2
  Dot,       ///< dot(a, b)
  Einsum,    ///< einsum("ij,j->i", A, x): any number of operands
  Reduce,    ///< sum_in mean_in max_in sum_out mean_out max_out
  Softmax,   ///< softmax_in
  ReduceAll, ///< sum_all mean_all max_all min_all
};

struct BuiltinInfo {
  llvm::StringRef name;
  Builtin kind;
  unsigned arity;
};

constexpr BuiltinInfo kBuiltins[] = {
    {"exp", Builtin::Unary, 1},         {"log", Builtin::Unary, 1},
    {"sqrt", Builtin::Unary, 1},        {"tanh", Builtin::Unary, 1},
    {"relu", Builtin::Unary, 1},        {"sigmoid", Builtin::Unary, 1},
    {"abs", Builtin::Unary, 1},         {"sin", Builtin::Unary, 1},
    {"cos", Builtin::Unary, 1},         {"tan", Builtin::Unary, 1},
    {"asin", Builtin::Unary, 1},        {"acos", Builtin::Unary, 1},
    {"atan", Builtin::Unary, 1},        {"sinh", Builtin::Unary, 1},
    {"cosh", Builtin::Unary, 1},        {"floor", Builtin::Unary, 1},
    {"ceil", Builtin::Unary, 1},        {"round", Builtin::Unary, 1},
    {"sign", Builtin::Unary, 1},        {"min", Builtin::Binary, 2},
    {"max", Builtin::Binary, 2},        {"pow", Builtin::Binary, 2},
    {"atan2", Builtin::Binary, 2},      {"dot", Builtin::Dot, 2},
    {"sum_in", Builtin::Reduce, 1},     {"mean_in", Builtin::Reduce, 1},
    {"max_in", Builtin::Reduce, 1},     {"softmax_in", Builtin::Softmax, 1},
    {"sum_out", Builtin::Reduce, 1},    {"mean_out", Builtin::Reduce, 1},
    {"max_out", Builtin::Reduce, 1},
    {"sum_all", Builtin::ReduceAll, 1}, {"mean_all", Builtin::ReduceAll, 1},
    {"max_all", Builtin::ReduceAll, 1}, {"min_all", Builtin::ReduceAll, 1},
    {"einsum", Builtin::Einsum, 0},
};

const BuiltinInfo *findBuiltin(llvm::StringRef name) {
  for (const BuiltinInfo &info : kBuiltins)
    if (info.name == name)
      return &info;
  return nullptr;
}

/// Names that are values without a declaration.
constexpr llvm::StringRef kReservedNames[] = {"t", "weight", "degree", "src",
                                              "dst"};

/// Whether an expression reads a state or the time, and why (for messages).
struct Usage {
  bool dynamic = false;
  std::string cause; ///< "state 'x'", "the time 't'", "let 'm'"

  void markDynamic(const std::string &why) {
    if (!dynamic)
      cause = why;
    dynamic = true;
  }
};

/// Describes an operand for messages: 'x' for a name, else "this operand".
std::string describe(const ast::Expr &expr) {
  if (auto *name = llvm::dyn_cast<ast::NameExpr>(&expr))
    return "'" + name->getName().str() + "'";
  return "the operand";
}

/// A number as a user would write it ("0.01", "1e-06").
std::string formatNumber(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%g", value);
  return buffer;
}

std::optional<Elem> unify(Elem a, Elem b) {
  if (a == Elem::Abstract)
    return b;
  if (b == Elem::Abstract || a == b)
    return a;
  return std::nullopt;
}

llvm::StringRef elemName(Elem elem) {
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

} // namespace

namespace grade::sema {

class Checker {
public:
  Checker(const ast::Model &ast, Model &model, mlir::MLIRContext *context)
      : ast(ast), model(model), context(context) {}

  bool run() {
    collectDecls();
    if (model.solve)
      checkSolve();
    for (const std::string &name : model.order)
      if (model.decls[name].role == Role::Let)
        ensureLet(name);
    checkStates();
    checkRhs();
    checkOutputs();
    markStored();
    return !failed;
  }

private:
  //===--------------------------------------------------------------------===//
  // Diagnostics
  //===--------------------------------------------------------------------===//

  mlir::Location loc(SourceLoc at) {
    return mlir::FileLineColLoc::get(context, ast.getFile(), at.line, at.col);
  }

  mlir::InFlightDiagnostic error(SourceLoc at, const llvm::Twine &message) {
    failed = true;
    return mlir::emitError(loc(at), message);
  }

  /// "; did you mean 'x'?" for the closest of `candidates`, or "".
  static std::string suggest(llvm::StringRef name,
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

  //===--------------------------------------------------------------------===//
  // Declarations
  //===--------------------------------------------------------------------===//

  std::optional<Elem> parseElem(const std::string &name, SourceLoc at) {
    if (name == "f32")
      return Elem::F32;
    if (name == "f64")
      return Elem::F64;
    error(at, "unknown element type '" + name + "' (expected 'f32' or 'f64')");
    return std::nullopt;
  }

  std::optional<Type> typeFromSpec(const ast::TypeSpec &spec) {
    std::optional<Elem> elem =
        parseElem(spec.elementType, spec.elementRange.begin);
    if (!elem)
      return std::nullopt;
    if (spec.shape.size() > 4) {
      error(spec.range.begin, "rank " + llvm::Twine(spec.shape.size()) +
                                  " exceeds the maximum of 4");
      return std::nullopt;
    }
    Type type;
    if (spec.kind == ast::KindSpec::Node)
      type.kind = FieldKind::node;
    else if (spec.kind == ast::KindSpec::Edge)
      type.kind = FieldKind::edge;
    type.elem = *elem;
    type.shape = spec.shape;
    return type;
  }

  /// Registers a named declaration, rejecting duplicates and reserved names.
  void declare(const ast::Decl &decl, Role role) {
    llvm::StringRef name = decl.getName();
    if (llvm::is_contained(kReservedNames, name)) {
      error(decl.getNameRange().begin,
            "'" + name + "' is a builtin name and cannot be declared");
      return;
    }
    if (const ast::Decl *previous = findNamed(name)) {
      error(decl.getNameRange().begin, "redefinition of '" + name + "'")
              .attachNote(loc(previous->getNameRange().begin))
          << "previous declaration of '" << name << "' is here";
      return;
    }
    DeclInfo info;
    info.decl = &decl;
    info.role = role;
    if (auto *field = llvm::dyn_cast<ast::FieldDecl>(&decl)) {
      std::optional<Type> type = typeFromSpec(field->getType());
      if (type)
        info.type = *type;
      else
        info.poisoned = true;
    } else if (auto *state = llvm::dyn_cast<ast::StateDecl>(&decl)) {
      std::optional<Type> type = typeFromSpec(state->getType());
      if (type && type->isGlobal()) {
        error(state->getType().range.begin,
              "state '" + name + "' must be a node or edge field, got " +
                  format(*type));
        type.reset();
      }
      if (type)
        info.type = *type;
      else
        info.poisoned = true;
    }
    // A declaration with a bad type is still declared (and poisoned), so
    // that its uses do not report it as unknown.
    model.decls[name] = info;
    model.order.push_back(name.str());
  }

  /// The declaration (or graph) already named `name`.
  const ast::Decl *findNamed(llvm::StringRef name) {
    if (model.graph && model.graph->getName() == name)
      return model.graph;
    auto it = model.decls.find(name);
    return it == model.decls.end() ? nullptr : it->second.decl;
  }

  void collectDecls() {
    const ast::SymmetryDecl *symmetry = nullptr;
    for (const ast::DeclPtr &declPtr : ast.getDecls()) {
      const ast::Decl &decl = *declPtr;
      switch (decl.getKind()) {
      case ast::DeclKind::Graph: {
        auto &graph = llvm::cast<ast::GraphDecl>(decl);
        if (model.graph) {
          error(graph.getNameRange().begin,
                "a model has one graph; '" + graph.getName() +
                    "' declares a second")
                  .attachNote(loc(model.graph->getNameRange().begin))
              << "first graph declared here";
          break;
        }
        if (llvm::is_contained(kReservedNames, graph.getName())) {
          // Still the model's graph: no "declares no graph" echo.
          error(graph.getNameRange().begin,
                "'" + graph.getName() +
                    "' is a builtin name and cannot be declared");
          model.graph = &graph;
          break;
        }
        if (const ast::Decl *previous = findNamed(graph.getName())) {
          error(graph.getNameRange().begin,
                "redefinition of '" + graph.getName() + "'")
                  .attachNote(loc(previous->getNameRange().begin))
              << "previous declaration of '" << graph.getName()
              << "' is here";
          break;
        }
        model.graph = &graph;
        if (graph.getWeightType())
          model.weightElem = parseElem(*graph.getWeightType(),
                                       graph.getWeightRange().begin);
        break;
      }
      case ast::DeclKind::Input:
        declare(decl, Role::Input);
        break;
      case ast::DeclKind::Param:
        declare(decl, Role::Param);
        break;
      case ast::DeclKind::State:
        declare(decl, Role::State);
        break;
      case ast::DeclKind::Let:
        declare(decl, Role::Let);
        break;
      case ast::DeclKind::Rhs:
        rhsDecls.push_back(&llvm::cast<ast::RhsDecl>(decl));
        break;
      case ast::DeclKind::Solve:
        if (model.solve) {
          error(decl.getLoc(), "duplicate 'solve' clause")
                  .attachNote(loc(model.solve->getLoc()))
              << "first 'solve' clause is here";
          break;
        }
        model.solve = &llvm::cast<ast::SolveDecl>(decl);
        break;
      case ast::DeclKind::Output:
        outputDecls.push_back(&llvm::cast<ast::OutputDecl>(decl));
        break;
      case ast::DeclKind::Scheme:
        declareScheme(llvm::cast<ast::SchemeDecl>(decl));
        break;
      case ast::DeclKind::Symmetry:
        if (symmetry) {
          error(decl.getLoc(), "duplicate 'symmetry' clause")
                  .attachNote(loc(symmetry->getLoc()))
              << "first 'symmetry' clause is here";
          break;
        }
        symmetry = &llvm::cast<ast::SymmetryDecl>(decl);
        if (decl.getName() != "permutation")
          error(decl.getNameRange().begin,
                "symmetry group '" + decl.getName() +
                    "' is not supported yet (language v0 knows "
                    "'permutation', which every model has)");
        break;
      }
    }
    if (!model.graph)
      error(ast.getRange().begin, "model '" + ast.getName() +
                                      "' declares no graph; add 'graph G;'");
    if (!model.solve)
      error(ast.getRange().begin,
            "model '" + ast.getName() +
                "' has no 'solve' clause; add e.g. 'solve rk4(dt = 0.01) "
                "over [0, 1];'");
  }

  /// Schemes have their own namespace: a scheme may share a field's name,
  /// but not a built-in scheme's or another scheme's.
  void declareScheme(const ast::SchemeDecl &decl) {
    if (TableauAttr::getNamed(context, decl.getName())) {
      error(decl.getNameRange().begin,
            "'" + decl.getName() +
                "' is a built-in scheme; give the tableau another name");
      return;
    }
    auto [it, inserted] = schemeDecls.try_emplace(decl.getName(), &decl);
    if (!inserted) {
      error(decl.getNameRange().begin,
            "redefinition of scheme '" + decl.getName() + "'")
              .attachNote(loc(it->second->getNameRange().begin))
          << "previous definition is here";
      return;
    }
    TableauAttr tableau = checkSchemeDecl(
        decl, ast.getFile(), context,
        [&](SourceLoc at, const llvm::Twine &message) {
          return error(at, message);
        });
    if (tableau)
      schemes[decl.getName()] = tableau;
  }

  void checkSolve() {
    const ast::SolveDecl &solve = *model.solve;
    llvm::StringRef name = solve.getName();
    if (TableauAttr named = TableauAttr::getNamed(context, name)) {
      model.scheme = named;
    } else if (TableauAttr declared = schemes.lookup(name)) {
      model.scheme = declared;
    } else if (!schemeDecls.count(name)) {
      // A declared scheme with an error has been reported already.
      std::vector<llvm::StringRef> candidates(
          TableauAttr::getNamedSchemes().begin(),
          TableauAttr::getNamedSchemes().end());
      std::string known;
      for (llvm::StringRef scheme : candidates)
        known += (known.empty() ? "" : ", ") + scheme.str();
      for (const auto &entry : schemeDecls) {
        candidates.push_back(entry.getKey());
        known += ", " + entry.getKey().str();
      }
      error(solve.getNameRange().begin,
            "unknown scheme '" + name + "' (known: " + known +
                "; declare others with 'scheme NAME { a = ...; b = ...; }')" +
                suggest(name, candidates));
    }
    bool sawDt = false;
    for (const ast::SolveArg &arg : solve.getArgs()) {
      if (arg.name != "dt") {
        error(arg.range.begin, "unknown argument '" + arg.name +
                                   "' for scheme '" + solve.getName() +
                                   "' (expected 'dt')");
        continue;
      }
      if (sawDt) {
        error(arg.range.begin, "argument 'dt' is given twice");
        continue;
      }
      sawDt = true;
      if (!(arg.value > 0) || !std::isfinite(arg.value))
        error(arg.range.begin, "step size must be positive, got " +
                                   formatNumber(arg.value));
      model.dt = arg.value;
    }
    if (!sawDt)
      error(solve.getLoc(), "'solve " + solve.getName() +
                                "' needs a step size, e.g. '" +
                                solve.getName() + "(dt = 0.01)'");
    if (!(solve.getT1() > solve.getT0()))
      error(solve.getIntervalRange().begin,
            "the interval [" + formatNumber(solve.getT0()) + ", " +
                formatNumber(solve.getT1()) +
                "] is empty; its end must exceed its start");
    else if (sawDt && model.dt > 0 && std::isfinite(model.dt))
      checkTimeGrid(solve);
  }

  /// The runtime steps on t0 + k dt: the step must be resolvable at the
  /// interval's magnitude (t + dt != t), and the step count must stay
  /// countable (the runtime refuses 1e15 steps and more).
  void checkTimeGrid(const ast::SolveDecl &solve) {
    double t0 = solve.getT0(), t1 = solve.getT1(), dt = model.dt;
    double far = std::fabs(t0) > std::fabs(t1) ? t0 : t1;
    if (far + dt == far || far - dt == far) {
      error(solve.getLoc(),
            "the step dt = " + formatNumber(dt) +
                " is below the resolution of time near " + formatNumber(far) +
                " (doubles there are " +
                formatNumber(std::nextafter(std::fabs(far), HUGE_VAL) -
                             std::fabs(far)) +
                " apart); shift the interval towards 0 or take a larger dt");
      return;
    }
    double steps = (t1 - t0) / dt;
    if (!(steps < 1e15))
      error(solve.getLoc(), "integrating [" + formatNumber(t0) + ", " +
                                formatNumber(t1) + "] with dt = " +
                                formatNumber(dt) + " takes " +
                                formatNumber(steps) +
                                " steps; the runtime's limit is 1e15");
  }

  //===--------------------------------------------------------------------===//
  // Expressions
  //===--------------------------------------------------------------------===//

  std::optional<Type> check(const ast::Expr &expr, Usage &use) {
    std::optional<Type> type =
        llvm::TypeSwitch<const ast::Expr *, std::optional<Type>>(&expr)
            .Case<ast::NumberExpr>([](auto *) { return Type(); })
            .Case<ast::NameExpr>(
                [&](const ast::NameExpr *name) { return checkName(*name, use); })
            .Case<ast::IndexExpr>([&](const ast::IndexExpr *index) {
              return checkIndex(*index, use);
            })
            .Case<ast::NegExpr>([&](const ast::NegExpr *neg) {
              return checkUnary(neg->getOperand(), "-", neg->getLoc(), use);
            })
            .Case<ast::BinaryExpr>([&](const ast::BinaryExpr *binary) {
              return checkBinary(*binary, use);
            })
            .Case<ast::CallExpr>(
                [&](const ast::CallExpr *call) { return checkCall(*call, use); });
    if (type)
      model.types[&expr] = *type;
    return type;
  }

  std::optional<Type> checkName(const ast::NameExpr &expr, Usage &use) {
    llvm::StringRef name = expr.getName();
    auto it = model.decls.find(name);
    if (it != model.decls.end()) {
      DeclInfo &info = it->second;
      if (info.poisoned)
        return std::nullopt;
      switch (info.role) {
      case Role::Input:
      case Role::Param:
        return info.type;
      case Role::State:
        use.markDynamic("state '" + name.str() + "'");
        return info.type;
      case Role::Let:
        if (!ensureLet(name))
          return std::nullopt;
        if (info.dynamic)
          use.markDynamic("let '" + name.str() + "', which depends on " +
                          letCauses[name]);
        return info.type;
      }
    }
    if (name == "t") {
      use.markDynamic("the time 't'");
      return Type();
    }
    if (name == "degree") {
      Type type;
      type.kind = FieldKind::node;
      return type;
    }
    if (name == "weight") {
      if (!model.weightElem) {
        if (model.graph)
          error(expr.getLoc(),
                "the graph '" + model.graph->getName() +
                    "' has no edge weights; declare them with 'graph " +
                    model.graph->getName() + "(weight: f64);'");
        else
          error(expr.getLoc(), "'weight' needs a graph with edge weights");
        return std::nullopt;
      }
      Type type;
      type.kind = FieldKind::edge;
      type.elem = *model.weightElem;
      return type;
    }
    if (model.graph && model.graph->getName() == name) {
      error(expr.getLoc(), "'" + name + "' is the graph, not a value");
      return std::nullopt;
    }
    if (name == "src" || name == "dst") {
      error(expr.getLoc(), "'" + name +
                               "' names an end of an edge and is only valid "
                               "inside '[...]', as in 'x[" +
                               name + "]'");
      return std::nullopt;
    }
    std::vector<llvm::StringRef> candidates = declaredNames();
    candidates.insert(candidates.end(), {"t", "weight", "degree"});
    error(expr.getLoc(),
          "unknown name '" + name + "'" + suggest(name, candidates));
    return std::nullopt;
  }

  std::vector<llvm::StringRef> declaredNames() {
    std::vector<llvm::StringRef> names;
    for (const std::string &name : model.order)
      names.push_back(name);
    return names;
  }

  std::optional<Type> checkIndex(const ast::IndexExpr &expr, Usage &use) {
    std::optional<Type> base = check(expr.getBase(), use);
    if (!base)
      return std::nullopt;
    llvm::StringRef end = expr.getEnd() == ast::EdgeEnd::Src ? "src" : "dst";
    if (!base->isNode()) {
      error(expr.getEndRange().begin,
            "'[" + end + "]' reads a node field along edges, but " +
                describe(expr.getBase()) + " is " +
                (base->isEdge() ? "an edge field" : "a global value"));
      return std::nullopt;
    }
    Type type = *base;
    type.kind = FieldKind::edge;
    return type;
  }

  std::optional<Type> checkUnary(const ast::Expr &operand, llvm::StringRef op,
                                 SourceLoc at, Usage &use) {
    return check(operand, use);
  }

  /// Element-wise combination with broadcasting of globals and of scalars
  /// over features.
  std::optional<Type> combine(const Type &lhs, const Type &rhs,
                              const ast::Expr &lhsExpr,
                              const ast::Expr &rhsExpr, llvm::StringRef op,
                              SourceLoc at) {
    // A global matrix next to a field of another shape was most likely
    // meant as a product.
    for (auto [type, expr, other] :
         {std::tuple(&lhs, &lhsExpr, &rhs), {&rhs, &rhsExpr, &lhs}})
      if (type->isGlobal() && type->shape.size() >= 2 && !other->isGlobal() &&
          other->shape != type->shape) {
        error(at, describe(*expr) + " is a matrix " +
                      formatShape(type->shape) + "; multiply by it with '@'");
        return std::nullopt;
      }
    if (lhs.kind && rhs.kind && *lhs.kind != *rhs.kind) {
      error(at, "cannot combine a node field and an edge field with '" + op +
                    "'; read the node field along edges with '[src]' or "
                    "'[dst]'");
      return std::nullopt;
    }
    std::optional<Elem> elem = unify(lhs.elem, rhs.elem);
    if (!elem) {
      error(at, "element type mismatch in '" + op + "': " +
                    elemName(lhs.elem) + " and " + elemName(rhs.elem));
      return std::nullopt;
    }
    Type result;
    result.kind = lhs.kind ? lhs.kind : rhs.kind;
    result.elem = *elem;
    if (lhs.shape == rhs.shape || rhs.shape.empty())
      result.shape = lhs.shape;
    else if (lhs.shape.empty())
      result.shape = rhs.shape;
    else {
      error(at, "feature shapes " + formatShape(lhs.shape) + " and " +
                    formatShape(rhs.shape) + " do not match in '" + op + "'");
      return std::nullopt;
    }
    return result;
  }

  std::optional<Type> checkDot(const Type &lhs, const Type &rhs,
                               const ast::Expr &lhsExpr,
                               const ast::Expr &rhsExpr, llvm::StringRef op,
                               SourceLoc at) {
    if (lhs.shape.size() != 1 || lhs.shape != rhs.shape) {
      error(at, "'" + op + "' needs two vectors of the same length, got " +
                    format(lhs) + " and " + format(rhs));
      return std::nullopt;
    }
    if (lhs.isGlobal() && rhs.isGlobal()) {
      error(at, "'" + op + "' of two global vectors is not supported; one "
                           "operand must be a node or edge field");
      return std::nullopt;
    }
    std::optional<Type> type = combine(lhs, rhs, lhsExpr, rhsExpr, op, at);
    if (!type)
      return std::nullopt;
    type->shape.clear();
    return type;
  }

  std::optional<Type> checkMatMul(const Type &lhs, const Type &rhs,
                                  SourceLoc at) {
    if (lhs.isGlobal() || lhs.shape.size() != 1) {
      error(at, "'@' needs a node or edge field of vectors on the left, got " +
                    format(lhs));
      return std::nullopt;
    }
    if (!rhs.isGlobal() || rhs.shape.size() != 2) {
      error(at, "'@' needs a matrix on the right, got " + format(rhs));
      return std::nullopt;
    }
    if (lhs.shape[0] != rhs.shape[0]) {
      error(at, "shapes do not multiply: " + formatShape(lhs.shape) + " @ " +
                    formatShape(rhs.shape));
      return std::nullopt;
    }
    std::optional<Elem> elem = unify(lhs.elem, rhs.elem);
    if (!elem) {
      error(at, "element type mismatch in '@': " + elemName(lhs.elem) +
                    " and " + elemName(rhs.elem));
      return std::nullopt;
    }
    Type result = lhs;
    result.elem = *elem;
    result.shape = {rhs.shape[1]};
    return result;
  }

  std::optional<Type> checkBinary(const ast::BinaryExpr &expr, Usage &use) {
    std::optional<Type> lhs = check(expr.getLhs(), use);
    std::optional<Type> rhs = check(expr.getRhs(), use);
    if (!lhs || !rhs)
      return std::nullopt;
    llvm::StringRef op = ast::spell(expr.getOp());
    switch (expr.getOp()) {
    case ast::BinaryOp::MatMul:
      return checkMatMul(*lhs, *rhs, expr.getOpLoc());
    case ast::BinaryOp::Dot:
      return checkDot(*lhs, *rhs, expr.getLhs(), expr.getRhs(), op,
                      expr.getOpLoc());
    default:
      return combine(*lhs, *rhs, expr.getLhs(), expr.getRhs(), op,
                     expr.getOpLoc());
    }
  }

  /// einsum("spec", a, ...) by the dialect's rules for grade.contract, its
  /// reasons reworded with the operands' names.
  std::optional<Type> checkEinsum(const ast::CallExpr &expr,
                                  const std::vector<Type> &types) {
    const std::vector<ast::ExprPtr> &args = expr.getArgs();
    Elem common = Elem::Abstract;
    for (const Type &type : types) {
      std::optional<Elem> next = unify(common, type.elem);
      if (!next) {
        error(expr.getLoc(), "element type mismatch in 'einsum': " +
                                 elemName(common) + " and " +
                                 elemName(type.elem));
        return std::nullopt;
      }
      common = *next;
    }
    if (llvm::all_of(types, [](const Type &type) { return type.isGlobal(); })) {
      error(expr.getLoc(), "'einsum' of globals only is not supported; one "
                           "operand must be a node or edge field");
      return std::nullopt;
    }
    mlir::Type elem = common == Elem::F32
                          ? mlir::Type(mlir::Float32Type::get(context))
                          : mlir::Type(mlir::Float64Type::get(context));
    llvm::SmallVector<mlir::Type> operandTypes;
    for (const Type &type : types)
      operandTypes.push_back(makeValueType(type.kind, type.shape, elem));
    std::string reason;
    mlir::Type result =
        ContractOp::inferResultType(*expr.getSpec(), operandTypes, &reason);
    if (!result) {
      // "operand #0" is the first operand after the spec.
      for (size_t index = args.size(); index-- > 0;) {
        std::string from = "operand #" + std::to_string(index);
        std::string to = llvm::isa<ast::NameExpr>(*args[index])
                             ? describe(*args[index])
                             : "operand " + std::to_string(index + 1);
        for (size_t at = reason.find(from); at != std::string::npos;
             at = reason.find(from, at + to.size()))
          reason.replace(at, from.size(), to);
      }
      error(expr.getSpecRange().begin, "in 'einsum': " + reason);
      return std::nullopt;
    }
    Type type;
    type.kind = getFieldKind(result);
    type.elem = common;
    llvm::ArrayRef<int64_t> shape = getFeatureShape(result);
    type.shape.assign(shape.begin(), shape.end());
    return type;
  }

  std::optional<Type> checkCall(const ast::CallExpr &expr, Usage &use) {
    llvm::StringRef callee = expr.getCallee();
    const BuiltinInfo *info = findBuiltin(callee);
    if (!info) {
      if (model.graph && model.graph->getName() == callee) {
        error(expr.getLoc(), "'" + callee + "' is the graph, not a function");
        return std::nullopt;
      }
      if (model.decls.count(callee) ||
          llvm::is_contained(kReservedNames, callee)) {
        error(expr.getLoc(), "'" + callee + "' is not a function");
        return std::nullopt;
      }
      std::vector<llvm::StringRef> names;
      for (const BuiltinInfo &builtin : kBuiltins)
        names.push_back(builtin.name);
      error(expr.getLoc(),
            "unknown function '" + callee + "'" + suggest(callee, names));
      return std::nullopt;
    }
    const std::vector<ast::ExprPtr> &args = expr.getArgs();
    if (info->kind == Builtin::Einsum) {
      if (!expr.getSpec()) {
        error(expr.getLoc(), "'einsum' takes its spec as a first, string "
                             "argument, as in einsum(\"ij,j->i\", A, x)");
        return std::nullopt;
      }
      if (args.empty()) {
        error(expr.getLoc(), "'einsum' needs at least one operand after its "
                             "spec");
        return std::nullopt;
      }
    } else if (expr.getSpec()) {
      error(expr.getSpecRange().begin,
            "'" + callee + "' takes no string argument");
      return std::nullopt;
    } else if (args.size() != info->arity) {
      error(expr.getLoc(), "'" + callee + "' takes " +
                               llvm::Twine(info->arity) +
                               (info->arity == 1 ? " argument" : " arguments") +
                               ", got " + llvm::Twine(args.size()));
      return std::nullopt;
    }
    std::vector<Type> types;
    for (const ast::ExprPtr &arg : args) {
      std::optional<Type> type = check(*arg, use);
      if (!type)
        return std::nullopt;
      types.push_back(*type);
    }
    switch (info->kind) {
    case Builtin::Unary:
      return types[0];
    case Builtin::Binary:
      return combine(types[0], types[1], *args[0], *args[1], callee,
                     expr.getLoc());
    case Builtin::Dot:
      return checkDot(types[0], types[1], *args[0], *args[1], callee,
                      expr.getLoc());
    case Builtin::Einsum:
      return checkEinsum(expr, types);
    case Builtin::Reduce:
    case Builtin::Softmax: {
      if (!types[0].isEdge()) {
        std::string what = types[0].isNode() ? "a node field" : "a global value";
        std::string hint;
        if (auto *name = llvm::dyn_cast<ast::NameExpr>(args[0].get());
            name && types[0].isNode())
          hint = "; read it along edges with '" + name->getName().str() +
                 "[src]'";
        llvm::StringRef edges =
            callee.ends_with("_out") ? "out-edges" : "in-edges";
        error(expr.getLoc(), "'" + callee + "' works over " + edges.str() +
                                 " and needs an edge field, but its "
                                 "argument is " +
                                 what + hint);
        return std::nullopt;
      }
      Type type = types[0];
      if (info->kind == Builtin::Reduce)
        type.kind = FieldKind::node;
      return type;
    }
    case Builtin::ReduceAll: {
      // A field reduced over all its nodes or edges: a global of the same
      // element type and feature shape.
      if (types[0].isGlobal()) {
        error(expr.getLoc(), "'" + callee +
                                 "' reduces a node or edge field to a global "
                                 "value, but its argument is already a "
                                 "global value");
        return std::nullopt;
      }
      Type type = types[0];
      type.kind.reset();
      return type;
    }
    }
    llvm_unreachable("unknown builtin kind");
  }

  //===--------------------------------------------------------------------===//
  // Lets, states, right-hand sides, outputs
  //===--------------------------------------------------------------------===//

  static bool assignable(const Type &from, const Type &to) {
    return from.kind == to.kind && from.shape == to.shape &&
           (from.elem == to.elem || from.elem == Elem::Abstract);
  }

  /// Checks let `name` once; false if it (or what it uses) is in error.
  bool ensureLet(llvm::StringRef name) {
    int state = letStates[name];
    if (state == Done)
      return true;
    if (state == Failed)
      return false;
    DeclInfo &info = model.decls[name];
    auto &let = llvm::cast<ast::LetDecl>(*info.decl);
    if (state == Checking) {
      error(let.getNameRange().begin, "let '" + name + "' depends on itself");
      letStates[name] = Failed;
      return false;
    }
    letStates[name] = Checking;
    Usage use;
    std::optional<Type> value = check(let.getValue(), use);
    if (!value) {
      letStates[name] = Failed;
      return false;
    }
    Type type = *value;
    if (let.getType()) {
      std::optional<Type> declared = typeFromSpec(*let.getType());
      if (!declared) {
        letStates[name] = Failed;
        return false;
      }
      if (!assignable(*value, *declared)) {
        error(let.getValue().getLoc(),
              "let '" + name + "' is declared " + format(*declared) +
                  ", but its value has type " + format(*value));
        letStates[name] = Failed;
        return false;
      }
      type = *declared;
    }
    // A field must have a concrete element type to live in a buffer.
    if (!type.isGlobal() && type.elem == Elem::Abstract)
      type.elem = Elem::F64;
    info.type = type;
    info.dynamic = use.dynamic;
    letCauses[name] = use.cause;
    letStates[name] = Done;
    return true;
  }

  void checkStates() {
    bool anyState = false;
    for (const std::string &name : model.order) {
      DeclInfo &info = model.decls[name];
      if (info.role != Role::State)
        continue;
      anyState = true;
      if (info.poisoned)
        continue;
      auto &state = llvm::cast<ast::StateDecl>(*info.decl);
      Usage use;
      std::optional<Type> value = check(state.getInit(), use);
      if (!value)
        continue;
      if (use.dynamic) {
        error(state.getInit().getLoc(), "initial value of state '" + name +
                                            "' cannot depend on " +
                                            use.cause);
        continue;
      }
      if (!assignable(*value, info.type))
        error(state.getInit().getLoc(),
              "initial value of state '" + name + "' has type " +
                  format(*value) + ", but the state is " + format(info.type));
    }
    if (!anyState && model.graph)
      error(ast.getRange().begin,
            "model '" + ast.getName() +
                "' declares no state; add e.g. 'state x : node f64 = x0;'");
  }

  void checkRhs() {
    for (const ast::RhsDecl *rhs : rhsDecls) {
      llvm::StringRef name = rhs->getName();
      auto it = model.decls.find(name);
      if (it == model.decls.end()) {
        error(rhs->getNameRange().begin,
              "'d" + name + "/dt' refers to '" + name +
                  "', which is not declared");
        continue;
      }
      DeclInfo &info = it->second;
      if (info.role != Role::State) {
        static const char *const roles[] = {"an input", "a parameter",
                                            "a state", "a let"};
        error(rhs->getNameRange().begin,
              "'d" + name + "/dt': '" + name + "' is " +
                  roles[static_cast<int>(info.role)] + ", not a state");
        continue;
      }
      if (info.rhs) {
        error(rhs->getNameRange().begin,
              "second right-hand side for state '" + name + "'")
                .attachNote(loc(info.rhs->getNameRange().begin))
            << "first right-hand side is here";
        continue;
      }
      info.rhs = rhs;
      Usage use;
      std::optional<Type> value = check(rhs->getValue(), use);
      if (value && !info.poisoned && !assignable(*value, info.type))
        error(rhs->getValue().getLoc(),
              "right-hand side of 'd" + name + "/dt' has type " +
                  format(*value) + ", but state '" + name + "' is " +
                  format(info.type));
    }
    for (const std::string &name : model.order) {
      DeclInfo &info = model.decls[name];
      if (info.role == Role::State && !info.rhs && !info.poisoned)
        error(info.decl->getNameRange().begin,
              "state '" + name + "' has no right-hand side; add 'rhs d" +
                  name + "/dt = ...;'");
    }
  }

  void checkOutputs() {
    llvm::StringMap<SourceLoc> listed;
    for (const ast::OutputDecl *output : outputDecls) {
      for (const ast::OutputName &entry : output->getNames()) {
        llvm::StringRef name = entry.name;
        if (!listed.try_emplace(name, entry.range.begin).second) {
          error(entry.range.begin, "'" + name + "' is listed twice as an output")
                  .attachNote(loc(listed[name]))
              << "first listed here";
          continue;
        }
        auto it = model.decls.find(name);
        if (it == model.decls.end()) {
          if (model.graph && model.graph->getName() == name)
            error(entry.range.begin, "'" + name +
                                         "' is the graph; only states and "
                                         "lets can be outputs");
          else
            error(entry.range.begin, "unknown name '" + name +
                                         "' in 'output'" +
                                         suggest(name, declaredNames()));
          continue;
        }
        DeclInfo &info = it->second;
        if (info.poisoned)
          continue;
        if (info.role == Role::Input || info.role == Role::Param) {
          error(entry.range.begin,
                "'" + name + "' is " +
                    (info.role == Role::Input ? "an input" : "a parameter") +
                    "; only states and lets can be outputs");
          continue;
        }
        if (info.role == Role::Let) {
          if (letStates[name] != Done)
            continue;
          if (info.dynamic) {
            error(entry.range.begin,
                  "let '" + name +
                      "' depends on a state and is not kept between steps; "
                      "output the state instead");
            continue;
          }
          if (info.type.isGlobal()) {
            error(entry.range.begin, "let '" + name +
                                         "' is a global value; outputs are "
                                         "node or edge fields");
            continue;
          }
          info.stored = true;
        }
        info.output = true;
      }
    }
  }

  /// Static field lets read from a dynamic context are stored by init.
  void markStored() {
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

  const ast::Model &ast;
  Model &model;
  mlir::MLIRContext *context;
  bool failed = false;
  std::vector<const ast::RhsDecl *> rhsDecls;
  std::vector<const ast::OutputDecl *> outputDecls;
  /// `scheme` declarations by name, and the tableaux of the valid ones.
  llvm::StringMap<const ast::SchemeDecl *> schemeDecls;
  llvm::StringMap<TableauAttr> schemes;
  /// Progress of checking each let (cycle detection).
  enum LetState { Unchecked = 0, Checking, Done, Failed };
  llvm::StringMap<int> letStates;
  llvm::StringMap<std::string> letCauses;
};

} // namespace grade::sema

std::unique_ptr<Model> sema::analyze(const ast::Model &ast,
                                     mlir::MLIRContext *context) {
  auto model = std::make_unique<Model>(ast);
  if (!Checker(ast, *model, context).run())
    return nullptr;
  return model;
}
