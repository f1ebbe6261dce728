//===- Pipelines.cpp - the named stages of gradec -------------------------===//

#include "compiler/Pipelines/Pipelines.h"

#include "dialects/Conversion/Passes.h"
#include "dialects/GK/Transforms/Passes.h"
#include "dialects/Grade/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace grade;

static const StageInfo kStages[] = {
    {Stage::AST, "ast", "the parsed AST with source locations"},
    {Stage::Grade, "grade", "the grade dialect as written by the frontend"},
    {Stage::GradeOpt, "grade-opt",
     "grade after graph-calculus rewrites and scheme expansion"},
    {Stage::Kernels, "kernels",
     "the kernel plan (gk): fusion, edge passes, buffers, entry points"},
    {Stage::Lowered, "lowered",
     "fused kernels as loops over the CSR structure (scf/memref)"},
    {Stage::LLVMDialect, "llvm-mlir", "the LLVM dialect"},
    {Stage::LLVM, "llvm", "optimised LLVM IR for the host CPU"},
    {Stage::Asm, "asm", "host assembly"},
    {Stage::Object, "obj", "host object file"},
    {Stage::Header, "header", "the C header of the generated library"},
    {Stage::SharedLib, "so", "the shared library (default)"},
};

ArrayRef<StageInfo> grade::getStages() { return kStages; }

std::optional<Stage> grade::parseStage(StringRef name) {
  for (const StageInfo &info : kStages)
    if (info.name == name)
      return info.stage;
  return std::nullopt;
}

void grade::buildGradeOptPipeline(OpPassManager &pm) {
  pm.addPass(createExpandSoftmax());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createSimplifyGraphCalculus());
  pm.addPass(createCSEPass());
  pm.addPass(createExpandScheme());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void grade::buildKernelPipeline(OpPassManager &pm) {
  pm.addPass(createFormKernels());
  pm.addPass(gk::createScheduleEdgePasses());
  pm.addPass(gk::createAllocateBuffers());
  pm.addPass(gk::createLowerEntryPoints());
}

void grade::buildLoweringPipeline(OpPassManager &pm) {
  pm.addPass(createConvertGKToSCF());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void grade::buildLLVMPipeline(OpPassManager &pm) {
  pm.addPass(createConvertGradeToLLVM());
  pm.addPass(createConvertSCFToOpenMPPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  // Before scf-to-cf: the OpenMP conversion wraps loop bodies in
  // memref.alloca_scope, which must be lowered while it has one block.
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createEmitDescriptor());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
}

void grade::registerGradePassesAndPipelines() {
  registerGradeTransformsPasses();
  registerGradeConversionPasses();
  gk::registerGKTransformsPasses();
  PassPipelineRegistration<>(
      "grade-kernel-pipeline",
      "kernel formation, edge passes, buffers and entry points (gk)",
      buildKernelPipeline);
  // Today's loops from grade in one flag: the kernel plan, then the loops.
  PassPipelineRegistration<>(
      "convert-grade-to-loops",
      "grade-kernel-pipeline followed by convert-gk-to-scf",
      [](OpPassManager &pm) {
        buildKernelPipeline(pm);
        pm.addPass(createConvertGKToSCF());
      });
  PassPipelineRegistration<>("grade-opt-pipeline",
                             "graph-calculus rewrites and scheme expansion",
                             buildGradeOptPipeline);
  PassPipelineRegistration<>("grade-lowering-pipeline",
                             "kernel formation into CSR loop nests",
                             buildLoweringPipeline);
  PassPipelineRegistration<>("grade-llvm-pipeline",
                             "lowering of kernels to the LLVM dialect",
                             buildLLVMPipeline);
}
