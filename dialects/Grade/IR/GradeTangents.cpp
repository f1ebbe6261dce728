//===- GradeTangents.cpp - forward-mode rules of the grade ops ------------===//
//
// TangentOpInterface for every differentiable op: the tangent of the result
// as grade ops on the operands, the result and the operands' tangents. A
// null tangent is zero and prunes the arithmetic it would enter; the
// rules never divide by a value that the primal computation did not divide
// by (log, sqrt and div reuse their own denominators).
//
//===----------------------------------------------------------------------===//

#include "dialects/Grade/IR/GradeOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace grade;

namespace {

/// Builds tangent arithmetic at one location; null operands are zeros.
class TangentBuilder {
public:
  TangentBuilder(OpBuilder &builder, Location loc)
      : builder(builder), loc(loc) {}

  /// A scalar constant of `value`'s element type.
  Value constant(Value like, double value) {
    Type element = getElementTypeOf(like.getType());
    return arith::ConstantOp::create(builder, loc, element,
                                     builder.getFloatAttr(element, value));
  }
  Value unary(UnaryFn fn, Value x) {
    return UnaryOp::create(builder, loc, fn, x);
  }
  Value binary(BinaryFn fn, Value a, Value b) {
    return BinaryOp::create(builder, loc, fn, a, b);
  }
  Value add(Value a, Value b) {
    if (!a)
      return b;
    if (!b)
      return a;
    return binary(BinaryFn::add, a, b);
  }
  Value sub(Value a, Value b) {
    if (!b)
      return a;
    if (!a)
      return unary(UnaryFn::neg, b);
    return binary(BinaryFn::sub, a, b);
  }
  /// factor * tangent (zero if the tangent is).
  Value scale(Value factor, Value tangent) {
    if (!tangent)
      return {};
    return binary(BinaryFn::mul, factor, tangent);
  }
  /// 1 where x > 0, 0 where x < 0, 1/2 at 0: (sign(x) + 1) / 2.
  Value step(Value x) {
    return binary(BinaryFn::mul, constant(x, 0.5),
                  binary(BinaryFn::add, unary(UnaryFn::sign, x),
                         constant(x, 1.0)));
  }

  OpBuilder &builder;
  Location loc;
};

} // namespace

FailureOr<Value> GatherOp::emitTangent(OpBuilder &builder,
                                       ArrayRef<Value> tangents) {
  if (!tangents[1])
    return Value();
  return GatherOp::create(builder, getLoc(), getEnd(), getGraph(), tangents[1])
      .getResult();
}

FailureOr<Value> ReduceOp::emitTangent(OpBuilder &builder,
                                       ArrayRef<Value> tangents) {
  if (getKind() == ReduceKind::max)
    return emitOpError("cannot be differentiated: the derivative of a 'max' "
                       "over edges is not implemented (sum and mean are)");
  if (!tangents[1])
    return Value();
  return ReduceOp::create(builder, getLoc(), getKind(), getGraph(),
                          tangents[1], getOut())
      .getResult();
}

FailureOr<Value> ReduceAllOp::emitTangent(OpBuilder &builder,
                                          ArrayRef<Value> tangents) {
  if (getKind() != ReduceAllKind::sum && getKind() != ReduceAllKind::mean)
    return emitOpError("cannot be differentiated: the derivative of a global ")
           << stringifyReduceAllKind(getKind())
           << " is not implemented (sum and mean are)";
  if (!tangents[0])
    return Value();
  return ReduceAllOp::create(builder, getLoc(), getKind(), tangents[0])
      .getResult();
}

FailureOr<Value> SoftmaxOp::emitTangent(OpBuilder &builder,
                                        ArrayRef<Value> tangents) {
  // a = softmax(s): da = a (ds - sum over the in-edges of dst of a ds).
  if (!tangents[1])
    return Value();
  TangentBuilder t(builder, getLoc());
  Value a = getResult();
  Value weighted = t.binary(BinaryFn::mul, a, tangents[1]);
  Value sum = ReduceOp::create(builder, getLoc(), ReduceKind::sum, getGraph(),
                               weighted);
  Value spread =
      GatherOp::create(builder, getLoc(), GatherEnd::dst, getGraph(), sum);
  return t.binary(BinaryFn::mul, a,
                  t.binary(BinaryFn::sub, tangents[1], spread));
}

