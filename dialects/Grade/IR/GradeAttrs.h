//===- GradeAttrs.h - attributes of the grade dialect -----------*- C++ -*-===//
//
// The Butcher tableau attribute and the checks shared by its verifier and the
// frontend (which locates each defect at the entry the user wrote).
//
//===----------------------------------------------------------------------===//

#ifndef GRADE_DIALECTS_GRADE_IR_GRADEATTRS_H
#define GRADE_DIALECTS_GRADE_IR_GRADEATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <optional>
#include <string>

#define GET_ATTRDEF_CLASSES
#include "dialects/Grade/IR/GradeOpsAttributes.h.inc"

namespace grade {

/// The highest order whose conditions can be checked (rooted trees up to
/// this order are enumerated).
constexpr int64_t kMaxCheckedTableauOrder = 6;

/// The first thing wrong with an explicit tableau, and where it is.
struct TableauDefect {
  enum class Part { Shape, A, B, C, Order } part;
  /// Stage row (a, c) or column (a) or weight index (b); -1 if none.
  int row = -1, col = -1;
  std::string message;
};

/// Checks an s-stage explicit tableau: `a` has s*s entries (row-major) and
/// is strictly lower-triangular, sum(b) = 1, c_i = sum_j a_ij, and the order
/// conditions hold up to `order` (1 <= order <= kMaxCheckedTableauOrder).
/// Equalities allow a relative rounding slack of about 1e-12.
/// With `allowDiagonal`, a diagonally implicit tableau (DIRK: a_ii may be
/// non-zero) is accepted.
std::optional<TableauDefect> findTableauDefect(llvm::ArrayRef<double> a,
                                               llvm::ArrayRef<double> b,
                                               llvm::ArrayRef<double> c,
                                               int64_t order,
                                               bool allowDiagonal = false);

/// The highest order p <= kMaxCheckedTableauOrder whose conditions the
/// tableau satisfies (0 if not even sum(b) = 1).
int64_t computeTableauOrder(llvm::ArrayRef<double> a, llvm::ArrayRef<double> b);

/// Checks the position tableau (qa, qb) of a partitioned scheme whose
/// velocity tableau (a, b) is explicit: shapes, qa strictly lower-triangular,
/// sum(qb) = 1, and, for order 2, the mixed conditions sum b_i qc_i =
/// sum qb_i c_i = 1/2 (c, qc the row sums of a, qa), which give order 2 on
/// separable systems. Orders above 2 are refused.
std::optional<std::string> findPartitionedDefect(llvm::ArrayRef<double> a,
                                                 llvm::ArrayRef<double> b,
                                                 llvm::ArrayRef<double> qa,
                                                 llvm::ArrayRef<double> qb,
                                                 int64_t order);

/// Checks the explicit tableau (ea, eb) of an IMEX scheme whose implicit
/// tableau (a, b, c) is valid: ea strictly lower-triangular with the row
/// sums c, sum(eb) = 1, and the explicit tableau's own order conditions up
/// to `order`; with shared nodes these and the implicit tableau's are the
/// pair's conditions up to order 2. Orders above 2 are refused.
std::optional<std::string> findImexDefect(llvm::ArrayRef<double> c,
                                          llvm::ArrayRef<double> ea,
                                          llvm::ArrayRef<double> eb,
                                          int64_t order);

/// Checks the adaptive part of a tableau whose main part is valid: `bhat`
/// (empty for a fixed-step scheme) has s weights of order `embeddedOrder`,
/// 1 <= embeddedOrder < order, and `mid` is empty or has s weights.
std::optional<std::string>
findEmbeddedDefect(llvm::ArrayRef<double> a, llvm::ArrayRef<double> b,
                   llvm::ArrayRef<double> bhat, int64_t order,
                   int64_t embeddedOrder, llvm::ArrayRef<double> mid);

} // namespace grade

#endif // GRADE_DIALECTS_GRADE_IR_GRADEATTRS_H
