//===- GradeLaws.h - how values transform under symmetry groups -*- C++ -*-===//
//
// The one home of the rules that give a grade value op the transformation
// law of its result from its operands' laws, under the symmetry groups a
// model declares (permutations of nodes, translations T(n), rotations SO(n)
// and O(n), scalings, Galilean boosts, time translation). Sema applies them
// to every expression of a model that declares groups (the proof that the
// right-hand side is equivariant), and the descriptor exports the laws of
// the declared fields, from which the runtime applies group elements.
//
// Laws and groups are GradeLaw.h's. The ops' LawOpInterface
// implementations (GradeLaws.cpp, for the grade-check-laws pass) and Sema
// both call these rules. Every op of the language is equivariant under
// node permutations by construction (values reach other nodes only along edges and through
// reductions over sets of edges or nodes), so permutations need no rule.
//
// A rule that fails names the group it breaks and says why, in words a
// frontend completes with the operands' source text.
//
//===----------------------------------------------------------------------===//

#ifndef GRADE_DIALECTS_GRADE_IR_GRADELAWS_H
#define GRADE_DIALECTS_GRADE_IR_GRADELAWS_H

#include "dialects/Grade/IR/GradeLaw.h"
#include "dialects/Grade/IR/GradeOps.h"

#include "mlir/Support/LLVM.h"

#include <cstdint>
#include <optional>
#include <string>

namespace grade {

// Each rule returns the result's law, or failure with `error` set. Operand
// laws come from declared fields, literals and other rules.

/// grade.unary.
mlir::FailureOr<Law> lawOfUnary(UnaryFn fn, const Law &operand,
                                LawError *error);
/// grade.binary (arithmetic, min/max/pow/atan2, comparisons).
mlir::FailureOr<Law> lawOfBinary(BinaryFn fn, const Law &lhs, const Law &rhs,
                                 LawError *error);
/// `a . b`, `dot(a, b)`: the contraction of the last feature axes.
mlir::FailureOr<Law> lawOfDot(const Law &lhs, const Law &rhs, LawError *error);
/// `x @ W`: a linear map of the features.
mlir::FailureOr<Law> lawOfMatmul(const Law &input, const Law &matrix,
                                 LawError *error);
/// grade.contract (`einsum`); `what` names it in messages.
mlir::FailureOr<Law> lawOfContract(llvm::ArrayRef<Law> operands,
                                   LawError *error,
                                   llvm::StringRef what = "'einsum'");
/// grade.concat.
mlir::FailureOr<Law> lawOfConcat(llvm::ArrayRef<Law> operands,
                                 LawError *error);
/// grade.sym_pow with `exponent`.
mlir::FailureOr<Law> lawOfSymPow(const Law &input, double exponent,
                                 LawError *error);
/// grade.reindex: features rearranged, `indices` the laws of the run-time
/// indices.
mlir::FailureOr<Law> lawOfReindex(const Law &input,
                                  llvm::ArrayRef<Law> indices,
                                  LawError *error);
/// grade.select.
mlir::FailureOr<Law> lawOfSelect(const Law &condition, const Law &ifTrue,
                                 const Law &ifFalse, LawError *error);
/// grade.reduce over in-edges (`inEdges`) or out-edges.
mlir::FailureOr<Law> lawOfReduce(ReduceKind kind, bool inEdges,
                                 const Law &operand, LawError *error);
/// grade.reduce_all.
mlir::FailureOr<Law> lawOfReduceAll(ReduceAllKind kind, const Law &operand,
                                    LawError *error);
/// grade.softmax.
mlir::FailureOr<Law> lawOfSoftmax(const Law &operand, LawError *error);

/// The attribute of a field's law. A law inferred without rotations in the
/// groups has a scalar rep; one that translations or boosts move is
/// recorded as a vector (they move the last feature axis).
LawAttr getLawAttr(mlir::MLIRContext *context, const Law &law);
/// The law an attribute records.
Law getLaw(LawAttr attr);
/// The attribute of a model's groups.
SymmetryAttr getSymmetryAttr(mlir::MLIRContext *context,
                             const Symmetry &symmetry);

} // namespace grade

#endif // GRADE_DIALECTS_GRADE_IR_GRADELAWS_H
