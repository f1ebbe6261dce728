//===- Passes.h - conversions out of the grade dialect ----------*- C++ -*-===//

#ifndef GRADE_DIALECTS_CONVERSION_PASSES_H
#define GRADE_DIALECTS_CONVERSION_PASSES_H

#include "dialects/GK/IR/GKOps.h"
#include "dialects/Grade/IR/GradeOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Pass/Pass.h"

namespace grade {

#define GEN_PASS_DECL
#include "dialects/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "dialects/Conversion/Passes.h.inc"

} // namespace grade

#endif // GRADE_DIALECTS_CONVERSION_PASSES_H
