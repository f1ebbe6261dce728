//===- Descriptor.cpp - the model descriptor blob -------------------------===//

#include "dialects/Conversion/GradeToLLVM/Descriptor.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>

using namespace mlir;
using namespace grade;

/// A double as a C99 hexadecimal float: exact, and strtod reads it back.
static std::string hexFloat(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%a", value);
  return buffer;
}

static StringRef dtypeName(Type type) { return type.isF32() ? "f32" : "f64"; }

FailureOr<std::string> grade::buildDescriptorBlob(ModelOp model) {
  if (model.getInitOp() || model.getRhsOp() || model.getStepOp())
    return model.emitOpError(
        "must be lowered (convert-grade-to-loops) before its descriptor is "
        "built");
  SolveOp solve = model.getSolveOp();
  if (!solve)
    return model.emitOpError("has no 'grade.solve'");
  std::string blob;
  llvm::raw_string_ostream os(blob);
  TableauAttr scheme = solve.getScheme();
  os << "grade-model-blob 1\n";
  os << "name " << model.getSymName() << "\n";
  os << "source " << (model.getSource() ? *model.getSource() : "") << "\n";
  os << "scheme " << scheme.getName() << " " << scheme.getOrder() << " "
     << scheme.getNumStages() << "\n";
  os << "time " << hexFloat(solve.getT0().convertToDouble()) << " "
     << hexFloat(solve.getT1().convertToDouble()) << " "
     << hexFloat(solve.getDt().convertToDouble()) << "\n";
  std::optional<Type> weights = model.getGraphOp().getWeightType();
  os << "weights " << (weights ? dtypeName(*weights) : "none") << "\n";

  llvm::StringMap<int> slotOf;
  int slot = 3;
  for (DeclOp decl : model.getDecls()) {
    Type type = decl.getType();
    std::optional<FieldKind> kind = getFieldKind(type);
    ArrayRef<int64_t> shape = getFeatureShape(type);
    os << "slot " << slot << " " << decl.getSymName() << " "
       << stringifyRole(decl.getRole()) << " "
       << (kind ? stringifyFieldKind(*kind) : "global") << " "
       << dtypeName(getElementTypeOf(type)) << " " << shape.size();
    for (int64_t dim : shape)
      os << " " << dim;
    os << " " << (decl.getOutput() ? 1 : 0) << "\n";
    slotOf[decl.getSymName()] = slot++;
  }
  if (ArrayAttr outputs = model.getRhsOutputsAttr()) {
    SmallVector<DeclOp> states = model.getStates();
    if (states.size() != outputs.size())
      return model.emitOpError("'rhs_outputs' does not match the states");
    for (auto [state, output] : llvm::zip(states, outputs))
      os << "rhs_out " << slotOf[state.getSymName()] << " "
         << slotOf[cast<FlatSymbolRefAttr>(output).getValue()] << "\n";
  }
  if (ArrayAttr swaps = model.getSwapsAttr())
    for (Attribute swap : swaps) {
      auto pair = cast<ArrayAttr>(swap);
      os << "swap " << slotOf[cast<FlatSymbolRefAttr>(pair[0]).getValue()]
         << " " << slotOf[cast<FlatSymbolRefAttr>(pair[1]).getValue()] << "\n";
    }
  os << "end\n";
  return blob;
}
