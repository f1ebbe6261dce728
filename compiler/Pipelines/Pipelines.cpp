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

//===----------------------------------------------------------------------===//
// Options
//===----------------------------------------------------------------------===//

namespace {
/// PipelineOptions as MLIR's textual pipeline options, for parsing.
struct TextualOptions : public PassPipelineOptions<TextualOptions> {
  Option<std::string> target{*this, "target",
                             llvm::cl::desc("the machine to compile for: "
                                            "cpu (default) or cuda"),
                             llvm::cl::init("cpu")};
  Option<unsigned> optLevel{
      *this, "opt-level",
      llvm::cl::desc("LLVM optimisation level of the generated code, 0 to 3"),
      llvm::cl::init(3)};
  Option<bool> prefetch{
      *this, "prefetch",
      llvm::cl::desc("prefetch the rows read at the other end of the edges "
                     "(cpu)"),
      llvm::cl::init(true)};
};
} // namespace

static const Target kTargets[] = {Target::CPU, Target::CUDA};

StringRef grade::stringifyTarget(Target target) {
  switch (target) {
  case Target::CPU:
    return "cpu";
  case Target::CUDA:
    return "cuda";
  }
  llvm_unreachable("unknown target");
}

LogicalResult grade::parsePipelineOptions(StringRef text,
                                          PipelineOptions &options,
                                          std::string &error) {
  TextualOptions parsed;
  std::string parseErrors;
  llvm::raw_string_ostream errorStream(parseErrors);
  if (failed(parsed.parseFromString(text, errorStream))) {
    error = "invalid pipeline options '" + text.str() + "'";
    if (!parseErrors.empty())
      error += ": " + StringRef(parseErrors).trim().str();
    return failure();
  }
  std::optional<Target> target;
  for (Target known : kTargets)
    if (stringifyTarget(known) == parsed.target.getValue())
      target = known;
  if (!target) {
    error = "unknown target '" + parsed.target.getValue() + "' (known: ";
    for (Target known : kTargets)
      error +=
          (known == kTargets[0] ? "" : ", ") + stringifyTarget(known).str();
    error += ")";
    return failure();
  }
  options.target = *target;
  options.optLevel = parsed.optLevel;
  options.prefetch = parsed.prefetch;
  return success();
}

LogicalResult grade::checkPipelineOptions(const PipelineOptions &options,
                                          std::string &error) {
  if (options.target != Target::CPU) {
    error = "target '" + stringifyTarget(options.target).str() +
            "' is not available in this build (available: cpu)";
    return failure();
  }
  if (options.optLevel > 3) {
    error = "optimisation level " + std::to_string(options.optLevel) +
            " is out of range (0 to 3)";
    return failure();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Pipelines
//===----------------------------------------------------------------------===//

void grade::buildGradeOptPipeline(OpPassManager &pm) {
  // Differentiated before softmax is rewritten into max-shifted reductions.
  pm.addPass(createGenerateJvp());
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
  pm.addPass(gk::createCheckFinite());
  pm.addPass(gk::createLowerEntryPoints());
}

void grade::buildLoweringPipeline(OpPassManager &pm,
                                  const PipelineOptions &options) {
  ConvertGKToSCFOptions scf;
  scf.prefetch = options.prefetch;
  pm.addPass(createConvertGKToSCF(scf));
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

void grade::buildGradePipeline(OpPassManager &pm,
                               const PipelineOptions &options) {
  assert(options.target == Target::CPU && "unchecked pipeline options");
  buildGradeOptPipeline(pm);
  buildKernelPipeline(pm);
  buildLoweringPipeline(pm, options);
  buildLLVMPipeline(pm);
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
  PassPipelineRegistration<>(
      "grade-lowering-pipeline", "the kernel plan as CPU loops (convert-gk-to-scf)",
      [](OpPassManager &pm) { buildLoweringPipeline(pm); });
  PassPipelineRegistration<>("grade-llvm-pipeline",
                             "lowering of kernels to the LLVM dialect",
                             buildLLVMPipeline);
  // Registered by hand rather than through PassPipelineRegistration so that
  // a target this build lacks is an error with a reason, not a crash.
  registerPassPipeline(
      "grade-pipeline",
      "grade to the LLVM dialect for a target (options: target=cpu|cuda, "
      "opt-level=0..3)",
      [](OpPassManager &pm, StringRef text,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        PipelineOptions options;
        std::string error;
        if (failed(parsePipelineOptions(text, options, error)) ||
            failed(checkPipelineOptions(options, error)))
          return errorHandler(error);
        buildGradePipeline(pm, options);
        return success();
      },
      [](function_ref<void(const mlir::detail::PassOptions &)> optionHandler) {
        optionHandler(TextualOptions());
      });
}
