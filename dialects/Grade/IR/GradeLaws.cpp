//===- GradeLaws.cpp - how values transform under symmetry groups -------===//
//
// The rules of GradeLaws.h. Each checks what the op needs of its operands'
// laws, group by group, and combines them; see the header for the
// meaning of a law.
//
//===----------------------------------------------------------------------===//

#include "dialects/Grade/IR/GradeLaws.h"

#include "llvm/ADT/StringExtras.h"

#include <cmath>
#include <vector>

using namespace grade;
using mlir::failure;
using mlir::LogicalResult;
using llvm::ArrayRef;
using mlir::FailureOr;

static bool near(double a, double b) { return std::abs(a - b) <= 1e-9; }

/// "-1", "0.5".
static std::string number(double value) {
  if (value == std::round(value) && std::abs(value) < 1e15)
    return std::to_string(int64_t(value));
  std::string text = std::to_string(value);
  while (text.back() == '0')
    text.pop_back();
  return text;
}

std::string Symmetry::nameOf(uint32_t group) const {
  switch (group) {
  case kRotations:
  case kReflections:
    return rotationName;
  case kTranslations:
    return translationName;
  case kScalings:
    return scalingName;
  case kBoosts:
    return boostName;
  case kTimeShifts:
    return timeName;
  default:
    return "permutation";
  }
}

bool Law::sameAs(const Law &other) const {
  return rep == other.rep && near(translate, other.translate) &&
         near(boost, other.boost) && near(weight, other.weight) &&
         near(time, other.time);
}

std::string grade::describe(const Law &law) {
  std::string text;
  if (law.time != 0)
    return "a value that moves with time shifts (it reads 't')";
  bool position = near(law.translate, 1) && law.boost == 0;
  bool velocity = law.translate == 0 && near(law.boost, 1);
  // "moves by 2 translations", "moves by -1 boosts".
  std::vector<std::string> moves;
  if (law.translate != 0)
    moves.push_back(number(law.translate) + " translations");
  if (law.boost != 0)
    moves.push_back(number(law.boost) + " boosts");
  std::string movesBy = "moves by " + llvm::join(moves, " and ");
  switch (law.rep) {
  case Rep::Scalar:
    text = position   ? "a position"
           : velocity ? "a velocity"
           : law.isAffine()  ? "a value that " + movesBy
           : law.weight == 0 ? "an invariant"
                             : "a scalar";
    break;
  case Rep::Vector:
    text = position   ? "a position"
           : velocity ? "a velocity"
           : law.isAffine() ? "a vector that " + movesBy
                            : "a vector";
    break;
  case Rep::Tensor:
    text = law.isAffine() ? "a rank-2 tensor that moves with translations"
                          : "a rank-2 tensor";
    break;
  }
  if (law.weight != 0)
    text += " of weight " + number(law.weight);
  return text;
}

Law grade::derivative(const Law &law, const Symmetry &symmetry) {
  Law result;
  result.rep = law.rep;
  result.boost = symmetry.has(kBoosts) ? law.translate : 0;
  result.weight =
      law.weight - (symmetry.has(kScalings) ? symmetry.timeWeight : 0);
  return result;
}

//===----------------------------------------------------------------------===//
// Shared checks
//===----------------------------------------------------------------------===//

static LogicalResult fail(LawError *error, uint32_t group,
                          const std::string &message) {
  if (error)
    *error = {group, message};
  return failure();
}

/// The group an affine law moves with, for messages.
static uint32_t affineGroup(const Law &law) {
  return law.translate != 0 ? kTranslations
         : law.boost != 0   ? kBoosts
                            : kTimeShifts;
}

static std::string affineReason(const Law &law) {
  if (law.time != 0)
    return "it reads the time 't'";
  return "it is " + describe(law) + ", which moves with " +
         (law.translate != 0 ? "translations" : "boosts");
}

/// `what` needs a scalar operand that no translation, boost or time shift
/// moves.
static LogicalResult needScalar(const Law &law, const std::string &what,
                                LawError *error) {
  if (law.rep != Rep::Scalar)
    return fail(error, kRotations,
                what + " acts on each component of " + describe(law) +
                    "; give it invariants (lengths, dot products)");
  if (law.isAffine())
    return fail(error, affineGroup(law),
                what + " of a value that is not invariant: " +
                    affineReason(law) + "; use differences of positions");
  return mlir::success();
}

