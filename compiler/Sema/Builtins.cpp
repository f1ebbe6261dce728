//===- Builtins.cpp - the builtin functions -----------------------------===//
//
// The table of builtin functions (name, kind, arity) and the typing of a
// call: arity here, the types by the rule of the grade op each builtin
// becomes (grade.unary, grade.binary, grade.contract, grade.reduce,
// grade.softmax, grade.reduce_all), reworded for the call.
//
//===----------------------------------------------------------------------===//

#include "compiler/Sema/Checker.h"

#include <cmath>

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
  Take,      ///< take(v, i): slice i of the first feature axis
  Conv1d,    ///< conv1d(v, W, stride), conv1d(v, W, b, stride)
  Reshape,   ///< reshape(v, d1, d2, ...): the same features, another shape
  SymPow,    ///< sym_pow(M, p): a power of a symmetric matrix per row
  Eye,       ///< eye(d): the d x d identity matrix, a global
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
    {"take", Builtin::Take, 2},          {"conv1d", Builtin::Conv1d, 0},
    {"reshape", Builtin::Reshape, 0},    {"sym_pow", Builtin::SymPow, 2},
    {"eye", Builtin::Eye, 1},
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
  } else if (info->kind == Builtin::Conv1d && !expr.getSpec()) {
    if (args.size() != 3 && args.size() != 4) {
      error(expr.getLoc(), "'conv1d' takes 3 or 4 arguments (conv1d(v, W, "
                           "stride) or conv1d(v, W, b, stride)), got " +
                               llvm::Twine(args.size()));
      return std::nullopt;
    }
  } else if (info->kind == Builtin::Reshape && !expr.getSpec()) {
    if (args.size() < 2) {
      error(expr.getLoc(), "'reshape' takes a value and its new feature "
                           "shape, as in reshape(x, 2, 6)");
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
  case Builtin::Take:
    return checkTake(expr, types);
  case Builtin::Conv1d:
    return checkConv1d(expr, types);
  case Builtin::Eye: {
    std::optional<int64_t> size = getIntegerLiteral(*args[0]);
    if (!size || *size < 1 || *size > 4096) {
      error(args[0]->getLoc(), "the size of 'eye' must be a whole number "
                               "from 1 to 4096, written as a literal");
      return std::nullopt;
    }
    return Type{std::nullopt, Elem::Abstract, {*size, *size}};
  }
  case Builtin::SymPow: {
    const Type &matrix = types[0];
    if (matrix.isGlobal() || matrix.shape.size() != 2 ||
        matrix.shape[0] != matrix.shape[1]) {
      error(args[0]->getLoc(),
            "'sym_pow' takes a symmetric matrix per node or edge (a field "
            "of shape [d, d]), but its first argument is " + format(matrix));
      return std::nullopt;
    }
    if (!getNumberLiteral(*args[1])) {
      error(args[1]->getLoc(), "the exponent of 'sym_pow' must be a number, "
                               "written as a literal (-0.5, 2)");
      return std::nullopt;
    }
    return matrix;
  }
  case Builtin::Reshape: {
    std::vector<int64_t> shape;
    for (const ast::ExprPtr &arg : llvm::drop_begin(args)) {
      std::optional<int64_t> size = getIntegerLiteral(*arg);
      if (!size || *size < 1) {
        error(arg->getLoc(), "the sizes of 'reshape' must be positive whole "
                             "numbers, written as literals");
        return std::nullopt;
      }
      shape.push_back(*size);
    }
    if (getNumElements(shape) != getNumElements(types[0].shape)) {
      error(expr.getLoc(),
            "'reshape' to " + formatShape(shape) + " needs " +
                llvm::Twine(getNumElements(shape)).str() + " features, but " +
                describe(*args[0]) + " (" + format(types[0]) + ") has " +
                llvm::Twine(getNumElements(types[0].shape)).str());
      return std::nullopt;
    }
    return Type{types[0].kind, types[0].elem, shape};
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

std::optional<double> sema::getNumberLiteral(const ast::Expr &expr) {
  if (auto *number = llvm::dyn_cast<ast::NumberExpr>(&expr))
    return number->getValue();
  if (auto *neg = llvm::dyn_cast<ast::NegExpr>(&expr))
    if (auto *number = llvm::dyn_cast<ast::NumberExpr>(&neg->getOperand()))
      return -number->getValue();
  return std::nullopt;
}

std::optional<int64_t> sema::getIntegerLiteral(const ast::Expr &expr) {
  auto *number = llvm::dyn_cast<ast::NumberExpr>(&expr);
  if (!number || number->getValue() != std::floor(number->getValue()) ||
      number->getValue() > double(int64_t(1) << 53))
    return std::nullopt;
  return int64_t(number->getValue());
}

/// The element type two operands share, or nullopt after an error.
static std::optional<Elem> commonElem(Elem a, Elem b) {
  if (a == Elem::Abstract)
    return b;
  if (b == Elem::Abstract || a == b)
    return a;
  return std::nullopt;
}

std::optional<Type> Checker::checkTake(const ast::CallExpr &expr,
                                       llvm::ArrayRef<Type> types) {
  const Type &input = types[0], &index = types[1];
  if (input.shape.empty()) {
    error(expr.getLoc(), "'take' selects along the first feature axis, but "
                         "its first argument is " + format(input) +
                             ", which has none");
    return std::nullopt;
  }
  if (!index.isGlobal() || !index.shape.empty()) {
    error(expr.getArgs()[1]->getLoc(),
          "the index of 'take' must be a global scalar (a number, 't', a "
          "scalar parameter), but it is " + format(index));
    return std::nullopt;
  }
  if (auto *number = llvm::dyn_cast<ast::NumberExpr>(expr.getArgs()[1].get())) {
    std::optional<int64_t> value = getIntegerLiteral(*number);
    if (!value) {
      error(number->getLoc(), "index " + number->getSpelling().str() +
                                  " of 'take' is not a whole number");
      return std::nullopt;
    }
    if (*value >= input.shape.front()) {
      error(number->getLoc(),
            "index " + number->getSpelling().str() + " of 'take' is not in "
            "[0, " + llvm::Twine(input.shape.front()).str() + "), the first "
            "feature axis of " + format(input));
      return std::nullopt;
    }
  } else if (auto *neg =
                 llvm::dyn_cast<ast::NegExpr>(expr.getArgs()[1].get());
             neg && llvm::isa<ast::NumberExpr>(neg->getOperand())) {
    error(expr.getArgs()[1]->getLoc(),
          "the index of 'take' is negative (indices count from 0)");
    return std::nullopt;
  }
  Type result = input;
  result.shape.erase(result.shape.begin());
  return result;
}

std::optional<Type> Checker::checkConv1d(const ast::CallExpr &expr,
                                         llvm::ArrayRef<Type> types) {
  const std::vector<ast::ExprPtr> &args = expr.getArgs();
  const Type &input = types[0], &weights = types[1];
  bool hasBias = args.size() == 4;
  const ast::Expr &strideExpr = *args.back();
  if (input.isGlobal() || input.shape.empty() || input.shape.size() > 2) {
    error(args[0]->getLoc(),
          "'conv1d' convolves the features of each node or edge, [L] or "
          "[channels, L], but its first argument is " + format(input));
    return std::nullopt;
  }
  int64_t channels = input.shape.size() == 2 ? input.shape[0] : 1;
  int64_t length = input.shape.back();
  if (!weights.isGlobal() || weights.shape.size() != 3 ||
      weights.shape[1] != channels) {
    error(args[1]->getLoc(),
          "the weights of 'conv1d' must be a global [out, " +
              llvm::Twine(channels).str() + ", kernel] (PyTorch's Conv1d "
              "weight for " + llvm::Twine(channels).str() +
              " input channels), but they are " + format(weights));
    return std::nullopt;
  }
  int64_t outChannels = weights.shape[0], kernel = weights.shape[2];
  std::optional<int64_t> stride = getIntegerLiteral(strideExpr);
  if (!stride || *stride < 1 || types.back().shape.size() != 0) {
    error(strideExpr.getLoc(), "the stride of 'conv1d' must be a positive "
                               "whole number, written as a literal");
    return std::nullopt;
  }
  if (kernel > length) {
    error(expr.getLoc(), "the kernel of 'conv1d' (" +
                             llvm::Twine(kernel).str() +
                             ") is longer than the features (" +
                             llvm::Twine(length).str() + ")");
    return std::nullopt;
  }
  std::optional<Elem> elem = commonElem(input.elem, weights.elem);
  if (hasBias) {
    const Type &bias = types[2];
    if (!bias.isGlobal() || bias.shape != std::vector<int64_t>{outChannels}) {
      error(args[2]->getLoc(), "the bias of 'conv1d' must be a global [" +
                                   llvm::Twine(outChannels).str() +
                                   "], but it is " + format(bias));
      return std::nullopt;
    }
    if (elem)
      elem = commonElem(*elem, bias.elem);
  }
  if (!elem) {
    error(expr.getLoc(), "the operands of 'conv1d' mix f32 and f64");
    return std::nullopt;
  }
  return Type{input.kind, *elem,
              {outChannels, (length - kernel) / *stride + 1}};
}