FailureOr<Value> NonEmptyOp::emitTangent(OpBuilder &builder,
                                         ArrayRef<Value> tangents) {
  if (!tangents[1])
    return Value();
  return NonEmptyOp::create(builder, getLoc(), getType(), getGraph(),
                            tangents[1])
      .getResult();
}

FailureOr<Value> DegreeOp::emitTangent(OpBuilder &, ArrayRef<Value>) {
  return Value(); // the graph is constant
}

FailureOr<Value> WeightOp::emitTangent(OpBuilder &, ArrayRef<Value>) {
  return Value();
}

FailureOr<Value> GraphSizeOp::emitTangent(OpBuilder &, ArrayRef<Value>) {
  return Value(); // the graph is constant
}

FailureOr<Value> UnaryOp::emitTangent(OpBuilder &builder,
                                      ArrayRef<Value> tangents) {
  Value dx = tangents[0];
  if (!dx)
    return Value();
  TangentBuilder t(builder, getLoc());
  Value x = getInput(), y = getResult();
  auto one = [&] { return t.constant(x, 1.0); };
  switch (getFn()) {
  case UnaryFn::neg:
    return t.unary(UnaryFn::neg, dx);
  case UnaryFn::exp:
    return t.scale(y, dx);
  case UnaryFn::log:
    return t.binary(BinaryFn::div, dx, x);
  case UnaryFn::sqrt:
    return t.binary(BinaryFn::div, dx,
                    t.binary(BinaryFn::mul, t.constant(x, 2.0), y));
  case UnaryFn::tanh:
    return t.scale(t.binary(BinaryFn::sub, one(),
                            t.binary(BinaryFn::mul, y, y)),
                   dx);
  case UnaryFn::relu:
    return t.scale(t.step(x), dx);
  case UnaryFn::sigmoid:
    return t.scale(
        t.binary(BinaryFn::mul, y, t.binary(BinaryFn::sub, one(), y)), dx);
  case UnaryFn::abs:
    return t.scale(t.unary(UnaryFn::sign, x), dx);
  case UnaryFn::sin:
    return t.scale(t.unary(UnaryFn::cos, x), dx);
  case UnaryFn::cos:
    return t.unary(UnaryFn::neg, t.scale(t.unary(UnaryFn::sin, x), dx));
  case UnaryFn::tan:
    return t.scale(t.binary(BinaryFn::add, one(),
                            t.binary(BinaryFn::mul, y, y)),
                   dx);
  case UnaryFn::asin:
  case UnaryFn::acos: {
    Value root = t.unary(UnaryFn::sqrt,
                         t.binary(BinaryFn::sub, one(),
                                  t.binary(BinaryFn::mul, x, x)));
    Value d = t.binary(BinaryFn::div, dx, root);
    return getFn() == UnaryFn::asin ? d : t.unary(UnaryFn::neg, d);
  }
  case UnaryFn::atan:
    return t.binary(BinaryFn::div, dx,
                    t.binary(BinaryFn::add, one(),
                             t.binary(BinaryFn::mul, x, x)));
  case UnaryFn::sinh:
    return t.scale(t.unary(UnaryFn::cosh, x), dx);
  case UnaryFn::cosh:
    return t.scale(t.unary(UnaryFn::sinh, x), dx);
  case UnaryFn::floor:
  case UnaryFn::ceil:
  case UnaryFn::round:
  case UnaryFn::sign:
    return Value(); // piecewise constant
  }
  llvm_unreachable("unknown unary function");
}