/// `what` needs an invariant: a scalar of weight 0 that nothing moves.
static LogicalResult needInvariant(const Law &law, const std::string &what,
                                   LawError *error) {
  if (failed(needScalar(law, what, error)))
    return failure();
  if (law.weight != 0)
    return fail(error, kScalings,
                what + " of " + describe(law) +
                    ", which scaling changes; its argument must have weight "
                    "0");
  return mlir::success();
}

/// A law with the flags and the constant dropped.
static Law plain(const Law &law) {
  Law result;
  result.rep = law.rep;
  result.translate = law.translate;
  result.boost = law.boost;
  result.weight = law.weight;
  result.time = law.time;
  return result;
}

static Law scaleAffine(Law law, double by) {
  law.translate *= by;
  law.boost *= by;
  law.time *= by;
  return law;
}

//===----------------------------------------------------------------------===//
// Rules
//===----------------------------------------------------------------------===//

FailureOr<Law> grade::lawOfUnary(UnaryFn fn, const Law &operand,
                                 LawError *error) {
  std::string what = "'" + stringifyUnaryFn(fn).str() + "'";
  std::optional<double> c = operand.constant;
  Law result;
  switch (fn) {
  case UnaryFn::neg:
    result = scaleAffine(plain(operand), -1);
    if (c)
      result.constant = -*c;
    return result;
  case UnaryFn::abs:
  case UnaryFn::relu:
    // Positively homogeneous: |s^k x| = s^k |x|.
    if (failed(needScalar(operand, what, error)))
      return failure();
    result.weight = operand.weight;
    if (c)
      result.constant = fn == UnaryFn::abs ? std::abs(*c) : std::max(*c, 0.0);
    return result;
  case UnaryFn::sqrt:
    if (failed(needScalar(operand, what, error)))
      return failure();
    result.weight = operand.weight / 2;
    if (c)
      result.constant = std::sqrt(*c);
    return result;
  case UnaryFn::sign:
    if (failed(needScalar(operand, what, error)))
      return failure();
    return result;
  default:
    if (failed(needInvariant(operand, what, error)))
      return failure();
    if (c && fn == UnaryFn::exp)
      result.constant = std::exp(*c);
    if (c && fn == UnaryFn::log)
      result.constant = std::log(*c);
    return result;
  }
}

/// The law of a sum or difference.
static FailureOr<Law> lawOfSum(const Law &lhs, const Law &rhs, bool subtract,
                               LawError *error) {
  if (rhs.isZero())
    return plain(lhs);
  if (lhs.isZero())
    return subtract ? scaleAffine(plain(rhs), -1) : plain(rhs);
  std::string what = subtract ? "a difference" : "a sum";
  if (lhs.rep != rhs.rep)
    return fail(error, kRotations,
                what + " of " + describe(lhs) + " and " + describe(rhs) +
                    " (a scalar added to a vector moves every component "
                    "alike)");
  if (!near(lhs.weight, rhs.weight))
    return fail(error, kScalings,
                what + " of terms of weights " + number(lhs.weight) + " and " +
                    number(rhs.weight) + ", which scaling changes unequally");
  Law result = plain(lhs);
  double sign = subtract ? -1 : 1;
  result.translate += sign * rhs.translate;
  result.boost += sign * rhs.boost;
  result.time += sign * rhs.time;
  if (lhs.constant && rhs.constant)
    result.constant = *lhs.constant + sign * *rhs.constant;
  return result;
}

static FailureOr<Law> lawOfProduct(const Law &lhs, const Law &rhs,
                                   bool divide, LawError *error) {
  std::string what = divide ? "a quotient" : "a product";
  if (divide && rhs.rep != Rep::Scalar)
    return fail(error, kRotations, "a division by " + describe(rhs));
  if (!divide && lhs.rep != Rep::Scalar && rhs.rep != Rep::Scalar)
    return fail(error, kRotations,
                "a componentwise product of " + describe(lhs) + " and " +
                    describe(rhs) + "; use a dot product");
  if (divide && rhs.isAffine())
    return fail(error, affineGroup(rhs),
                "a division by a value that is not invariant: " +
                    affineReason(rhs));
  if (lhs.isAffine() && rhs.isAffine())
    return fail(error, affineGroup(lhs),
                what + " of two values that move: " + affineReason(lhs));
  Law result;
  result.rep = lhs.rep != Rep::Scalar ? lhs.rep : rhs.rep;
  result.weight = divide ? lhs.weight - rhs.weight : lhs.weight + rhs.weight;
  if (lhs.constant && rhs.constant)
    result.constant =
        divide ? *lhs.constant / *rhs.constant : *lhs.constant * *rhs.constant;
  const Law &moving = lhs.isAffine() ? lhs : rhs;
  const Law &factor = lhs.isAffine() ? rhs : lhs;
  if (!moving.isAffine()) {
    // Softmax weights times a value: `sum_in` of it is a weighted mean.
    result.weighted = lhs.stochastic || rhs.stochastic;
    return result;
  }
  if (factor.constant) {
    double by = divide ? 1 / *factor.constant : *factor.constant;
    Law scaled = scaleAffine(plain(moving), by);
    result.translate = scaled.translate;
    result.boost = scaled.boost;
    result.time = scaled.time;
    return result;
  }
  if (!divide && factor.stochastic) {
    result.translate = moving.translate;
    result.boost = moving.boost;
    result.time = moving.time;
    result.weighted = true;
    return result;
  }
  return fail(error, affineGroup(moving),
              what + " of " + describe(moving) + " and " + describe(factor) +
                  ": only a number scales a value that moves (" +
                  affineReason(moving) + "); use differences of positions");
}

