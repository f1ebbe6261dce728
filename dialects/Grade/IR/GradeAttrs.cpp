//===- GradeAttrs.cpp - attributes of the grade dialect -------------------===//
//
// Butcher tableaux: the built-in schemes, the structural checks and the order
// conditions. The order conditions are those of Butcher's theory: for every
// rooted tree t with |t| <= p nodes, sum_i b_i Phi_i(t) = 1 / gamma(t), where
// Phi(t) = prod over the root's subtrees t_k of (A Phi(t_k)) (elementwise),
// Phi(leaf) = 1, and gamma(t) = |t| prod_k gamma(t_k).
//
//===----------------------------------------------------------------------===//

#include "dialects/Grade/IR/GradeOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

using namespace mlir;
using namespace grade;

#define GET_ATTRDEF_CLASSES
#include "dialects/Grade/IR/GradeOpsAttributes.cpp.inc"

void GradeDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/Grade/IR/GradeOpsAttributes.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Order conditions
//===----------------------------------------------------------------------===//

namespace {

/// A rooted tree: its subtrees (indices into the list of all trees, in
/// non-increasing order so that every tree is listed once), its number of
/// nodes and its density gamma.
struct RootedTree {
  SmallVector<unsigned> children;
  int64_t order;
  double gamma;
};

/// All rooted trees with at most kMaxCheckedTableauOrder nodes, by order
/// (1, 1, 2, 4, 9, 20 trees of orders 1..6).
const std::vector<RootedTree> &getRootedTrees() {
  static const std::vector<RootedTree> trees = [] {
    std::vector<RootedTree> all;
    SmallVector<unsigned> current;
    // Appends every multiset of existing trees (non-increasing indices below
    // `limit`) whose orders add up to `remaining`, as the subtrees of a root.
    std::function<void(int64_t, unsigned, int64_t)> generate =
        [&](int64_t remaining, unsigned limit, int64_t order) {
          if (remaining == 0) {
            double gamma = double(order);
            for (unsigned child : current)
              gamma *= all[child].gamma;
            all.push_back({current, order, gamma});
            return;
          }
          for (unsigned id = limit; id-- > 0;) {
            if (all[id].order > remaining)
              continue;
            current.push_back(id);
            generate(remaining - all[id].order, id + 1, order);
            current.pop_back();
          }
        };
    for (int64_t order = 1; order <= kMaxCheckedTableauOrder; ++order)
      generate(order - 1, unsigned(all.size()), order);
    return all;
  }();
  return trees;
}

/// Relative comparison with a slack for decimal or fractional input.
bool nearlyEqual(double x, double y) {
  return std::fabs(x - y) <= 1e-12 * std::max(1.0, std::fabs(y));
}

/// Shortest exact form, always a float literal ("0.0", "0.5", "1e-05").
std::string formatValue(double value) {
  char buffer[40];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value)
      break;
  }
  std::string text = buffer;
  if (text.find_first_of(".eEn") == std::string::npos)
    text += ".0";
  return text;
}

/// For every tree, sum_i b_i Phi_i(t) - 1/gamma(t); trees are visited in
/// order of their size, so the first failing one gives the attained order.
template <typename Fn>
void forEachOrderCondition(ArrayRef<double> a, ArrayRef<double> b,
                           int64_t maxOrder, Fn &&fn) {
  size_t s = b.size();
  const std::vector<RootedTree> &trees = getRootedTrees();
  std::vector<std::vector<double>> phi;
  for (const RootedTree &tree : trees) {
    if (tree.order > maxOrder)
      break;
    std::vector<double> value(s, 1.0);
    for (unsigned child : tree.children)
      for (size_t i = 0; i < s; ++i) {
        double sum = 0;
        for (size_t j = 0; j < s; ++j)
          sum += a[i * s + j] * phi[child][j];
        value[i] *= sum;
      }
    double weight = 0;
    for (size_t i = 0; i < s; ++i)
      weight += b[i] * value[i];
    phi.push_back(std::move(value));
    if (!fn(tree, weight))
      return;
  }
}

} // namespace

int64_t grade::computeTableauOrder(ArrayRef<double> a, ArrayRef<double> b) {
  if (b.empty() || a.size() != b.size() * b.size())
    return 0;
  int64_t order = kMaxCheckedTableauOrder;
  forEachOrderCondition(a, b, kMaxCheckedTableauOrder,
                        [&](const RootedTree &tree, double weight) {
                          if (nearlyEqual(weight, 1.0 / tree.gamma))
                            return true;
                          order = tree.order - 1;
                          return false;
                        });
  return order;
}

