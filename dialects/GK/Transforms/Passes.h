//===- Passes.h - passes on the gk dialect ----------------------*- C++ -*-===//

#ifndef GRADE_DIALECTS_GK_TRANSFORMS_PASSES_H
#define GRADE_DIALECTS_GK_TRANSFORMS_PASSES_H

#include "dialects/GK/IR/GKOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace grade::gk {

#define GEN_PASS_DECL
#include "dialects/GK/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "dialects/GK/Transforms/Passes.h.inc"

} // namespace grade::gk

#endif // GRADE_DIALECTS_GK_TRANSFORMS_PASSES_H