/// min, max, atan2 and comparisons: scalars of one weight.
static LogicalResult needComparable(const Law &lhs, const Law &rhs,
                                    const std::string &what,
                                    LawError *error) {
  if (failed(needScalar(lhs, what, error)) ||
      failed(needScalar(rhs, what, error)))
    return failure();
  if (!lhs.isZero() && !rhs.isZero() && !near(lhs.weight, rhs.weight))
    return fail(error, kScalings,
                what + " of values of weights " + number(lhs.weight) +
                    " and " + number(rhs.weight) +
                    ", which scaling changes unequally");
  return mlir::success();
}

FailureOr<Law> grade::lawOfBinary(BinaryFn fn, const Law &lhs, const Law &rhs,
                                  LawError *error) {
  std::string what = "'" + stringifyBinaryFn(fn).str() + "'";
  switch (fn) {
  case BinaryFn::add:
  case BinaryFn::sub:
    return lawOfSum(lhs, rhs, fn == BinaryFn::sub, error);
  case BinaryFn::mul:
  case BinaryFn::div:
    return lawOfProduct(lhs, rhs, fn == BinaryFn::div, error);
  case BinaryFn::min:
  case BinaryFn::max: {
    if (failed(needComparable(lhs, rhs, what, error)))
      return failure();
    Law result;
    result.weight = lhs.isZero() ? rhs.weight : lhs.weight;
    return result;
  }
  case BinaryFn::pow: {
    if (failed(needScalar(lhs, what, error)) ||
        failed(needScalar(rhs, what, error)))
      return failure();
    Law result;
    if (rhs.constant) {
      result.weight = lhs.weight * *rhs.constant;
      if (lhs.constant)
        result.constant = std::pow(*lhs.constant, *rhs.constant);
      return result;
    }
    if (failed(needInvariant(lhs, what + " with a variable exponent", error)) ||
        failed(needInvariant(rhs, what + " with a variable exponent", error)))
      return failure();
    return result;
  }
  case BinaryFn::atan2:
  default:
    // atan2 and the comparisons: invariant results of comparable values.
    if (failed(needComparable(lhs, rhs, what, error)))
      return failure();
    return Law();
  }
}

FailureOr<Law> grade::lawOfDot(const Law &lhs, const Law &rhs,
                               LawError *error) {
  if (lhs.rep == Rep::Tensor || rhs.rep == Rep::Tensor ||
      lhs.rep != rhs.rep)
    return fail(error, kRotations,
                "a dot product of " + describe(lhs) + " and " +
                    describe(rhs) +
                    "; dot two vectors, or two invariant feature vectors");
  for (const Law *operand : {&lhs, &rhs})
    if (operand->isAffine())
      return fail(error, affineGroup(*operand),
                  "a dot product of " + describe(*operand) + ": " +
                      affineReason(*operand) +
                      "; take differences of positions first");
  Law result;
  result.weight = lhs.weight + rhs.weight;
  return result;
}

FailureOr<Law> grade::lawOfMatmul(const Law &input, const Law &matrix,
                                  LawError *error) {
  if (input.rep != Rep::Scalar)
    return fail(error, kRotations,
                "'@' mixes the components of " + describe(input) +
                    " with a matrix that rotations do not move");
  for (const Law *operand : {&input, &matrix})
    if (operand->isAffine())
      return fail(error, affineGroup(*operand),
                  "'@' of " + describe(*operand) + ": " +
                      affineReason(*operand));
  if (matrix.rep != Rep::Scalar)
    return fail(error, kRotations, "'@' by " + describe(matrix));
  Law result;
  result.weight = input.weight + matrix.weight;
  return result;
}

