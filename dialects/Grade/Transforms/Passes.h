//===- Passes.h - passes on the grade dialect -------------------*- C++ -*-===//

#ifndef GRADE_DIALECTS_GRADE_TRANSFORMS_PASSES_H
#define GRADE_DIALECTS_GRADE_TRANSFORMS_PASSES_H

#include "dialects/Grade/IR/GradeOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace grade {

#define GEN_PASS_DECL
#include "dialects/Grade/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "dialects/Grade/Transforms/Passes.h.inc"

} // namespace grade

#endif // GRADE_DIALECTS_GRADE_TRANSFORMS_PASSES_H
