//===- Builtins.cpp - the builtin functions -----------------------------===//
//
// The table of builtin functions (name, kind, arity) and the typing of a
// call: arity here, the types by the rule of the grade op each builtin
// becomes (grade.unary, grade.binary, grade.contract, grade.reduce,
// grade.softmax, grade.reduce_all), reworded for the call.
//
//===----------------------------------------------------------------------===//

#include "compiler/Sema/Checker.h"

using namespace grade;
using namespace grade::sema;

namespace {

/// Builtin functions: name, number of arguments.
enum class Builtin {
  Unary,     ///< exp log sqrt tanh relu sigmoid abs sin cos ... sign
  Binary,    ///< min max pow atan2
  Dot,       ///< dot(a, b)
  Einsum,    ///< einsum("ij,j->i", A, x), einsum_max, einsum_min
  Features,  ///< sum_features mean_features max_features min_features
  Concat,    ///< concat(a, b, ...): one or more operands
  Select,    ///< select(c, a, b)
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
    {"exp", Builtin::Unary, 1},          {"log", Builtin::Unary, 1},
    {"sqrt", Builtin::Unary, 1},         {"tanh", Builtin::Unary, 1},
    {"relu", Builtin::Unary, 1},         {"sigmoid", Builtin::Unary, 1},
    {"abs", Builtin::Unary, 1},          {"sin", Builtin::Unary, 1},
    {"cos", Builtin::Unary, 1},          {"tan", Builtin::Unary, 1},
    {"asin", Builtin::Unary, 1},         {"acos", Builtin::Unary, 1},
    {"atan", Builtin::Unary, 1},         {"sinh", Builtin::Unary, 1},
    {"cosh", Builtin::Unary, 1},         {"floor", Builtin::Unary, 1},
    {"ceil", Builtin::Unary, 1},         {"round", Builtin::Unary, 1},
    {"sign", Builtin::Unary, 1},         {"min", Builtin::Binary, 2},
    {"max", Builtin::Binary, 2},         {"pow", Builtin::Binary, 2},
    {"atan2", Builtin::Binary, 2},       {"dot", Builtin::Dot, 2},
    {"sum_in", Builtin::Reduce, 1},      {"mean_in", Builtin::Reduce, 1},
    {"max_in", Builtin::Reduce, 1},      {"softmax_in", Builtin::Softmax, 1},
    {"sum_out", Builtin::Reduce, 1},     {"mean_out", Builtin::Reduce, 1},
    {"max_out", Builtin::Reduce, 1},     {"sum_all", Builtin::ReduceAll, 1},
    {"mean_all", Builtin::ReduceAll, 1}, {"max_all", Builtin::ReduceAll, 1},
    {"min_all", Builtin::ReduceAll, 1},  {"einsum", Builtin::Einsum, 0},
    {"concat", Builtin::Concat, 0},      {"select", Builtin::Select, 3},
    {"einsum_max", Builtin::Einsum, 0},  {"einsum_min", Builtin::Einsum, 0},
    {"sum_features", Builtin::Features, 1},
    {"mean_features", Builtin::Features, 1},
    {"max_features", Builtin::Features, 1},
    {"min_features", Builtin::Features, 1},
};

const BuiltinInfo *findBuiltin(llvm::StringRef name) {
  for (const BuiltinInfo &info : kBuiltins)
    if (info.name == name)
      return &info;
  return nullptr;
}

} // namespace

bool Checker::isBuiltinFunction(llvm::StringRef name) {
  return findBuiltin(name) != nullptr;
}

std::optional<Type> Checker::checkCall(const ast::CallExpr &expr, Usage &use) {
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
      error(expr.getLoc(), "'" + callee +
                               "' takes its spec as a first, string "
                               "argument, as in " +
                               callee + "(\"ij,j->i\", A, x)");
      return std::nullopt;
    }
    if (args.empty()) {
      error(expr.getLoc(), "'" + callee +
                               "' needs at least one operand after its spec");
      return std::nullopt;
    }
  } else if (info->kind == Builtin::Concat && !expr.getSpec()) {
    if (args.empty()) {
      error(expr.getLoc(), "'concat' needs at least one operand");
      return std::nullopt;
    }
  } else if (expr.getSpec()) {
    error(expr.getSpecRange().begin,
          "'" + callee + "' takes no string argument");
    return std::nullopt;
  } else if (args.size() != info->arity) {
    error(expr.getLoc(), "'" + callee + "' takes " + llvm::Twine(info->arity) +
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
  case Builtin::Binary:
    return combine(types[0], types[1], *args[0], *args[1], callee,
                   expr.getLoc());
  case Builtin::Dot:
    return checkDot(types[0], types[1], *args[0], *args[1], callee,
                    expr.getLoc());
  case Builtin::Einsum:
    return checkEinsum(expr, types);
  case Builtin::Features:
    // A contraction of the field's feature axes to a scalar per row.
    if (types[0].isGlobal()) {
      error(expr.getLoc(), "'" + callee +
                               "' reduces the features of each node or edge "
                               "of a field, but its argument is a global "
                               "value");
      return std::nullopt;
    }
    return Type{types[0].kind, types[0].elem, {}};
  case Builtin::Select: {
    TypeError typeError;
    std::optional<Type> type = infer(
        types,
        [](llvm::ArrayRef<mlir::Type> operands, TypeError *error) {
          return inferSelectType(operands[0], operands[1], operands[2], error);
        },
        typeError);
    if (!type)
      reportRule(typeError, callee, expr.getLoc());
    return type;
  }
  case Builtin::Concat: {
    TypeError typeError;
    std::optional<Type> type = infer(
        types,
        [](llvm::ArrayRef<mlir::Type> operands, TypeError *error) {
          return inferConcatType(operands, error);
        },
        typeError);
    if (!type)
      reportRule(typeError, callee, expr.getLoc());
    return type;
  }
  case Builtin::Unary:
  case Builtin::Reduce:
  case Builtin::Softmax:
  case Builtin::ReduceAll:
    break;
  }

  // One argument, typed by the rule of the op the builtin becomes.
  auto rule = [&]() -> mlir::FailureOr<mlir::Type> (*)(mlir::Type,
                                                       TypeError *) {
    switch (info->kind) {
    case Builtin::Unary:
      return inferUnaryType;
    case Builtin::Reduce:
      return inferReduceType;
    case Builtin::Softmax:
      return inferSoftmaxType;
    default:
      return inferReduceAllType;
    }
  }();
  TypeError typeError;
  std::optional<Type> type = infer(
      types,
      [&](llvm::ArrayRef<mlir::Type> operands, TypeError *error) {
        return rule(operands[0], error);
      },
      typeError);
  if (type)
    return type;
  switch (typeError.rule) {
  case TypeRule::NeedsEdgeField: {
    std::string what = types[0].isNode() ? "a node field" : "a global value";
    std::string hint;
    if (auto *name = llvm::dyn_cast<ast::NameExpr>(args[0].get());
        name && types[0].isNode())
      hint = "; read it along edges with '" + name->getName().str() + "[src]'";
    llvm::StringRef edges = callee.ends_with("_out") ? "out-edges" : "in-edges";
    error(expr.getLoc(), "'" + callee + "' works over " + edges.str() +
                             " and needs an edge field, but its argument is " +
                             what + hint);
    break;
  }
  case TypeRule::NeedsField:
    error(expr.getLoc(), "'" + callee +
                             "' reduces a node or edge field to a global "
                             "value, but its argument is already a global "
                             "value");
    break;
  default:
    reportRule(typeError, callee, expr.getLoc());
    break;
  }
  return std::nullopt;
}
