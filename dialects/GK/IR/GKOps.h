//===- GKOps.h - the gk (kernel) dialect ------------------------*- C++ -*-===//

#ifndef GRADE_DIALECTS_GK_IR_GKOPS_H
#define GRADE_DIALECTS_GK_IR_GKOPS_H

#include "dialects/Grade/IR/GradeOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/GK/IR/GKOpsDialect.h.inc"
#include "dialects/GK/IR/GKOpsEnums.h.inc"

#define GET_OP_CLASSES
#include "dialects/GK/IR/GKOps.h.inc"

namespace grade::gk {

/// The discardable attribute of a `grade.reduce` inside a kernel: the pass
/// over edges that accumulates it (set by gk-schedule-edge-passes).
inline constexpr llvm::StringLiteral kPassAttr = "gk.pass";

/// The pass of a scheduled reduction, if any.
std::optional<int64_t> getEdgePass(ReduceOp reduce);

/// The buffer that holds `value` in the region or entry that defines it: the
/// declaration a `grade.load` reads, or the buffer a kernel (or launched
/// kernel) writes the result to. Null if not decided (yet) or not a field.
/// Callers that look up many launches pass `symbols` (a cache of symbol
/// tables: each lookup without one scans the module).
mlir::FlatSymbolRefAttr
getBuffer(mlir::Value value, mlir::SymbolTableCollection *symbols = nullptr);

/// The buffers a kernel or a launch writes (empty before allocation).
llvm::SmallVector<mlir::FlatSymbolRefAttr>
getWrittenBuffers(mlir::Operation *op,
                  mlir::SymbolTableCollection *symbols = nullptr);

/// The kernel a launch runs (a module-level symbol), or null.
FuncOp lookupCallee(LaunchOp launch,
                    mlir::SymbolTableCollection *symbols = nullptr);

/// The kernel's (or outlined kernel's) name for messages.
llvm::StringRef getKernelName(mlir::Operation *op);

} // namespace grade::gk

#endif // GRADE_DIALECTS_GK_IR_GKOPS_H