std::optional<TableauDefect> grade::findTableauDefect(ArrayRef<double> a,
                                                      ArrayRef<double> b,
                                                      ArrayRef<double> c,
                                                      int64_t order,
                                                      bool allowDiagonal) {
  using Part = TableauDefect::Part;
  size_t s = b.size();
  if (s == 0)
    return TableauDefect{Part::Shape, -1, -1, "a tableau needs at least one "
                                              "stage"};
  if (a.size() != s * s)
    return TableauDefect{Part::Shape, -1, -1,
                         "'a' must have " + std::to_string(s * s) +
                             " entries (" + std::to_string(s) + " x " +
                             std::to_string(s) + "), got " +
                             std::to_string(a.size())};
  if (c.size() != s)
    return TableauDefect{Part::Shape, -1, -1,
                         "'c' must have " + std::to_string(s) +
                             " entries (one per stage), got " +
                             std::to_string(c.size())};
  for (size_t i = 0; i < s * s; ++i)
    if (!std::isfinite(a[i]))
      return TableauDefect{Part::A, int(i / s), int(i % s),
                           "a coefficient must be finite"};
  for (size_t i = 0; i < s; ++i) {
    if (!std::isfinite(b[i]))
      return TableauDefect{Part::B, int(i), -1, "a weight must be finite"};
    if (!std::isfinite(c[i]))
      return TableauDefect{Part::C, int(i), -1, "a node must be finite"};
  }
  for (size_t i = 0; i < s; ++i)
    for (size_t j = allowDiagonal ? i + 1 : i; j < s; ++j)
      if (a[i * s + j] != 0)
        return TableauDefect{
            Part::A, int(i), int(j),
            "a[" + std::to_string(i + 1) + "][" + std::to_string(j + 1) +
                "] = " + formatValue(a[i * s + j]) +
                (allowDiagonal
                     ? " is above the diagonal; a tableau is lower-triangular "
                       "(explicit, or diagonally implicit: a[i][j] = 0 for "
                       "j > i)"
                     : " makes the scheme implicit; an explicit tableau is "
                       "strictly lower-triangular (a[i][j] = 0 for j >= i)")};
  double sum = 0;
  for (double weight : b)
    sum += weight;
  if (!nearlyEqual(sum, 1.0))
    return TableauDefect{Part::B, -1, -1,
                         "the weights must add up to 1 (consistency), they "
                         "add up to " +
                             formatValue(sum)};
  for (size_t i = 0; i < s; ++i) {
    double row = 0;
    for (size_t j = 0; j < s; ++j)
      row += a[i * s + j];
    if (!nearlyEqual(c[i], row))
      return TableauDefect{Part::C, int(i), -1,
                           "c[" + std::to_string(i + 1) + "] = " +
                               formatValue(c[i]) +
                               " must equal the sum of row " +
                               std::to_string(i + 1) + " of 'a', " +
                               formatValue(row)};
  }
  if (order < 1 || order > kMaxCheckedTableauOrder)
    return TableauDefect{Part::Order, -1, -1,
                         "the order must be between 1 and " +
                             std::to_string(kMaxCheckedTableauOrder) +
                             " (the orders that can be checked), got " +
                             std::to_string(order)};
  int64_t attained = computeTableauOrder(a, b);
  if (attained < order)
    return TableauDefect{Part::Order, -1, -1,
                         "the tableau has order " + std::to_string(attained) +
                             ", not " + std::to_string(order) +
                             ": an order condition of order " +
                             std::to_string(attained + 1) + " fails"};
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Built-in schemes
//===----------------------------------------------------------------------===//

namespace {

struct NamedTableau {
  StringRef name;
  int64_t order;
  std::vector<double> a, b;
  /// Adaptive schemes: embedded weights and order, dense-output midpoint.
  std::vector<double> bhat = {};
  int64_t embeddedOrder = 0;
  std::vector<double> mid = {};
  /// Partitioned schemes: the position states' tableau.
  std::vector<double> qa = {}, qb = {};
  /// Backward differentiation formulas: their order.
  int64_t bdfOrder = 0;
  /// IMEX schemes: the explicit part's tableau.
  std::vector<double> ea = {}, eb = {};
};

constexpr double kSqrtHalf = 0.70710678118654752440; // 1 / sqrt(2)

const std::vector<NamedTableau> &getNamedTableaux() {
  static const std::vector<NamedTableau> tableaux = {
      {"euler", 1, {0}, {1}},
      {"midpoint", 2, {0, 0, 0.5, 0}, {0, 1}},
      {"heun", 2, {0, 0, 1, 0}, {0.5, 0.5}},
      {"ralston", 2, {0, 0, 2.0 / 3, 0}, {0.25, 0.75}},
      // Shu and Osher's three-stage strong-stability-preserving scheme.
      {"ssprk3",
       3,
       {0, 0, 0, 1, 0, 0, 0.25, 0.25, 0},
       {1.0 / 6, 1.0 / 6, 2.0 / 3}},
      {"kutta3", 3, {0, 0, 0, 0.5, 0, 0, -1, 2, 0}, {1.0 / 6, 2.0 / 3, 1.0 / 6}},
      {"rk4",
       4,
       {0, 0, 0, 0, 0.5, 0, 0, 0, 0, 0.5, 0, 0, 0, 0, 1, 0},
       {1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6}},
      // Kutta's 3/8 rule.
      {"rk38",
       4,
       {0, 0, 0, 0, 1.0 / 3, 0, 0, 0, -1.0 / 3, 1, 0, 0, 1, -1, 1, 0},
       {0.125, 0.375, 0.375, 0.125}},
      // Bogacki and Shampine's 3(2) pair (FSAL; SciPy's RK23, MATLAB's
      // ode23): dense output by cubic Hermite interpolation.
      {"bosh3",
       3,
       {0, 0, 0, 0, 0.5, 0, 0, 0, 0, 0.75, 0, 0, 2.0 / 9, 1.0 / 3, 4.0 / 9, 0},
       {2.0 / 9, 1.0 / 3, 4.0 / 9, 0},
       {7.0 / 24, 0.25, 1.0 / 3, 0.125},
       2},
      // Dormand and Prince's 5(4) pair (FSAL; SciPy's RK45, torchdiffeq's
      // dopri5), with Shampine's dense output of order 4 through the
      // midpoint weights b_i(1/2).
      {"dopri5",
       5,
       {0, 0, 0, 0, 0, 0, 0,                                         //
        1.0 / 5, 0, 0, 0, 0, 0, 0,                                   //
        3.0 / 40, 9.0 / 40, 0, 0, 0, 0, 0,                           //
        44.0 / 45, -56.0 / 15, 32.0 / 9, 0, 0, 0, 0,                 //
        19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729, 0, 0,
        0, //
        9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176,
        -5103.0 / 18656, 0, 0, //
        35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84,
        0},
       {35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84,
        0},
       {5179.0 / 57600, 0, 7571.0 / 16695, 393.0 / 640, -92097.0 / 339200,
        187.0 / 2100, 1.0 / 40},
       4,
       {6025192743.0 / 30085553152.0 / 2, 0,
        51252292925.0 / 65400821598.0 / 2,
        -2691868925.0 / 45128329728.0 / 2,
        187940372067.0 / 1594534317056.0 / 2,
        -1776094331.0 / 19743644256.0 / 2, 11237099.0 / 235043384.0 / 2}},
      // Diagonally implicit schemes, solved stage by stage by the runtime
      // (Newton-Krylov on the generated Jacobian-vector products).
      {"backward_euler", 1, {1}, {1}},
      // The trapezoidal rule: an explicit first stage, then an implicit one.
      {"crank_nicolson", 2, {0, 0, 0.5, 0.5}, {0.5, 0.5}},
      // Alexander's two-stage L-stable SDIRK, gamma = 1 - 1/sqrt(2).
      {"sdirk2",
       2,
       {1 - kSqrtHalf, 0, kSqrtHalf, 1 - kSqrtHalf},
       {kSqrtHalf, 1 - kSqrtHalf}},
      // Hairer and Wanner's L-stable SDIRK of order 4 with an embedded
      // order-3 solution (Solving ODEs II, Table IV.6.5, gamma = 1/4),
      // stiffly accurate: adaptive steps for stiff problems.
      {"sdirk4",
       4,
       {0.25, 0, 0, 0, 0,                                              //
        0.5, 0.25, 0, 0, 0,                                            //
        17.0 / 50, -1.0 / 25, 0.25, 0, 0,                              //
        371.0 / 1360, -137.0 / 2720, 15.0 / 544, 0.25, 0,              //
        25.0 / 24, -49.0 / 48, 125.0 / 16, -85.0 / 12, 0.25},
       {25.0 / 24, -49.0 / 48, 125.0 / 16, -85.0 / 12, 0.25},
       {59.0 / 48, -17.0 / 96, 225.0 / 32, -85.0 / 12, 0},
       3},
      // BDF2 with variable steps; backward Euler takes the first step.
      {"bdf2", 2, {1}, {1}, {}, 0, {}, {}, {}, 2},
      // Symplectic Euler (GraphCON's scheme): the velocities step first
      // from the old positions, v' = v + h f(x, v), then the positions
      // from the new velocities, x' = x + h g(v').
      {"symplectic_euler",
       1,
       {0, 0, 1, 0},
       {1, 0},
       {},
       0,
       {},
       {0, 0, 0, 0},
       {0, 1}},
      // Stormer-Verlet (velocity Verlet): a half kick, a drift with the
      // half-step velocities, a half kick at the new positions.
      {"leapfrog",
       2,
       {0, 0, 0, 0.5, 0, 0, 0.5, 0, 0},
       {0.5, 0, 0.5},
       {},
       0,
       {},
       {0, 0, 0, 0, 0, 0, 0, 1, 0},
       {0, 1, 0}},
      // IMEX Euler: the explicit part at the old state, the implicit part
      // at the new one, y' = y + h f_E(y) + h f_I(y'). The implicit
      // tableau's first stage (never used) gives the explicit part's node.
      {"imex_euler",
       1,
       {0, 0, 0, 1},
       {0, 1},
       {},
       0,
       {},
       {},
       {},
       0,
       {0, 0, 1, 0},
       {1, 0}},
      // Ascher, Ruuth and Spiteri's ARS(2,2,2) (1997): L-stable and
      // stiffly accurate implicit part (gamma = 1 - 1/sqrt(2)), explicit
      // part with delta = 1 - 1/(2 gamma).
      {"ars222",
       2,
       {0, 0, 0, 0, 1 - kSqrtHalf, 0, 0, kSqrtHalf, 1 - kSqrtHalf},
       {0, kSqrtHalf, 1 - kSqrtHalf},
       {},
       0,
       {},
       {},
       {},
       0,
       {0, 0, 0, 1 - kSqrtHalf, 0, 0, 1 - 1 / (2 * (1 - kSqrtHalf)),
        1 / (2 * (1 - kSqrtHalf)), 0},
       {1 - 1 / (2 * (1 - kSqrtHalf)), 1 / (2 * (1 - kSqrtHalf)), 0}},
  };
  return tableaux;
}

/// c_i = sum_j a_ij.
SmallVector<double> rowSums(ArrayRef<double> a, size_t s) {
  SmallVector<double> c(s, 0.0);
  for (size_t i = 0; i < s; ++i)
    for (size_t j = 0; j < s; ++j)
      c[i] += a[i * s + j];
  return c;
}

} // namespace

TableauAttr TableauAttr::getNamed(MLIRContext *context, StringRef name) {
  for (const NamedTableau &named : getNamedTableaux())
    if (named.name == name)
      return TableauAttr::get(
          context, named.name, named.order, named.a, named.b,
          // A partitioned scheme's stages are at the positions' times.
          rowSums(named.qb.empty() ? named.a : named.qa, named.b.size()),
          named.bhat, named.embeddedOrder, named.mid, named.qa, named.qb,
          named.bdfOrder, named.ea, named.eb);
  return {};
}

ArrayRef<StringRef> TableauAttr::getNamedSchemes() {
  static const std::vector<StringRef> names = [] {
    std::vector<StringRef> list;
    for (const NamedTableau &named : getNamedTableaux())
      list.push_back(named.name);
    return list;
  }();
  return names;
}

bool TableauAttr::isNamed() const {
  return getNamed(getContext(), getName()) == *this;
}

bool TableauAttr::isImplicit() const {
  for (unsigned i = 0; i < getNumStages(); ++i)
    if (getA(i, i) != 0.0)
      return true;
  return false;
}

bool TableauAttr::isFSAL() const {
  unsigned s = getNumStages();
  // c is a row sum of a: allow its rounding.
  if (s < 2 || std::fabs(getC()[s - 1] - 1.0) > 1e-12)
    return false;
  for (unsigned j = 0; j < s; ++j)
    if (getA(s - 1, j) != getB()[j])
      return false;
  return true;
}

std::optional<std::string>
grade::findEmbeddedDefect(ArrayRef<double> a, ArrayRef<double> b,
                          ArrayRef<double> bhat, int64_t order,
                          int64_t embeddedOrder, ArrayRef<double> mid) {
  size_t s = b.size();
  if (bhat.empty()) {
    if (embeddedOrder != 0 || !mid.empty())
      return std::string("an embedded order or dense-output weights need "
                         "embedded weights 'bhat'");
    return std::nullopt;
  }
  if (bhat.size() != s)
    return "'bhat' has " + std::to_string(bhat.size()) + " weights, but 'b' has " +
           std::to_string(s) + " stages";
  if (embeddedOrder < 1 || embeddedOrder >= order)
    return "the embedded order must be between 1 and the order minus one (" +
           std::to_string(order - 1) + "), got " +
           std::to_string(embeddedOrder);
  int64_t attained = computeTableauOrder(a, bhat);
  if (attained < embeddedOrder)
    return "the embedded weights have order " + std::to_string(attained) +
           ", not " + std::to_string(embeddedOrder);
  if (!mid.empty() && mid.size() != s)
    return "'mid' has " + std::to_string(mid.size()) +
           " weights, but 'b' has " + std::to_string(s) + " stages";
  return std::nullopt;
}

std::optional<std::string> grade::findPartitionedDefect(ArrayRef<double> a,
                                                       ArrayRef<double> b,
                                                       ArrayRef<double> qa,
                                                       ArrayRef<double> qb,
                                                       int64_t order) {
  size_t s = b.size();
  if (qb.size() != s || qa.size() != s * s)
    return "the position tableau must have " + std::to_string(s) +
           " weights 'qb' and " + std::to_string(s * s) +
           " coefficients 'qa', like the velocity tableau";
  for (size_t i = 0; i < s; ++i) {
    if (!std::isfinite(qb[i]))
      return std::string("a weight must be finite");
    for (size_t j = 0; j < s; ++j) {
      if (!std::isfinite(qa[i * s + j]))
        return std::string("a coefficient must be finite");
      if (j >= i && qa[i * s + j] != 0)
        return "qa[" + std::to_string(i + 1) + "][" + std::to_string(j + 1) +
               "] = " + formatValue(qa[i * s + j]) +
               " makes the scheme implicit; the position tableau is strictly "
               "lower-triangular too";
    }
  }
  double sum = 0;
  for (double weight : qb)
    sum += weight;
  if (!nearlyEqual(sum, 1.0))
    return "the position weights must add up to 1, they add up to " +
           formatValue(sum);
  if (order < 1 || order > 2)
    return "the order of a partitioned scheme must be 1 or 2 (the orders "
           "that can be checked), got " +
           std::to_string(order);
  if (order == 2) {
    SmallVector<double> c = rowSums(a, s), qc = rowSums(qa, s);
    double velocity = 0, position = 0;
    for (size_t i = 0; i < s; ++i) {
      velocity += b[i] * qc[i];
      position += qb[i] * c[i];
    }
    if (!nearlyEqual(velocity, 0.5) || !nearlyEqual(position, 0.5))
      return "the partitioned tableau has order 1, not 2: sum b_i qc_i = " +
             formatValue(velocity) + " and sum qb_i c_i = " +
             formatValue(position) + " must both be 1/2";
  }
  return std::nullopt;
}

std::optional<std::string> grade::findImexDefect(ArrayRef<double> c,
                                                 ArrayRef<double> ea,
                                                 ArrayRef<double> eb,
                                                 int64_t order) {
  size_t s = c.size();
  if (eb.size() != s || ea.size() != s * s)
    return "the explicit tableau must have " + std::to_string(s) +
           " weights 'eb' and " + std::to_string(s * s) +
           " coefficients 'ea', like the implicit tableau";
  if (order < 1 || order > 2)
    return "the order of an IMEX scheme must be 1 or 2 (the orders that can "
           "be checked), got " +
           std::to_string(order);
  if (std::optional<TableauDefect> defect =
          findTableauDefect(ea, eb, c, order))
    return "explicit tableau: " + defect->message;
  return std::nullopt;
}

LogicalResult TableauAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                  StringRef name, int64_t order,
                                  DenseF64ArrayAttr a, DenseF64ArrayAttr b,
                                  DenseF64ArrayAttr c, DenseF64ArrayAttr bhat,
                                  int64_t embeddedOrder, DenseF64ArrayAttr mid,
                                  DenseF64ArrayAttr qa, DenseF64ArrayAttr qb,
                                  int64_t bdfOrder, DenseF64ArrayAttr ea,
                                  DenseF64ArrayAttr eb) {
  if (name.empty())
    return emitError() << "a tableau needs a name";
  if (!ea || !eb)
    return emitError() << "tableau '" << name << "' lacks coefficients";
  if (!eb.empty()) {
    if (bdfOrder != 0 || !qb.empty() || !bhat || !bhat.empty() ||
        embeddedOrder != 0)
      return emitError() << "tableau '" << name
                         << "': an IMEX scheme is a one-step, fixed-step "
                            "scheme with one implicit and one explicit "
                            "tableau";
    if (!a || !b || !c)
      return emitError() << "tableau '" << name << "' lacks coefficients";
    if (std::optional<TableauDefect> defect =
            findTableauDefect(a.asArrayRef(), b.asArrayRef(), c.asArrayRef(),
                              order, /*allowDiagonal=*/true))
      return emitError() << "tableau '" << name
                         << "': implicit tableau: " << defect->message;
    if (std::optional<std::string> defect = findImexDefect(
            c.asArrayRef(), ea.asArrayRef(), eb.asArrayRef(), order))
      return emitError() << "tableau '" << name << "': " << *defect;
    return success();
  }
  if (bdfOrder != 0) {
    // The multistep formula's order is the scheme's; the tableau is the
    // implicit one-step scheme of its first step.
    if (bdfOrder != 2 || order != 2)
      return emitError() << "tableau '" << name
                         << "': the backward differentiation formula of "
                            "order 2 is the only one, got order "
                         << bdfOrder;
    if (!a || !b || !c || a.size() != 1 || a[0] == 0 || !bhat.empty() ||
        !qb.empty())
      return emitError() << "tableau '" << name
                         << "': a BDF scheme starts with an implicit "
                            "one-stage step";
    return success();
  }
  if (!a || !b || !c || !bhat || !mid || !qa || !qb)
    return emitError() << "tableau '" << name << "' lacks coefficients";
  if (!qb.empty()) {
    // The velocity tableau alone need only be a consistent explicit one,
    // and c are the position tableau's nodes; the order is the pair's.
    size_t s = b.size();
    if (std::optional<TableauDefect> defect =
            findTableauDefect(a.asArrayRef(), b.asArrayRef(),
                              size_t(a.size()) == s * s
                                  ? rowSums(a.asArrayRef(), s)
                                                : SmallVector<double>(s, 0.0),
                              1))
      return emitError() << "tableau '" << name << "': " << defect->message;
    if (std::optional<std::string> defect = findPartitionedDefect(
            a.asArrayRef(), b.asArrayRef(), qa.asArrayRef(), qb.asArrayRef(),
            order))
      return emitError() << "tableau '" << name << "': " << *defect;
    SmallVector<double> qc = rowSums(qa.asArrayRef(), s);
    if (size_t(c.size()) != s ||
        llvm::any_of(llvm::seq<size_t>(0, s),
                     [&](size_t i) { return !nearlyEqual(c[i], qc[i]); }))
      return emitError() << "tableau '" << name
                         << "': the nodes 'c' of a partitioned scheme are "
                            "the row sums of the position tableau 'qa'";
    if (!bhat.empty() || embeddedOrder != 0 || !mid.empty())
      return emitError() << "tableau '" << name
                         << "': a partitioned scheme cannot be adaptive";
    return success();
  }
  if (std::optional<TableauDefect> defect =
          findTableauDefect(a.asArrayRef(), b.asArrayRef(), c.asArrayRef(),
                            order, /*allowDiagonal=*/true))
    return emitError() << "tableau '" << name << "': " << defect->message;
  if (std::optional<std::string> defect =
          findEmbeddedDefect(a.asArrayRef(), b.asArrayRef(), bhat.asArrayRef(),
                             order, embeddedOrder, mid.asArrayRef()))
    return emitError() << "tableau '" << name << "': " << *defect;
  return success();
}

