//===- Types.cpp - typing of expressions --------------------------------===//
//
// Types every expression bottom-up. The typing rules of the operations are
// the grade dialect's (GradeTyping.h, the same functions the ops' type
// inference and verifiers call): Sema maps its types to the dialect's,
// asks, and maps the answer back. What Sema adds is the language around
// the rules: numbers adapt to the element type of their context, names
// resolve to declarations, and a broken rule is reworded into a located
// diagnostic that speaks of the source (the operator as written, the
// operand's name, a hint how to fix it).
//
//===----------------------------------------------------------------------===//

#include "compiler/Sema/Checker.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace grade;
using namespace grade::sema;
using ast::SourceLoc;

//===----------------------------------------------------------------------===//
// Sema types and dialect types
//===----------------------------------------------------------------------===//

/// The dialect type of `type`, whose abstract element type becomes
/// `concrete`.
static mlir::Type toDialect(mlir::MLIRContext *context, const Type &type,
                            Elem concrete) {
  mlir::Builder builder(context);
  Elem elem = type.elem == Elem::Abstract ? concrete : type.elem;
  mlir::Type elemType =
      elem == Elem::F32 ? builder.getF32Type() : builder.getF64Type();
  return makeValueType(type.kind, type.shape, elemType);
}

/// The Sema type of a dialect value type; its element type is abstract if
/// `abstract`.
static Type fromDialect(mlir::Type type, bool abstract) {
  Type result;
  result.kind = getFieldKind(type);
  llvm::ArrayRef<int64_t> shape = getFeatureShape(type);
  result.shape.assign(shape.begin(), shape.end());
  result.elem = abstract                         ? Elem::Abstract
                : getElementTypeOf(type).isF32() ? Elem::F32
                                                 : Elem::F64;
  return result;
}

std::optional<Type> Checker::infer(
    llvm::ArrayRef<Type> operands,
    llvm::function_ref<mlir::FailureOr<mlir::Type>(llvm::ArrayRef<mlir::Type>,
                                                   TypeError *)>
        rule,
    TypeError &error) {
  // Numbers take the element type of their context; the first concrete
  // one decides, and a clash of two concrete ones is the rule's to report.
  Elem concrete = Elem::F64;
  bool abstract = true;
  for (const Type &operand : operands)
    if (operand.elem != Elem::Abstract) {
      if (abstract)
        concrete = operand.elem;
      abstract = false;
    }
  llvm::SmallVector<mlir::Type> types;
  for (const Type &operand : operands)
    types.push_back(toDialect(context, operand, concrete));
  mlir::FailureOr<mlir::Type> result = rule(types, &error);
  if (mlir::failed(result))
    return std::nullopt;
  return fromDialect(*result, abstract);
}

