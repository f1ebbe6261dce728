//===- GradeTyping.cpp - the typing rules of the grade value ops ----------===//
//
// See GradeTyping.h. The messages are the dialect's wording; Sema rewords
// them by rule, so a new rule needs a case there too (the compiler's
// -Wswitch points at it).
//
//===----------------------------------------------------------------------===//

#include "dialects/Grade/IR/GradeTyping.h"

#include "dialects/Grade/IR/GradeTypes.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace grade;

/// Sets `error` (if given) and returns failure.
static FailureOr<Type> fail(TypeError *error, TypeRule rule,
                            const Twine &message) {
  if (error) {
    error->rule = rule;
    error->message = message.str();
  }
  return failure();
}

/// A type as diagnostics print it: '!grade.field<node, f64>'.
static std::string quote(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "'" << type << "'";
  return text;
}

static std::string print(Type type) {
  std::string text;
  llvm::raw_string_ostream(text) << type;
  return text;
}

/// `input` must be a field of kind `kind`; gives it with kind `resultKind`.
static FailureOr<Type> changeKind(Type input, FieldKind kind,
                                  FieldKind resultKind, TypeError *error) {
  auto field = dyn_cast<FieldType>(input);
  if (!field || field.getKind() != kind)
    return fail(error,
                kind == FieldKind::node ? TypeRule::NeedsNodeField
                                        : TypeRule::NeedsEdgeField,
                Twine("operand must be ") +
                    (kind == FieldKind::node ? "a node" : "an edge") +
                    " field, got " + quote(input));
  return Type(field.withKind(resultKind));
}

FailureOr<Type> grade::inferGatherType(Type input, TypeError *error) {
  return changeKind(input, FieldKind::node, FieldKind::edge, error);
}

FailureOr<Type> grade::inferReduceType(Type input, TypeError *error) {
  return changeKind(input, FieldKind::edge, FieldKind::node, error);
}

FailureOr<Type> grade::inferSoftmaxType(Type input, TypeError *error) {
  return changeKind(input, FieldKind::edge, FieldKind::edge, error);
}

FailureOr<Type> grade::inferNonEmptyType(Type input, TypeError *error) {
  return changeKind(input, FieldKind::node, FieldKind::node, error);
}

FailureOr<Type> grade::inferReduceAllType(Type input, TypeError *error) {
  auto field = dyn_cast<FieldType>(input);
  if (!field)
    return fail(error, TypeRule::NeedsField,
                "operand must be a node or edge field, got " + quote(input));
  return makeValueType(std::nullopt, field.getShape(), field.getElementType());
}

FailureOr<Type> grade::inferUnaryType(Type input, TypeError *error) {
  if (!getElementTypeOf(input))
    return fail(error, TypeRule::NotAValue,
                "operand must be a field, float or float tensor, got " +
                    quote(input));
  return input;
}

FailureOr<Type> grade::inferBinaryType(Type lhs, Type rhs, TypeError *error) {
  std::optional<FieldKind> lhsKind = getFieldKind(lhs),
                           rhsKind = getFieldKind(rhs);
  if (lhsKind && rhsKind && *lhsKind != *rhsKind)
    return fail(error, TypeRule::KindMismatch,
                "cannot combine a node field with an edge field");
  Type lhsElem = getElementTypeOf(lhs), rhsElem = getElementTypeOf(rhs);
  if (!lhsElem || !rhsElem)
    return fail(error, TypeRule::NotAValue,
                "operands must be fields, floats or float tensors");
  ArrayRef<int64_t> lhsShape = getFeatureShape(lhs),
                    rhsShape = getFeatureShape(rhs);
  // A matrix is an operand of products (grade.contract), not something to
  // broadcast a field over.
  for (auto [global, field] : {std::pair(lhs, rhs), std::pair(rhs, lhs)})
    if (!getFieldKind(global) && getFieldKind(field) &&
        getFeatureShape(global).size() >= 2 &&
        getFeatureShape(global) != getFeatureShape(field))
      return fail(error, TypeRule::MatrixBroadcast,
                  "a global matrix " + formatShape(getFeatureShape(global)) +
                      " combines with a field only of its own feature "
                      "shape, got " +
                      formatShape(getFeatureShape(field)));
  if (lhsElem != rhsElem)
    return fail(error, TypeRule::ElementMismatch,
                "element types differ: " + print(lhsElem) + " and " +
                    print(rhsElem));
  ArrayRef<int64_t> shape;
  if (lhsShape == rhsShape || rhsShape.empty())
    shape = lhsShape;
  else if (lhsShape.empty())
    shape = rhsShape;
  else
    return fail(error, TypeRule::ShapeMismatch,
                "feature shapes " + formatShape(lhsShape) + " and " +
                    formatShape(rhsShape) + " do not broadcast");
  return makeValueType(lhsKind ? lhsKind : rhsKind, shape, lhsElem);
}

