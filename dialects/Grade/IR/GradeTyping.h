//===- GradeTyping.h - the typing rules of the grade value ops --*- C++ -*-===//
//
// The one home of the rules that give a grade value op its result type from
// its operand types. The ops' InferTypeOpInterface implementations, their
// verifiers and the frontend's Sema all call these functions; none of them
// restates a rule.
//
// A rule that fails says which rule it was (`TypeRule`), so that a frontend
// can word the error in the source language's terms (with the operator's
// spelling and a hint), and carries the dialect's own wording (`message`),
// which the ops' verifiers and inference report as is.
//
//===----------------------------------------------------------------------===//

#ifndef GRADE_DIALECTS_GRADE_IR_GRADETYPING_H
#define GRADE_DIALECTS_GRADE_IR_GRADETYPING_H

#include "mlir/IR/TypeRange.h"
#include "mlir/IR/Types.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"

#include <array>
#include <optional>
#include <string>

namespace grade {

/// The typing rule a combination of operand types breaks.
enum class TypeRule {
  NotAValue,       ///< an operand is no field, float or float tensor
  KindMismatch,    ///< a node field combined with an edge field
  ElementMismatch, ///< f32 combined with f64
  ShapeMismatch,   ///< feature shapes that do not broadcast
  MatrixBroadcast, ///< a global matrix beside a field of another shape
  NeedsNodeField,  ///< gather, nonempty_in: the operand is no node field
  NeedsEdgeField,  ///< reduce, softmax: the operand is no edge field
  NeedsField,      ///< reduce_all: the operand is a global already
  DotShapes,       ///< dot: not two vectors of one length
  DotOfGlobals,    ///< dot: neither operand is a field
  ContractSpec,    ///< contract: a malformed spec, or one that does not
                   ///< match the operands' feature shapes
  ContractOfGlobals, ///< contract: no operand is a field
  MatmulInput,     ///< matmul: the input is no field of vectors
  MatmulMatrix,    ///< matmul: the matrix is no global rank-2 tensor
  MatmulShapes,    ///< matmul: [d] @ [d', k] with d != d'
  NoWeights,       ///< weight: the graph declares no edge weights
  ConcatOperand,   ///< concat: an operand of rank 2 or more
  ConcatOfGlobals, ///< concat: no operand is a field
};

/// Why operand types give no result type.
struct TypeError {
  TypeRule rule = TypeRule::NotAValue;
  /// The dialect's wording, e.g. "element types differ: f32 and f64".
  std::string message;
};

// Each function returns the result type of its op for the given operand
// types, or failure with `error` (when given) set.

/// grade.gather: a node field read along edges is the edge field of the
/// same feature shape and element type.
mlir::FailureOr<mlir::Type> inferGatherType(mlir::Type input,
                                            TypeError *error = nullptr);

/// grade.reduce (in- or out-edges): an edge field reduced at every node is
/// the node field of the same feature shape and element type.
mlir::FailureOr<mlir::Type> inferReduceType(mlir::Type input,
                                            TypeError *error = nullptr);

/// grade.reduce_all: a node or edge field reduced to a global with its
/// element type and feature shape (a float, or a tensor of that shape).
mlir::FailureOr<mlir::Type> inferReduceAllType(mlir::Type input,
                                               TypeError *error = nullptr);

/// grade.softmax: an edge field, typed as its input.
mlir::FailureOr<mlir::Type> inferSoftmaxType(mlir::Type input,
                                             TypeError *error = nullptr);

/// grade.nonempty_in: a node field, typed as its input.
mlir::FailureOr<mlir::Type> inferNonEmptyType(mlir::Type input,
                                              TypeError *error = nullptr);

/// grade.unary: any value, typed as its input.
mlir::FailureOr<mlir::Type> inferUnaryType(mlir::Type input,
                                           TypeError *error = nullptr);

/// grade.binary: the operands have one kind (node, edge) or one of them is
/// a global; element types are equal; feature shapes are equal or one is
/// empty (a scalar broadcast over features); a global matrix (rank 2 and
/// more) beside a field must have the field's feature shape.
mlir::FailureOr<mlir::Type> inferBinaryType(mlir::Type lhs, mlir::Type rhs,
                                            TypeError *error = nullptr);

/// A `grade.contract` spec such as "ij,j->i", split into subscripts, with
/// the size of every index letter taken from the operands' feature shapes.
struct ContractSpec {
  /// One subscript per operand, and the output's.
  llvm::SmallVector<std::string> inputs;
  std::string output;
  /// The letters summed over (in some input, not in the output), in order
  /// of first appearance.
  std::string reduced;
  /// The size of each letter (indexed by the letter's character).
  std::array<int64_t, 128> sizes{};

  /// Parses `spec` and binds its letters to the feature shapes of
  /// `inputs`; std::nullopt (with `error` set, rule ContractSpec) when it
  /// is malformed or they do not match.
  static std::optional<ContractSpec> get(llvm::StringRef spec,
                                         mlir::TypeRange inputs,
                                         TypeError *error = nullptr);

  /// The size of `letter`.
  int64_t size(char letter) const { return sizes[(unsigned char)letter]; }
};

/// grade.contract: the spec matches the operands' feature shapes
/// (ContractSpec::get); at least one operand is a field and every field
/// has one kind; element types are equal. The result has the output's
/// feature shape and the fields' kind.
mlir::FailureOr<mlir::Type> inferContractType(llvm::StringRef spec,
                                              mlir::TypeRange inputs,
                                              TypeError *error = nullptr);

/// grade.select: the condition and the two values combine as two
/// grade.binary operations would (kinds, element types, broadcasting).
mlir::FailureOr<mlir::Type> inferSelectType(mlir::Type condition,
                                            mlir::Type ifTrue,
                                            mlir::Type ifFalse,
                                            TypeError *error = nullptr);

/// grade.concat: scalars and vectors (a scalar counts as one feature),
/// at least one of them a field, fields of one kind (globals are the same
/// for every row), one element type. The result is the field of vectors
/// whose features are the operands' in order.
mlir::FailureOr<mlir::Type> inferConcatType(mlir::TypeRange inputs,
                                            TypeError *error = nullptr);

/// The language's `a . b` and `dot(a, b)`, grade.contract "i,i->": two
/// vectors of one length, at least one of them a field, combining as
/// grade.binary does; the result is a scalar per element.
mlir::FailureOr<mlir::Type> inferDotType(mlir::Type lhs, mlir::Type rhs,
                                         TypeError *error = nullptr);

/// The language's `x @ W`, grade.contract "i,ij->j": a field of vectors [d]
/// times a global matrix [d, k] of its element type is the field of
/// vectors [k].
mlir::FailureOr<mlir::Type> inferMatmulType(mlir::Type input, mlir::Type matrix,
                                            TypeError *error = nullptr);

/// grade.weight: a scalar edge field of the graph's weight type, where
/// `weightType` is null when the graph declares no weights. The op does not
/// infer it (the graph declaration is out of its sight inside a kernel);
/// its verifier and Sema apply it.
mlir::FailureOr<mlir::Type> inferWeightType(mlir::MLIRContext *context,
                                            mlir::Type weightType,
                                            TypeError *error = nullptr);

/// grade.degree: a scalar node field of element type `elementType` (the
/// count of in-edges has any float type its user asks for).
mlir::Type getDegreeType(mlir::Type elementType);

} // namespace grade

#endif // GRADE_DIALECTS_GRADE_IR_GRADETYPING_H