void Checker::reportRule(const TypeError &error, llvm::StringRef op,
                         SourceLoc at) {
  this->error(at, "'" + op + "': " + error.message);
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

std::optional<Type> Checker::check(const ast::Expr &expr, Usage &use) {
  std::optional<Type> type =
      llvm::TypeSwitch<const ast::Expr *, std::optional<Type>>(&expr)
          .Case<ast::NumberExpr>([](auto *) { return Type(); })
          .Case<ast::NameExpr>(
              [&](const ast::NameExpr *name) { return checkName(*name, use); })
          .Case<ast::IndexExpr>([&](const ast::IndexExpr *index) {
            return checkIndex(*index, use);
          })
          .Case<ast::NegExpr>(
              [&](const ast::NegExpr *neg) -> std::optional<Type> {
                std::optional<Type> operand = check(neg->getOperand(), use);
                if (!operand)
                  return std::nullopt;
                TypeError error;
                std::optional<Type> type = infer(
                    {*operand},
                    [](auto types, TypeError *error) {
                      return inferUnaryType(types[0], error);
                    },
                    error);
                if (!type)
                  reportRule(error, "-", neg->getLoc());
                return type;
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

std::optional<Type> Checker::checkName(const ast::NameExpr &expr, Usage &use) {
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
    case Role::Readout:
      if (!use.inReadout) {
        error(expr.getLoc(),
              "readout '" + name.str() +
                  "' is computed after the solve; only readouts can read it")
                .attachNote(loc(info.decl->getNameRange().begin))
            << "readout declared here";
        return std::nullopt;
      }
      if (!ensureLet(name))
        return std::nullopt;
      use.markDynamic("readout '" + name.str() + "'");
      return info.type;
    }
  }
  if (name == "t") {
    use.markDynamic("the time 't'");
    return Type();
  }
  // The graph's sizes, unless the model declares the name itself (models
  // written before these builtins keep their own N and E).
  if (name == "N" || name == "E")
    return Type();
  if (name == "degree") {
    // Any float type its context asks for.
    mlir::Builder builder(context);
    return fromDialect(getDegreeType(builder.getF64Type()),
                       /*abstract=*/true);
  }
  if (name == "weight") {
    mlir::Builder builder(context);
    mlir::Type weightType;
    if (model.weightElem)
      weightType = *model.weightElem == Elem::F32 ? builder.getF32Type()
                                                  : builder.getF64Type();
    TypeError error;
    mlir::FailureOr<mlir::Type> type =
        inferWeightType(context, weightType, &error);
    if (mlir::succeeded(type))
      return fromDialect(*type, /*abstract=*/false);
    if (error.rule != TypeRule::NoWeights)
      reportRule(error, name, expr.getLoc());
    else if (model.graph)
      this->error(expr.getLoc(),
                  "the graph '" + model.graph->getName() +
                      "' has no edge weights; declare them with 'graph " +
                      model.graph->getName() + "(weight: f64);'");
    else
      this->error(expr.getLoc(), "'weight' needs a graph with edge weights");
    return std::nullopt;
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
  for (const ast::FunctionDecl *function : functions)
    if (function->getName() == name) {
      error(expr.getLoc(), "'" + name + "' is a function; call it, as in '" +
                               name + "(...)'");
      return std::nullopt;
    }
  // `k * dx/dt` reads as `(k * dx) / dt`.
  if (const DeclInfo *velocity = model.lookup(name.str() + "/dt");
      velocity && !velocity->position.empty()) {
    error(expr.getLoc(),
          "unknown name '" + name + "'; the velocity of state '" +
              velocity->position + "' is '" + name +
              "/dt', which needs parentheses inside a product or quotient: "
              "write 'k * (" + name + "/dt)' ('k * " + name +
              "/dt' reads as '(k * " + name + ") / dt')");
    return std::nullopt;
  }
  std::vector<llvm::StringRef> candidates = declaredNames();
  candidates.insert(candidates.end(), {"t", "weight", "degree", "N", "E"});
  error(expr.getLoc(),
        "unknown name '" + name + "'" + suggest(name, candidates));
  return std::nullopt;
}

std::optional<Type> Checker::checkIndex(const ast::IndexExpr &expr,
                                        Usage &use) {
  std::optional<Type> base = check(expr.getBase(), use);
  if (!base)
    return std::nullopt;
  TypeError error;
  std::optional<Type> type = infer(
      {*base},
      [](auto types, TypeError *error) {
        return inferGatherType(types[0], error);
      },
      error);
  if (type)
    return type;
  llvm::StringRef end = expr.getEnd() == ast::EdgeEnd::Src ? "src" : "dst";
  if (error.rule == TypeRule::NeedsNodeField)
    this->error(expr.getEndRange().begin,
                "'[" + end + "]' reads a node field along edges, but " +
                    describe(expr.getBase()) + " is " +
                    (base->isEdge() ? "an edge field" : "a global value"));
  else
    reportRule(error, "[" + end.str() + "]", expr.getEndRange().begin);
  return std::nullopt;
}

/// `dx/dt` where x is a second-order state and `dx` names nothing: the
/// velocity state "dx/dt".
static std::optional<std::string> velocityRef(const ast::BinaryExpr &expr,
                                              const Model &model) {
  if (expr.getOp() != ast::BinaryOp::Div)
    return std::nullopt;
  auto *lhs = llvm::dyn_cast<ast::NameExpr>(&expr.getLhs());
  auto *rhs = llvm::dyn_cast<ast::NameExpr>(&expr.getRhs());
  if (!lhs || !rhs || rhs->getName() != "dt" ||
      !llvm::StringRef(lhs->getName()).starts_with("d") ||
      model.lookup(lhs->getName()))
    return std::nullopt;
  std::string velocity = lhs->getName().str() + "/dt";
  const DeclInfo *info = model.lookup(velocity);
  if (!info || info->position.empty())
    return std::nullopt;
  return velocity;
}

std::optional<Type> Checker::checkBinary(const ast::BinaryExpr &expr,
                                         Usage &use) {
  if (std::optional<std::string> velocity = velocityRef(expr, model)) {
    const DeclInfo &info = model.decls[*velocity];
    if (info.poisoned)
      return std::nullopt;
    use.markDynamic("state '" + *velocity + "'");
    model.velocityRefs[&expr] = *velocity;
    return info.type;
  }
  std::optional<Type> lhs = check(expr.getLhs(), use);
  // `k * dx/dt` with `dx` reported: no echo for `dt`.
  if (auto *time = llvm::dyn_cast<ast::NameExpr>(&expr.getRhs());
      !lhs && time && time->getName() == "dt" && !model.lookup("dt"))
    return std::nullopt;
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

/// Rewords the rules of elementwise combination (grade.binary, and the
/// elementwise part of `.`); false for other rules.
static bool
rewordCombination(const TypeError &error, const Type &lhs, const Type &rhs,
                  const ast::Expr &lhsExpr, const ast::Expr &rhsExpr,
                  llvm::StringRef op,
                  llvm::function_ref<void(const std::string &)> report) {
  switch (error.rule) {
  case TypeRule::MatrixBroadcast: {
    // The operand that is the matrix: a global of rank 2 or more beside a
    // field of another shape (a product was most likely meant).
    bool lhsIsMatrix = lhs.isGlobal() && lhs.shape.size() >= 2 &&
                       !rhs.isGlobal() && rhs.shape != lhs.shape;
    const Type &matrix = lhsIsMatrix ? lhs : rhs;
    report(describe(lhsIsMatrix ? lhsExpr : rhsExpr) + " is a matrix " +
           formatShape(matrix.shape) + "; multiply by it with '@'");
    return true;
  }
  case TypeRule::KindMismatch:
    report("cannot combine a node field and an edge field with '" + op.str() +
           "'; read the node field along edges with '[src]' or '[dst]'");
    return true;
  case TypeRule::ElementMismatch:
    report("element type mismatch in '" + op.str() + "': " +
           elemName(lhs.elem).str() + " and " + elemName(rhs.elem).str());
    return true;
  case TypeRule::ShapeMismatch:
    report("feature shapes " + formatShape(lhs.shape) + " and " +
           formatShape(rhs.shape) + " do not match in '" + op.str() + "'");
    return true;
  default:
    return false;
  }
}

std::optional<Type> Checker::combine(const Type &lhs, const Type &rhs,
                                     const ast::Expr &lhsExpr,
                                     const ast::Expr &rhsExpr,
                                     llvm::StringRef op, SourceLoc at) {
  TypeError error;
  std::optional<Type> type = infer(
      {lhs, rhs},
      [](auto types, TypeError *error) {
        return inferBinaryType(types[0], types[1], error);
      },
      error);
  if (!type && !rewordCombination(error, lhs, rhs, lhsExpr, rhsExpr, op,
                                  [&](const std::string &message) {
                                    this->error(at, message);
                                  }))
    reportRule(error, op, at);
  return type;
}

std::optional<Type> Checker::checkDot(const Type &lhs, const Type &rhs,
                                      const ast::Expr &lhsExpr,
                                      const ast::Expr &rhsExpr,
                                      llvm::StringRef op, SourceLoc at) {
  TypeError error;
  std::optional<Type> type = infer(
      {lhs, rhs},
      [](auto types, TypeError *error) {
        return inferDotType(types[0], types[1], error);
      },
      error);
  if (type)
    return type;
  auto report = [&](const std::string &message) { this->error(at, message); };
  if (error.rule == TypeRule::DotShapes)
    report("'" + op.str() + "' needs two vectors of the same length, got " +
           format(lhs) + " and " + format(rhs));
  else if (error.rule == TypeRule::DotOfGlobals)
    report("'" + op.str() +
           "' of two global vectors is not supported; one operand must be a "
           "node or edge field");
  else if (!rewordCombination(error, lhs, rhs, lhsExpr, rhsExpr, op, report))
    reportRule(error, op, at);
  return std::nullopt;
}

std::optional<Type> Checker::checkMatMul(const Type &lhs, const Type &rhs,
                                         SourceLoc at) {
  TypeError error;
  std::optional<Type> type = infer(
      {lhs, rhs},
      [](auto types, TypeError *error) {
        return inferMatmulType(types[0], types[1], error);
      },
      error);
  if (type)
    return type;
  switch (error.rule) {
  case TypeRule::MatmulInput:
    this->error(at, "'@' needs a node or edge field of vectors on the left, "
                    "got " +
                        format(lhs));
    break;
  case TypeRule::MatmulMatrix:
    this->error(at, "'@' needs a matrix on the right, got " + format(rhs));
    break;
  case TypeRule::MatmulShapes:
    this->error(at, "shapes do not multiply: " + formatShape(lhs.shape) +
                        " @ " + formatShape(rhs.shape));
    break;
  case TypeRule::ElementMismatch:
    this->error(at, "element type mismatch in '@': " + elemName(lhs.elem) +
                        " and " + elemName(rhs.elem));
    break;
  default:
    reportRule(error, "@", at);
    break;
  }
  return std::nullopt;
}

std::optional<Type> Checker::checkEinsum(const ast::CallExpr &expr,
                                         llvm::ArrayRef<Type> types) {
  const std::vector<ast::ExprPtr> &args = expr.getArgs();
  llvm::StringRef spec = *expr.getSpec();
  TypeError error;
  std::optional<Type> type = infer(
      types,
      [&](llvm::ArrayRef<mlir::Type> operands, TypeError *error) {
        return inferContractType(spec, operands, error);
      },
      error);
  if (type)
    return type;
  switch (error.rule) {
  case TypeRule::ElementMismatch: {
    // The first two element types that differ.
    Elem first = Elem::Abstract, second = Elem::Abstract;
    for (const Type &operand : types) {
      if (operand.elem == Elem::Abstract)
        continue;
      if (first == Elem::Abstract)
        first = operand.elem;
      else if (operand.elem != first && second == Elem::Abstract)
        second = operand.elem;
    }
    this->error(expr.getLoc(), "element type mismatch in '" +
                                   expr.getCallee() + "': " +
                                   elemName(first) + " and " +
                                   elemName(second));
    break;
  }
  case TypeRule::ContractOfGlobals:
    this->error(expr.getLoc(), "'" + expr.getCallee() +
                                   "' of globals only is not supported; "
                                   "one operand must be a node or edge field");
    break;
  default: {
    // The spec's own rules, with "operand #0" (the first operand after the
    // spec) named as written.
    std::string reason = error.message;
    for (size_t index = args.size(); index-- > 0;) {
      std::string from = "operand #" + std::to_string(index);
      std::string to = llvm::isa<ast::NameExpr>(*args[index])
                           ? describe(*args[index])
                           : "operand " + std::to_string(index + 1);
      for (size_t at = reason.find(from); at != std::string::npos;
           at = reason.find(from, at + to.size()))
        reason.replace(at, from.size(), to);
    }
    this->error(expr.getSpecRange().begin,
                "in '" + expr.getCallee() + "': " + reason);
    break;
  }
  }
  return std::nullopt;
}
