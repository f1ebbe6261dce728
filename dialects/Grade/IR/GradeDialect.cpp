//===- GradeDialect.cpp - the grade dialect -------------------------------===//

#include "dialects/Grade/IR/GradeOps.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

using namespace mlir;
using namespace grade;

#include "dialects/Grade/IR/GradeOpsDialect.cpp.inc"

void GradeDialect::initialize() {
  registerTypes();
  registerAttributes();
  addOperations<
#define GET_OP_LIST
#include "dialects/Grade/IR/GradeOps.cpp.inc"
      >();
}

/// Folded scalars become arith constants; fields have no constant form.
Operation *GradeDialect::materializeConstant(OpBuilder &builder,
                                             Attribute value, Type type,
                                             Location loc) {
  auto floatAttr = dyn_cast<FloatAttr>(value);
  if (!floatAttr || floatAttr.getType() != type)
    return nullptr;
  return arith::ConstantOp::create(builder, loc, type, floatAttr);
}