static bool isIndexLetter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

std::optional<ContractSpec> ContractSpec::get(StringRef spec,
                                              TypeRange inputs,
                                              TypeError *error) {
  auto bad = [&](const Twine &why) -> std::optional<ContractSpec> {
    (void)fail(error, TypeRule::ContractSpec, why);
    return std::nullopt;
  };
  auto [lhs, output] = spec.split("->");
  if (lhs.size() == spec.size() || output.contains(','))
    return bad("spec '" + spec +
               "' must have the form '<inputs>-><output>', e.g. 'ij,j->i'");
  for (char c : lhs.str() + output.str())
    if (!isIndexLetter(c) && c != ',')
      return bad("spec '" + spec + "': '" + Twine(c) +
                 "' is not an index letter (a-z, A-Z)");
  if (inputs.empty())
    return bad("needs at least one operand");

  ContractSpec result;
  SmallVector<StringRef> subscripts;
  lhs.split(subscripts, ',');
  if (subscripts.size() != inputs.size())
    return bad("spec '" + spec + "' has " + Twine(subscripts.size()) +
               " input subscript" + (subscripts.size() == 1 ? "" : "s") +
               " for " + Twine(inputs.size()) + " operand" +
               (inputs.size() == 1 ? "" : "s"));
  // The operand where each letter was first seen (for messages).
  std::array<int, 128> firstOperand;
  firstOperand.fill(-1);
  for (auto [index, subscript, type] : llvm::enumerate(subscripts, inputs)) {
    ArrayRef<int64_t> shape = getFeatureShape(type);
    if (subscript.size() != shape.size())
      return bad("subscript '" + subscript + "' of operand #" + Twine(index) +
                 " names " + Twine(subscript.size()) +
                 " feature axes, but the operand has feature shape " +
                 formatShape(shape));
    for (auto [letter, size] : llvm::zip(subscript, shape)) {
      unsigned char at = letter;
      if (firstOperand[at] < 0) {
        firstOperand[at] = index;
        result.sizes[at] = size;
      } else if (result.sizes[at] != size) {
        return bad("index '" + Twine(letter) + "' has size " +
                   Twine(result.sizes[at]) + " in operand #" +
                   Twine(firstOperand[at]) + " and size " + Twine(size) +
                   " in operand #" + Twine(index));
      }
    }
    result.inputs.push_back(subscript.str());
  }
  for (auto [position, letter] : llvm::enumerate(output)) {
    if (output.find(letter) != position)
      return bad("output index '" + Twine(letter) + "' appears twice in '" +
                 output + "'");
    if (firstOperand[(unsigned char)letter] < 0)
      return bad("output index '" + Twine(letter) + "' appears in no input");
  }
  result.output = output.str();
  for (const std::string &subscript : result.inputs)
    for (char letter : subscript)
      if (!output.contains(letter) &&
          result.reduced.find(letter) == std::string::npos)
        result.reduced.push_back(letter);
  return result;
}

FailureOr<Type> grade::inferContractType(StringRef spec, TypeRange inputs,
                                         TypeError *error) {
  std::optional<ContractSpec> parsed = ContractSpec::get(spec, inputs, error);
  if (!parsed)
    return failure();
  std::optional<FieldKind> kind;
  int kindOperand = -1;
  Type elem;
  auto article = [](FieldKind k) {
    return k == FieldKind::edge ? "an edge" : "a node";
  };
  for (auto [index, type] : llvm::enumerate(inputs)) {
    Type operandElem = getElementTypeOf(type);
    if (!operandElem)
      return fail(error, TypeRule::NotAValue,
                  "operand #" + Twine(index) +
                      " must be a field, float or float tensor, got " +
                      quote(type));
    if (!elem)
      elem = operandElem;
    else if (operandElem != elem)
      return fail(error, TypeRule::ElementMismatch,
                  "element types differ: " + print(elem) +
                      " (operand #0) and " + print(operandElem) +
                      " (operand #" + Twine(index) + ")");
    std::optional<FieldKind> operandKind = getFieldKind(type);
    if (!operandKind)
      continue;
    if (kind && *kind != *operandKind)
      return fail(error, TypeRule::KindMismatch,
                  "cannot contract " + Twine(article(*kind)) +
                      " field (operand #" + Twine(kindOperand) + ") with " +
                      article(*operandKind) + " field (operand #" +
                      Twine(index) +
                      "); gather the node field along the edges first");
    if (!kind) {
      kind = operandKind;
      kindOperand = index;
    }
  }
  if (!kind)
    return fail(error, TypeRule::ContractOfGlobals,
                "one operand must be a node or edge field (a contraction of "
                "globals only is not supported)");
  SmallVector<int64_t> shape;
  for (char letter : parsed->output)
    shape.push_back(parsed->size(letter));
  return makeValueType(kind, shape, elem);
}