//===----------------------------------------------------------------------===//
// Syntax: #grade.tableau<rk4> or
// #grade.tableau<"name", order p, a = [[...], ...], b = [...], c = [...]>
//===----------------------------------------------------------------------===//

static ParseResult parseValues(AsmParser &parser, SmallVectorImpl<double> &out) {
  return parser.parseCommaSeparatedList(
      AsmParser::Delimiter::Square, [&]() -> ParseResult {
        double value;
        if (parser.parseFloat(value))
          return failure();
        out.push_back(value);
        return success();
      });
}

Attribute TableauAttr::parse(AsmParser &parser, Type) {
  MLIRContext *context = parser.getContext();
  if (parser.parseLess())
    return {};
  std::string name;
  SMLoc nameLoc = parser.getCurrentLocation();
  if (failed(parser.parseOptionalString(&name))) {
    StringRef keyword;
    if (parser.parseKeyword(&keyword))
      return {};
    TableauAttr named = getNamed(context, keyword);
    if (!named) {
      parser.emitError(nameLoc, "unknown scheme '") << keyword << "'";
      return {};
    }
    if (parser.parseGreater())
      return {};
    return named;
  }
  int64_t order = 0;
  SmallVector<double> a, b, c;
  size_t rows = 0;
  if (parser.parseComma() || parser.parseKeyword("order") ||
      parser.parseInteger(order) || parser.parseComma() ||
      parser.parseKeyword("a") || parser.parseEqual() ||
      parser.parseCommaSeparatedList(AsmParser::Delimiter::Square,
                                     [&]() {
                                       ++rows;
                                       return parseValues(parser, a);
                                     }) ||
      parser.parseComma() || parser.parseKeyword("b") ||
      parser.parseEqual() || parseValues(parser, b) || parser.parseComma() ||
      parser.parseKeyword("c") || parser.parseEqual() ||
      parseValues(parser, c))
    return {};
  // Adaptive: `, bhat = [...], embedded_order q[, mid = [...]]`;
  // partitioned: `, qa = [[...], ...], qb = [...]`; IMEX: `, ea = [[...],
  // ...], eb = [...]`.
  SmallVector<double> bhat, mid, qa, qb, ea, eb;
  int64_t embeddedOrder = 0, bdfOrder = 0;
  if (succeeded(parser.parseOptionalComma())) {
    if (succeeded(parser.parseOptionalKeyword("ea"))) {
      if (parser.parseEqual() ||
          parser.parseCommaSeparatedList(
              AsmParser::Delimiter::Square,
              [&]() { return parseValues(parser, ea); }) ||
          parser.parseComma() || parser.parseKeyword("eb") ||
          parser.parseEqual() || parseValues(parser, eb))
        return {};
    } else if (succeeded(parser.parseOptionalKeyword("bdf"))) {
      if (parser.parseInteger(bdfOrder))
        return {};
    } else if (succeeded(parser.parseOptionalKeyword("qa"))) {
      if (parser.parseEqual() ||
          parser.parseCommaSeparatedList(
              AsmParser::Delimiter::Square,
              [&]() { return parseValues(parser, qa); }) ||
          parser.parseComma() || parser.parseKeyword("qb") ||
          parser.parseEqual() || parseValues(parser, qb))
        return {};
    } else {
      if (parser.parseKeyword("bhat") || parser.parseEqual() ||
          parseValues(parser, bhat) || parser.parseComma() ||
          parser.parseKeyword("embedded_order") ||
          parser.parseInteger(embeddedOrder))
        return {};
      if (succeeded(parser.parseOptionalComma()) &&
          (parser.parseKeyword("mid") || parser.parseEqual() ||
           parseValues(parser, mid)))
        return {};
    }
  }
  if (parser.parseGreater())
    return {};
  if (a.size() != rows * rows) {
    parser.emitError(nameLoc, "tableau 'a' must be square, got ")
        << rows << " rows and " << a.size() << " entries";
    return {};
  }
  return getChecked([&] { return parser.emitError(nameLoc); }, context, name,
                    order, DenseF64ArrayAttr::get(context, a),
                    DenseF64ArrayAttr::get(context, b),
                    DenseF64ArrayAttr::get(context, c),
                    DenseF64ArrayAttr::get(context, bhat), embeddedOrder,
                    DenseF64ArrayAttr::get(context, mid),
                    DenseF64ArrayAttr::get(context, qa),
                    DenseF64ArrayAttr::get(context, qb), bdfOrder,
                    DenseF64ArrayAttr::get(context, ea),
                    DenseF64ArrayAttr::get(context, eb));
}