FailureOr<Law> grade::lawOfContract(llvm::ArrayRef<Law> operands,
                                    LawError *error, llvm::StringRef what) {
  Law result;
  for (const Law &operand : operands) {
    if (operand.rep != Rep::Scalar)
      return fail(error, kRotations,
                  what.str() + " of " + describe(operand) +
                      "; write dot products and products with invariants "
                      "instead");
    if (operand.isAffine())
      return fail(error, affineGroup(operand),
                  what.str() + " of " + describe(operand) + ": " +
                      affineReason(operand));
    result.weight += operand.weight;
  }
  return result;
}

FailureOr<Law> grade::lawOfConcat(llvm::ArrayRef<Law> operands,
                                  LawError *error) {
  Law result;
  for (auto [i, operand] : llvm::enumerate(operands)) {
    if (failed(needScalar(operand, "'concat'", error)))
      return failure();
    if (i && !near(operand.weight, operands.front().weight))
      return fail(error, kScalings,
                  "'concat' of features of weights " +
                      number(operands.front().weight) + " and " +
                      number(operand.weight) +
                      ", which scaling changes unequally");
    result.weight = operand.weight;
  }
  return result;
}

FailureOr<Law> grade::lawOfSymPow(const Law &input, double exponent,
                                  LawError *error) {
  // An eigendecomposition of the components: a scaling of M by s^w scales
  // M^p by s^(w p); rotations act on the stalk axes, which the model's
  // groups do not describe.
  if (failed(needScalar(input, "'sym_pow'", error)))
    return failure();
  Law result;
  result.weight = input.weight * exponent;
  return result;
}

FailureOr<Law> grade::lawOfReindex(const Law &input,
                                   llvm::ArrayRef<Law> indices,
                                   LawError *error) {
  // Features taken apart and rearranged: only a value that every group
  // leaves alone, or scales as a whole, keeps its law.
  if (failed(needScalar(input, "a rearrangement of features", error)))
    return failure();
  for (const Law &index : indices)
    if (failed(needInvariant(index, "an index", error)))
      return failure();
  return plain(input);
}

FailureOr<Law> grade::lawOfSelect(const Law &condition, const Law &ifTrue,
                                  const Law &ifFalse, LawError *error) {
  if (failed(needScalar(condition, "the condition of 'select'", error)))
    return failure();
  if (ifFalse.isZero())
    return plain(ifTrue);
  if (ifTrue.isZero())
    return plain(ifFalse);
  if (!ifTrue.sameAs(ifFalse))
    return fail(error,
                ifTrue.rep != ifFalse.rep            ? kRotations
                : !near(ifTrue.weight, ifFalse.weight) ? kScalings
                                                       : affineGroup(ifTrue.isAffine() ? ifTrue : ifFalse),
                "'select' between " + describe(ifTrue) + " and " +
                    describe(ifFalse));
  return plain(ifTrue);
}

FailureOr<Law> grade::lawOfReduce(ReduceKind kind, bool inEdges,
                                  const Law &operand, LawError *error) {
  std::string what = "'" + stringifyReduceKind(kind).str() +
                     (inEdges ? "_in'" : "_out'");
  switch (kind) {
  case ReduceKind::max:
    if (operand.rep != Rep::Scalar)
      return fail(error, kRotations,
                  what + " takes the largest of each component of " +
                      describe(operand) + "; reduce invariants");
    return plain(operand);
  case ReduceKind::mean:
    return plain(operand);
  case ReduceKind::sum:
    if (operand.isAffine() && !(inEdges && operand.weighted))
      return fail(error, affineGroup(operand),
                  what + " of " + describe(operand) +
                      " moves by the number of edges times a translation; "
                      "use 'mean_" +
                      (inEdges ? "in" : "out") +
                      "', weights from 'softmax_in', or differences of "
                      "positions");
    return plain(operand);
  }
  return plain(operand);
}

FailureOr<Law> grade::lawOfReduceAll(ReduceAllKind kind, const Law &operand,
                                     LawError *error) {
  std::string what = "'" + stringifyReduceAllKind(kind).str() + "_all'";
  switch (kind) {
  case ReduceAllKind::max:
  case ReduceAllKind::min:
    if (operand.rep != Rep::Scalar)
      return fail(error, kRotations,
                  what + " of each component of " + describe(operand) +
                      "; reduce invariants");
    return plain(operand);
  case ReduceAllKind::mean:
    return plain(operand);
  case ReduceAllKind::sum:
    if (operand.isAffine())
      return fail(error, affineGroup(operand),
                  what + " of " + describe(operand) +
                      " moves by the number of nodes times a translation; "
                      "use 'mean_all' or differences of positions");
    return plain(operand);
  }
  return plain(operand);
}

