//===- GradeTypes.cpp - types of the grade dialect ------------------------===//
//
// The field type's syntax `!grade.field<node, 64xf32>` reuses the builtin
// dimension-list syntax of tensors, so a scalar field reads
// `!grade.field<edge, f64>`.
//
//===----------------------------------------------------------------------===//

#include "dialects/Grade/IR/GradeOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace grade;

#include "dialects/Grade/IR/GradeEnums.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/Grade/IR/GradeOpsTypes.cpp.inc"

void GradeDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "dialects/Grade/IR/GradeOpsTypes.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// FieldType
//===----------------------------------------------------------------------===//

/// Feature shapes are kept small: the runtime ABI describes them with a
/// fixed-size array.
static constexpr unsigned kMaxFeatureRank = 4;

LogicalResult FieldType::verify(function_ref<InFlightDiagnostic()> emitError,
                                FieldKind kind, ArrayRef<int64_t> shape,
                                Type elementType) {
  if (!elementType.isF32() && !elementType.isF64())
    return emitError() << "field element type must be f32 or f64, got "
                       << elementType;
  if (shape.size() > kMaxFeatureRank)
    return emitError() << "field feature rank " << shape.size()
                       << " exceeds the maximum of " << kMaxFeatureRank;
  for (int64_t dim : shape)
    if (dim <= 0)
      return emitError() << "field feature dimensions must be positive, got "
                         << formatShape(shape);
  return success();
}

Type FieldType::parse(AsmParser &parser) {
  StringRef kindName;
  SmallVector<int64_t> shape;
  Type elementType;
  SMLoc kindLoc;
  if (parser.parseLess() || parser.getCurrentLocation(&kindLoc) ||
      parser.parseKeyword(&kindName) || parser.parseComma() ||
      parser.parseDimensionList(shape, /*allowDynamic=*/false,
                                /*withTrailingX=*/true) ||
      parser.parseType(elementType) || parser.parseGreater())
    return {};
  std::optional<FieldKind> kind = symbolizeFieldKind(kindName);
  if (!kind) {
    parser.emitError(kindLoc, "expected 'node' or 'edge', got '")
        << kindName << "'";
    return {};
  }
  return parser.getChecked<FieldType>(parser.getContext(), *kind, shape,
                                      elementType);
}

void FieldType::print(AsmPrinter &printer) const {
  printer << "<" << stringifyFieldKind(getKind()) << ", ";
  for (int64_t dim : getShape())
    printer << dim << "x";
  printer << getElementType() << ">";
}

int64_t FieldType::getNumFeatures() const {
  return getNumElements(getShape());
}

FieldType FieldType::withKind(FieldKind kind) const {
  return FieldType::get(getContext(), kind, getShape(), getElementType());
}

FieldType FieldType::withShape(ArrayRef<int64_t> shape) const {
  return FieldType::get(getContext(), getKind(), shape, getElementType());
}

//===----------------------------------------------------------------------===//
// Helpers over all value types
//===----------------------------------------------------------------------===//

ArrayRef<int64_t> grade::getFeatureShape(Type type) {
  if (auto field = dyn_cast<FieldType>(type))
    return field.getShape();
  if (auto tensor = dyn_cast<RankedTensorType>(type))
    return tensor.getShape();
  return {};
}

Type grade::getElementTypeOf(Type type) {
  if (auto field = dyn_cast<FieldType>(type))
    return field.getElementType();
  if (auto tensor = dyn_cast<RankedTensorType>(type))
    return tensor.getElementType();
  if (isa<FloatType>(type))
    return type;
  return {};
}

std::optional<FieldKind> grade::getFieldKind(Type type) {
  if (auto field = dyn_cast<FieldType>(type))
    return field.getKind();
  return std::nullopt;
}

int64_t grade::getNumElements(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t dim : shape)
    n *= dim;
  return n;
}

Type grade::makeValueType(std::optional<FieldKind> kind,
                          ArrayRef<int64_t> shape, Type elementType) {
  if (kind)
    return FieldType::get(elementType.getContext(), *kind, shape, elementType);
  if (shape.empty())
    return elementType;
  return RankedTensorType::get(shape, elementType);
}

std::string grade::formatShape(ArrayRef<int64_t> shape) {
  std::string result = "[";
  for (auto [i, dim] : llvm::enumerate(shape)) {
    if (i)
      result += ", ";
    result += std::to_string(dim);
  }
  return result + "]";
}