void TableauAttr::print(AsmPrinter &printer) const {
  printer << "<";
  if (isNamed()) {
    printer << getName() << ">";
    return;
  }
  auto printValues = [&](ArrayRef<double> values) {
    printer << "[";
    llvm::interleaveComma(values, printer,
                          [&](double value) { printer << formatValue(value); });
    printer << "]";
  };
  printer.printString(getName());
  printer << ", order " << getOrder() << ", a = [";
  unsigned s = getNumStages();
  for (unsigned i = 0; i < s; ++i) {
    if (i)
      printer << ", ";
    printValues(getA().slice(i * s, s));
  }
  printer << "], b = ";
  printValues(getB());
  printer << ", c = ";
  printValues(getC());
  if (getBdfOrder())
    printer << ", bdf " << getBdfOrder();
  if (isPartitioned()) {
    printer << ", qa = [";
    for (unsigned i = 0; i < s; ++i) {
      if (i)
        printer << ", ";
      printValues(getQA().slice(i * s, s));
    }
    printer << "], qb = ";
    printValues(getQB());
  }
  if (isImex()) {
    printer << ", ea = [";
    for (unsigned i = 0; i < s; ++i) {
      if (i)
        printer << ", ";
      printValues(getExplicitA().slice(i * s, s));
    }
    printer << "], eb = ";
    printValues(getExplicitB());
  }
  if (isAdaptive()) {
    printer << ", bhat = ";
    printValues(getBhat());
    printer << ", embedded_order " << getEmbeddedOrder();
    if (!getMid().empty()) {
      printer << ", mid = ";
      printValues(getMid());
    }
  }
  printer << ">";
}