FailureOr<Law> grade::lawOfSoftmax(const Law &operand, LawError *error) {
  if (failed(needInvariant(operand, "'softmax_in'", error)))
    return failure();
  Law result;
  result.stochastic = true;
  return result;
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

LawAttr grade::getLawAttr(mlir::MLIRContext *context, const Law &law) {
  Rep rep = law.rep;
  if (rep == Rep::Scalar && (law.translate != 0 || law.boost != 0))
    rep = Rep::Vector;
  double coefficients[] = {law.translate, law.boost, law.weight};
  return LawAttr::get(context, int32_t(rep),
                      mlir::DenseF64ArrayAttr::get(context, coefficients));
}

Law grade::getLaw(LawAttr attr) {
  Law law;
  law.rep = Rep(attr.getRep());
  law.translate = attr.getTranslate();
  law.boost = attr.getBoost();
  law.weight = attr.getWeight();
  return law;
}

SymmetryAttr grade::getSymmetryAttr(mlir::MLIRContext *context,
                                    const Symmetry &symmetry) {
  return SymmetryAttr::get(
      context, symmetry.spelling, symmetry.groups, symmetry.dim,
      mlir::FloatAttr::get(mlir::Float64Type::get(context),
                           symmetry.timeWeight));
}

//===----------------------------------------------------------------------===//
// LawOpInterface
//===----------------------------------------------------------------------===//

FailureOr<Law> GatherOp::inferLaw(ArrayRef<Law> operands, LawError *) {
  return plain(operands[1]);
}

FailureOr<Law> ReduceOp::inferLaw(ArrayRef<Law> operands, LawError *error) {
  return lawOfReduce(getKind(), !getOut(), operands[1], error);
}

FailureOr<Law> ReduceAllOp::inferLaw(ArrayRef<Law> operands,
                                     LawError *error) {
  return lawOfReduceAll(getKind(), operands[0], error);
}

FailureOr<Law> SoftmaxOp::inferLaw(ArrayRef<Law> operands, LawError *error) {
  return lawOfSoftmax(operands[1], error);
}

FailureOr<Law> NonEmptyOp::inferLaw(ArrayRef<Law> operands, LawError *) {
  // Zero where a node has no in-edges: zero has every law.
  return plain(operands[1]);
}

FailureOr<Law> DegreeOp::inferLaw(ArrayRef<Law>, LawError *) {
  return Law();
}

FailureOr<Law> GraphSizeOp::inferLaw(ArrayRef<Law>, LawError *) {
  return Law();
}

FailureOr<Law> WeightOp::inferLaw(ArrayRef<Law>, LawError *) {
  return Law();
}

FailureOr<Law> UnaryOp::inferLaw(ArrayRef<Law> operands, LawError *error) {
  return lawOfUnary(getFn(), operands[0], error);
}

FailureOr<Law> BinaryOp::inferLaw(ArrayRef<Law> operands, LawError *error) {
  return lawOfBinary(getFn(), operands[0], operands[1], error);
}

FailureOr<Law> ConcatOp::inferLaw(ArrayRef<Law> operands, LawError *error) {
  return lawOfConcat(operands, error);
}

FailureOr<Law> SymPowOp::inferLaw(ArrayRef<Law> operands, LawError *error) {
  return lawOfSymPow(operands[0], getExponent().convertToDouble(), error);
}

FailureOr<Law> ReindexOp::inferLaw(ArrayRef<Law> operands, LawError *error) {
  return lawOfReindex(operands[0], operands.drop_front(), error);
}

FailureOr<Law> SelectOp::inferLaw(ArrayRef<Law> operands, LawError *error) {
  return lawOfSelect(operands[0], operands[1], operands[2], error);
}

FailureOr<Law> ContractOp::inferLaw(ArrayRef<Law> operands, LawError *error) {
  // The language's `a . b` and `x @ W` are these contractions.
  if (getKind() == ContractKind::sum && getSpec() == "i,i->")
    return lawOfDot(operands[0], operands[1], error);
  if (getKind() == ContractKind::sum && getSpec() == "i,ij->j")
    return lawOfMatmul(operands[0], operands[1], error);
  return lawOfContract(operands, error,
                       getKind() == ContractKind::sum
                           ? "'einsum'"
                           : "a " + stringifyContractKind(getKind()).str() +
                                 " over features");
}
