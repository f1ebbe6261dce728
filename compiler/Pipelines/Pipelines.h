//===- Pipelines.h - the named stages of gradec -----------------*- C++ -*-===//
//
// Every intermediate form gradec produces has a name, a description and a
// pass pipeline that builds it from the previous one. The same pipelines are
// registered with grade-opt, so any stage can be reproduced from the
// previous stage's output.
//
//===----------------------------------------------------------------------===//

#ifndef GRADE_COMPILER_PIPELINES_PIPELINES_H
#define GRADE_COMPILER_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <optional>

namespace grade {

/// Output stages of gradec in pipeline order.
enum class Stage {
  AST,         ///< the parsed AST with source locations
  Grade,       ///< the grade dialect as MLIRGen writes it
  GradeOpt,    ///< after graph-calculus rewrites and scheme expansion
  Kernels,     ///< the kernel plan: gk.func, gk.entry
  Lowered,     ///< fused kernels: func/scf/memref/arith/math
  LLVMDialect, ///< the LLVM dialect
  LLVM,        ///< optimised LLVM IR
  Asm,         ///< host assembly
  Object,      ///< host object file
  Header,      ///< the C header of the generated library
  SharedLib,   ///< the shared library (default)
};

struct StageInfo {
  Stage stage;
  llvm::StringLiteral name;
  llvm::StringLiteral description;
};

/// All stages, in order.
llvm::ArrayRef<StageInfo> getStages();

/// The stage called `name`, if any.
std::optional<Stage> parseStage(llvm::StringRef name);

/// grade -> grade: softmax expansion, graph-calculus identities, scheme
/// expansion, canonicalisation and CSE.
void buildGradeOptPipeline(mlir::OpPassManager &pm);

/// grade (with a step) -> gk: kernel formation, edge passes, buffers,
/// entry points.
void buildKernelPipeline(mlir::OpPassManager &pm);

/// gk -> loops: the CPU transcription of the plan.
void buildLoweringPipeline(mlir::OpPassManager &pm);

/// loops -> LLVM dialect: descriptor, OpenMP, standard conversions.
void buildLLVMPipeline(mlir::OpPassManager &pm);

/// Registers the grade passes and the three pipelines above with the pass
/// registry (`grade-opt-pipeline`, `grade-lowering-pipeline`,
/// `grade-llvm-pipeline`).
void registerGradePassesAndPipelines();

} // namespace grade

#endif // GRADE_COMPILER_PIPELINES_PIPELINES_H
