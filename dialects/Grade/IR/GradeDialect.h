//===- GradeDialect.h - the grade dialect -----------------------*- C++ -*-===//
//
// Declares the `grade` dialect. Include GradeOps.h for its operations and
// types.
//
//===----------------------------------------------------------------------===//

#ifndef GRADE_DIALECTS_GRADE_IR_GRADEDIALECT_H
#define GRADE_DIALECTS_GRADE_IR_GRADEDIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Dialect.h"

#include "dialects/Grade/IR/GradeOpsDialect.h.inc"

#endif // GRADE_DIALECTS_GRADE_IR_GRADEDIALECT_H