//===----------------------------------------------------------------------===//
// Symmetry groups and laws
//===----------------------------------------------------------------------===//

static constexpr llvm::StringLiteral kRepNames[] = {"scalar", "vector",
                                                    "tensor"};
static constexpr llvm::StringLiteral kLawCoefficients[] = {"translate", "boost",
                                                           "weight"};

Attribute LawAttr::parse(AsmParser &parser, Type) {
  StringRef rep;
  SMLoc repLoc = parser.getCurrentLocation();
  if (parser.parseLess() || parser.parseKeyword(&rep))
    return {};
  const auto *found = llvm::find(kRepNames, rep);
  if (found == std::end(kRepNames)) {
    parser.emitError(repLoc, "expected 'scalar', 'vector' or 'tensor'");
    return {};
  }
  SmallVector<double, 3> coefficients;
  for (StringRef name : kLawCoefficients) {
    double value;
    if (parser.parseComma() || parser.parseKeyword(name) ||
        parser.parseFloat(value))
      return {};
    coefficients.push_back(value);
  }
  if (parser.parseGreater())
    return {};
  return LawAttr::get(parser.getContext(),
                      int32_t(found - std::begin(kRepNames)),
                      DenseF64ArrayAttr::get(parser.getContext(), coefficients));
}

void LawAttr::print(AsmPrinter &printer) const {
  int32_t rep = getRep();
  printer << "<"
          << (rep >= 0 && rep < 3 ? StringRef(kRepNames[rep]) : StringRef("scalar"));
  for (auto [name, value] :
       llvm::zip(kLawCoefficients, getCoefficients().asArrayRef()))
    printer << ", " << name << " " << formatValue(value);
  printer << ">";
}