FailureOr<Value> BinaryOp::emitTangent(OpBuilder &builder,
                                       ArrayRef<Value> tangents) {
  Value da = tangents[0], db = tangents[1];
  if (!da && !db)
    return Value();
  TangentBuilder t(builder, getLoc());
  Value a = getLhs(), b = getRhs(), y = getResult();
  switch (getFn()) {
  case BinaryFn::add:
    return t.add(da, db);
  case BinaryFn::sub:
    return t.sub(da, db);
  case BinaryFn::mul:
    return t.add(t.scale(b, da), t.scale(a, db));
  case BinaryFn::div:
    // (da - y db) / b
    return t.binary(BinaryFn::div, t.sub(da, t.scale(y, db)), b);
  case BinaryFn::min:
  case BinaryFn::max: {
    // The tangent of the operand that wins (half each on a tie).
    Value s = t.step(t.binary(BinaryFn::sub, a, b));
    Value rest = t.binary(BinaryFn::sub, t.constant(a, 1.0), s);
    if (getFn() == BinaryFn::min)
      std::swap(s, rest);
    return t.add(t.scale(s, da), t.scale(rest, db));
  }
  case BinaryFn::pow: {
    // b a^(b-1) da + a^b log(a) db
    Value result;
    if (da) {
      Value lowered = t.binary(
          BinaryFn::pow, a, t.binary(BinaryFn::sub, b, t.constant(b, 1.0)));
      result = t.scale(t.binary(BinaryFn::mul, b, lowered), da);
    }
    if (db)
      result = t.add(result, t.scale(t.binary(BinaryFn::mul, y,
                                              t.unary(UnaryFn::log, a)),
                                     db));
    return result;
  }
  case BinaryFn::lt:
  case BinaryFn::le:
  case BinaryFn::gt:
  case BinaryFn::ge:
  case BinaryFn::eq:
  case BinaryFn::ne:
    return Value(); // piecewise constant
  case BinaryFn::atan2: {
    // atan2(a, b): (b da - a db) / (a^2 + b^2)
    Value norm = t.binary(BinaryFn::add, t.binary(BinaryFn::mul, a, a),
                          t.binary(BinaryFn::mul, b, b));
    return t.binary(BinaryFn::div, t.sub(t.scale(b, da), t.scale(a, db)),
                    norm);
  }
  }
  llvm_unreachable("unknown binary function");
}

FailureOr<Value> SelectOp::emitTangent(OpBuilder &builder,
                                       ArrayRef<Value> tangents) {
  // The tangent of the value chosen; the condition's does not matter (a
  // choice is piecewise constant in it).
  Value dt = tangents[1], df = tangents[2];
  if (!dt && !df)
    return Value();
  TangentBuilder t(builder, getLoc());
  auto orZero = [&](Value tangent, Value like) {
    return tangent ? tangent
                   : t.binary(BinaryFn::mul, t.constant(like, 0), like);
  };
  return SelectOp::create(builder, getLoc(), getCondition(),
                          orZero(dt, getTrueValue()),
                          orZero(df, getFalseValue()))
      .getResult();
}

FailureOr<Value> ConcatOp::emitTangent(OpBuilder &builder,
                                       ArrayRef<Value> tangents) {
  // Linear: the concatenation of the tangents, an operand without one
  // contributing zeros of its shape (0 * the operand).
  TangentBuilder t(builder, getLoc());
  SmallVector<Value> parts;
  for (auto [input, tangent] : llvm::zip(getInputs(), tangents))
    parts.push_back(tangent ? tangent
                            : t.binary(BinaryFn::mul, t.constant(input, 0),
                                       input));
  return ConcatOp::create(builder, getLoc(), parts).getResult();
}

FailureOr<Value> SymPowOp::emitTangent(OpBuilder &builder,
                                       ArrayRef<Value> tangents) {
  if (!tangents[0])
    return Value();
  return emitOpError("cannot be differentiated: the derivative of a matrix "
                     "power (sym_pow) is not implemented; step the model with an "
                     "explicit scheme");
}

FailureOr<Value> ReindexOp::emitTangent(OpBuilder &builder,
                                        ArrayRef<Value> tangents) {
  // Linear in the input; the indices select, piecewise constant.
  if (!tangents[0])
    return Value();
  return ReindexOp::create(builder, getLoc(), getType(), tangents[0],
                           getIndices(), getMap())
      .getResult();
}

FailureOr<Value> ContractOp::emitTangent(OpBuilder &builder,
                                         ArrayRef<Value> tangents) {
  // Multilinear: the sum over operands of the contraction with that operand
  // replaced by its tangent.
  if (getKind() != ContractKind::sum)
    return emitOpError("cannot be differentiated: the derivative of a ")
           << stringifyContractKind(getKind())
           << " over features is not implemented (sums are)";
  TangentBuilder t(builder, getLoc());
  Value result;
  for (auto [index, tangent] : llvm::enumerate(tangents)) {
    if (!tangent)
      continue;
    SmallVector<Value> operands(getInputs().begin(), getInputs().end());
    operands[index] = tangent;
    result = t.add(result, ContractOp::create(builder, getLoc(), getSpec(),
                                              operands)
                               .getResult());
  }
  return result;
}
