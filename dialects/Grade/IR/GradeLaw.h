//===- GradeLaw.h - transformation laws under symmetry groups --*- C++ -*-===//
//
// The values of the law system (GradeLaws.h has the rules): a model's
// symmetry groups, and the law of a value, which says how it changes under
// an element (Q, a, v, s, tau) of them:
//
//   f  ->  s^weight (Q.f + translate (a + v t) + boost v),   t -> t + tau
//
// with Q.f = f (a scalar), Q f (a vector: the last feature axis) or
// Q f Q^T (a rank-2 tensor: the last two). A position has translate 1, a
// velocity boost 1. `t` itself carries a time coefficient: it moves by
// tau. Free of the dialect's ops, so that the ops' LawOpInterface can
// speak of laws.
//
//===----------------------------------------------------------------------===//

#ifndef GRADE_DIALECTS_GRADE_IR_GRADELAW_H
#define GRADE_DIALECTS_GRADE_IR_GRADELAW_H

#include <cstdint>
#include <optional>
#include <string>

namespace grade {

/// The groups of a `symmetry` clause, as the ABI's grade_group_t flags.
enum GroupFlag : uint32_t {
  kPermutations = 1,
  kTranslations = 2,
  kRotations = 4,
  kReflections = 8,
  kScalings = 16,
  kBoosts = 32,
  kTimeShifts = 64,
};

/// A model's declared groups.
struct Symmetry {
  uint32_t groups = kPermutations;
  /// n of T(n), SO(n), O(n), E(n) and boosts (0 when none is declared).
  int64_t dim = 0;
  /// Scalings: t -> s^timeWeight t.
  double timeWeight = 0;
  /// The spelling of each group kind as declared ("E(3)" for rotations,
  /// reflections and translations of `E(3)`), for messages.
  std::string rotationName, translationName, scalingName = "scaling",
                                             boostName = "galilean",
                                             timeName = "time";
  /// The clause's groups as written, "E(3), scaling".
  std::string spelling = "permutation";

  bool has(uint32_t flags) const { return (groups & flags) != 0; }
  /// Only node permutations.
  bool isTrivial() const { return groups == kPermutations; }
  /// The name, as declared, of the group a broken rule breaks.
  std::string nameOf(uint32_t group) const;
};

/// How rotations act on a value (the ABI's grade_rep_t).
enum class Rep : int32_t { Scalar = 0, Vector = 1, Tensor = 2 };

/// The transformation law of a value.
struct Law {
  Rep rep = Rep::Scalar;
  double translate = 0, boost = 0, weight = 0;
  /// Moves by this multiple of a time shift (`t` has 1).
  double time = 0;
  /// A numeric literal's value: a product with it scales a position's
  /// translation, which a product with any other invariant breaks.
  std::optional<double> constant;
  /// An edge field whose values sum to 1 over each node's in-edges (a
  /// softmax over in-edges), or a product of such weights with a value:
  /// `sum_in` of the product is then a weighted mean and keeps the
  /// value's translation.
  bool stochastic = false, weighted = false;

  static Law invariant() { return Law(); }
  static Law number(double value) {
    Law law;
    law.constant = value;
    return law;
  }
  bool isAffine() const { return translate != 0 || boost != 0 || time != 0; }
  bool isZero() const { return constant && *constant == 0; }
  /// Transforms as `other` does (the flags aside).
  bool sameAs(const Law &other) const;
};

/// Renders a law for messages: "an invariant", "a position", "a vector of
/// weight -1", "a value that moves with time shifts".
std::string describe(const Law &law);

/// The law of d/dt of a value of law `law`: translations a + v t give
/// boosts, time shifts and constants vanish, the weight drops by the
/// time's.
Law derivative(const Law &law, const Symmetry &symmetry);

/// Why operand laws give no result law.
struct LawError {
  /// The group broken (a GroupFlag).
  uint32_t group = kRotations;
  /// Why, e.g. "'relu' acts on each component of a vector".
  std::string message;
};

} // namespace grade

#endif // GRADE_DIALECTS_GRADE_IR_GRADELAW_H