static constexpr llvm::StringLiteral kGroupNames[] = {
    "permutations", "translations", "rotations", "reflections",
    "scalings",     "boosts",       "time_shifts"};

Attribute SymmetryAttr::parse(AsmParser &parser, Type) {
  std::string spelling;
  uint32_t groups = 0;
  int64_t dim = 0;
  double timeWeight = 0;
  if (parser.parseLess() || parser.parseString(&spelling) ||
      parser.parseComma() ||
      parser.parseCommaSeparatedList(
          AsmParser::Delimiter::Square, [&]() -> ParseResult {
            StringRef name;
            SMLoc at = parser.getCurrentLocation();
            if (parser.parseKeyword(&name))
              return failure();
            const auto *found = llvm::find(kGroupNames, name);
            if (found == std::end(kGroupNames))
              return parser.emitError(at, "unknown group kind '")
                     << name << "'";
            groups |= 1u << (found - std::begin(kGroupNames));
            return success();
          }) ||
      parser.parseComma() || parser.parseKeyword("dim") ||
      parser.parseInteger(dim) || parser.parseComma() ||
      parser.parseKeyword("time_weight") || parser.parseFloat(timeWeight) ||
      parser.parseGreater())
    return {};
  MLIRContext *context = parser.getContext();
  return SymmetryAttr::get(context, spelling, groups, dim,
                           FloatAttr::get(Float64Type::get(context),
                                          timeWeight));
}

void SymmetryAttr::print(AsmPrinter &printer) const {
  printer << "<";
  printer.printString(getSpelling());
  printer << ", [";
  bool first = true;
  for (auto [bit, name] : llvm::enumerate(kGroupNames))
    if (getGroups() & (1u << bit)) {
      printer << (first ? "" : ", ") << name;
      first = false;
    }
  printer << "], dim " << getDim() << ", time_weight "
          << formatValue(getTimeWeight().getValueAsDouble()) << ">";
}