FailureOr<Type> grade::inferDotType(Type lhs, Type rhs, TypeError *error) {
  ArrayRef<int64_t> lhsShape = getFeatureShape(lhs),
                    rhsShape = getFeatureShape(rhs);
  if (lhsShape.size() != 1 || lhsShape != rhsShape)
    return fail(error, TypeRule::DotShapes,
                "operands must have equal rank-1 feature shapes, got " +
                    formatShape(lhsShape) + " and " + formatShape(rhsShape));
  if (!getFieldKind(lhs) && !getFieldKind(rhs))
    return fail(error, TypeRule::DotOfGlobals,
                "one operand must be a node or edge field (a dot product of "
                "two globals is not supported)");
  FailureOr<Type> type = inferBinaryType(lhs, rhs, error);
  if (failed(type))
    return failure();
  return makeValueType(getFieldKind(*type), {}, getElementTypeOf(*type));
}

FailureOr<Type> grade::inferMatmulType(Type input, Type matrix,
                                       TypeError *error) {
  auto field = dyn_cast<FieldType>(input);
  if (!field || field.getShape().size() != 1)
    return fail(error, TypeRule::MatmulInput,
                "input must be a node or edge field of vectors, got " +
                    quote(input));
  auto tensor = dyn_cast<RankedTensorType>(matrix);
  if (!tensor || tensor.getRank() != 2)
    return fail(error, TypeRule::MatmulMatrix,
                "matrix must be a global rank-2 tensor, got " + quote(matrix));
  if (field.getShape()[0] != tensor.getDimSize(0))
    return fail(error, TypeRule::MatmulShapes,
                "shapes do not multiply: " + formatShape(field.getShape()) +
                    " @ " + formatShape(tensor.getShape()));
  if (field.getElementType() != tensor.getElementType())
    return fail(error, TypeRule::ElementMismatch,
                "element types of field and matrix differ: " +
                    print(field.getElementType()) + " and " +
                    print(tensor.getElementType()));
  return Type(field.withShape({tensor.getDimSize(1)}));
}

FailureOr<Type> grade::inferSelectType(Type condition, Type ifTrue,
                                       Type ifFalse, TypeError *error) {
  FailureOr<Type> values = inferBinaryType(ifTrue, ifFalse, error);
  if (failed(values))
    return failure();
  return inferBinaryType(condition, *values, error);
}

FailureOr<Type> grade::inferConcatType(TypeRange inputs, TypeError *error) {
  std::optional<FieldKind> kind;
  Type elem;
  int64_t features = 0;
  for (auto [index, input] : llvm::enumerate(inputs)) {
    Type inputElem = getElementTypeOf(input);
    if (!inputElem)
      return fail(error, TypeRule::NotAValue,
                  "operand " + std::to_string(index) +
                      " must be a field, float or float vector, got " +
                      quote(input));
    ArrayRef<int64_t> shape = getFeatureShape(input);
    if (shape.size() > 1)
      return fail(error, TypeRule::ConcatOperand,
                  "operand " + std::to_string(index) +
                      " has feature shape " + formatShape(shape) +
                      "; only scalars and vectors are concatenated");
    if (std::optional<FieldKind> inputKind = getFieldKind(input)) {
      if (kind && *kind != *inputKind)
        return fail(error, TypeRule::KindMismatch,
                    "cannot combine a node field with an edge field");
      kind = inputKind;
    }
    if (elem && elem != inputElem)
      return fail(error, TypeRule::ElementMismatch,
                  "element types differ: " + print(elem) + " and " +
                      print(inputElem));
    elem = inputElem;
    features += shape.empty() ? 1 : shape[0];
  }
  if (!kind)
    return fail(error, TypeRule::ConcatOfGlobals,
                "at least one operand must be a node or edge field");
  return makeValueType(kind, {features}, elem);
}

FailureOr<Type> grade::inferWeightType(MLIRContext *context, Type weightType,
                                       TypeError *error) {
  if (!weightType)
    return fail(error, TypeRule::NoWeights,
                "the model's graph has no edge weights");
  return Type(FieldType::get(context, FieldKind::edge, {}, weightType));
}

Type grade::getDegreeType(Type elementType) {
  return FieldType::get(elementType.getContext(), FieldKind::node, {},
                        elementType);
}
