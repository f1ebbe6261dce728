//===- GradeTypes.h - types of the grade dialect ----------------*- C++ -*-===//
//
// The field and graph types, the enumerations they use, and helpers that
// treat every grade value type (fields, floats, float tensors) uniformly.
//
//===----------------------------------------------------------------------===//

#ifndef GRADE_DIALECTS_GRADE_IR_GRADETYPES_H
#define GRADE_DIALECTS_GRADE_IR_GRADETYPES_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Types.h"

#include <optional>

#include "dialects/Grade/IR/GradeEnums.h.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/Grade/IR/GradeOpsTypes.h.inc"

namespace grade {

/// The feature shape of a grade value type: a field's shape, a tensor's
/// shape, and the empty shape for a float.
llvm::ArrayRef<int64_t> getFeatureShape(mlir::Type type);

/// The element type (f32 or f64) of a field, tensor or float; null otherwise.
mlir::Type getElementTypeOf(mlir::Type type);

/// The kind of a field type; std::nullopt for globals (floats, tensors).
std::optional<FieldKind> getFieldKind(mlir::Type type);

/// Product of a feature shape (1 for the empty shape).
int64_t getNumElements(llvm::ArrayRef<int64_t> shape);

/// The value type with the given kind (or global when `kind` is empty),
/// feature shape and element type: a field, a float or a ranked tensor.
mlir::Type makeValueType(std::optional<FieldKind> kind,
                         llvm::ArrayRef<int64_t> shape,
                         mlir::Type elementType);

/// Renders a feature shape as "[64, 16]" (or "[]") for messages.
std::string formatShape(llvm::ArrayRef<int64_t> shape);

} // namespace grade

#endif // GRADE_DIALECTS_GRADE_IR_GRADETYPES_H
