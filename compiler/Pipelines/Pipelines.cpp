//===- Pipelines.cpp - the named stages of gradec -------------------------===//

#include "compiler/Pipelines/Pipelines.h"

#include "dialects/Conversion/Passes.h"
#include "dialects/GK/Transforms/Passes.h"
#include "dialects/Grade/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
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
    {Stage::GPU, "gpu",
     "cuda: kernels as gpu.func, one thread per node, and their launches"},
    {Stage::NVVM, "nvvm", "cuda: the GPU kernels in the NVVM dialect"},
    {Stage::PTX, "ptx", "cuda: the PTX of each GPU architecture"},
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
  Option<std::string> target{
      *this, "target",
      llvm::cl::desc("the machines to compile for: cpu (default), cuda, "
                     "cuda:sm_XX, or a list (cpu,cuda:sm_80,sm_90)"),
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
  Option<bool> cacheEdgeValues{
      *this, "cache-edge-values",
      llvm::cl::desc("keep costly edge values that later passes over a "
                     "node's in-edges read again (cpu)"),
      llvm::cl::init(true)};
  Option<std::string> cpuSchedule{
      *this, "cpu-schedule",
      llvm::cl::desc("how the CPU splits a kernel's nodes among threads: "
                     "auto (default), nodes or balanced"),
      llvm::cl::init("auto")};
  Option<unsigned> wideVectors{
      *this, "wide-vectors",
      llvm::cl::desc("vector bits for kernels that multiply long matrix "
                     "rows: 512, or 0 (default) for none (cpu)"),
      llvm::cl::init(0)};
  Option<unsigned> indexBits{
      *this, "index-bits",
      llvm::cl::desc("width of the node numbers in the graph arrays: 32 "
                     "(default) or 64"),
      llvm::cl::init(32)};
};
} // namespace

LogicalResult grade::parseVectorWidth(StringRef text, unsigned &bits,
                                      std::string &error) {
  if (text == "auto") {
    bits = 0;
    return success();
  }
  if (text == "128" || text == "256" || text == "512") {
    bits = unsigned(std::stoul(text.str()));
    return success();
  }
  error = "unknown vector width '" + text.str() +
          "' (expected auto, 128, 256 or 512)";
  return failure();
}

/// The GPU architectures LLVM 22's NVPTX backend writes PTX for.
static const llvm::StringLiteral kChips[] = {
    "sm_50",  "sm_52",  "sm_53",   "sm_60",  "sm_61",  "sm_62",  "sm_70",
    "sm_72",  "sm_75",  "sm_80",   "sm_86",  "sm_87",  "sm_89",  "sm_90",
    "sm_90a", "sm_100", "sm_100a", "sm_101", "sm_120", "sm_120a"};

/// The architecture of a bare `cuda`: PTX for sm_80 runs on every GPU since
/// the A100 (the driver compiles it for the device at load time).
static constexpr llvm::StringLiteral kDefaultChip = "sm_80";

LogicalResult grade::parseTargets(StringRef text, PipelineOptions &options,
                                  std::string &error) {
  bool cpu = false;
  SmallVector<std::string, 2> chips;
  bool inCuda = false;
  auto addChip = [&](StringRef chip) {
    if (!llvm::is_contained(kChips, chip)) {
      error = "unknown GPU architecture '" + chip.str() + "' (known: ";
      for (StringRef known : kChips)
        error += (known == kChips[0] ? "" : ", ") + known.str();
      error += ")";
      return false;
    }
    if (!llvm::is_contained(chips, chip))
      chips.push_back(chip.str());
    return true;
  };
  SmallVector<StringRef> items;
  text.split(items, ',');
  for (StringRef item : items) {
    item = item.trim();
    if (item.empty())
      continue;
    if (item == "cpu") {
      cpu = true;
      inCuda = false;
    } else if (item == "cuda") {
      inCuda = true;
      if (!addChip(kDefaultChip))
        return failure();
    } else if (item.consume_front("cuda:")) {
      inCuda = true;
      if (!addChip(item))
        return failure();
    } else if (inCuda && item.starts_with("sm_")) {
      if (!addChip(item))
        return failure();
    } else {
      error = "unknown target '" + item.str() +
              "' (known: cpu, cuda, cuda:sm_XX; a list such as "
              "cpu,cuda:sm_80,sm_90)";
      return failure();
    }
  }
  options.cpu = cpu;
  options.cudaChips = std::move(chips);
  return success();
}

std::string grade::stringifyTargets(const PipelineOptions &options) {
  std::string text = options.cpu ? "cpu" : "";
  for (auto [index, chip] : llvm::enumerate(options.cudaChips))
    text += (index ? "," : (text.empty() ? "cuda:" : ",cuda:")) + chip;
  return text;
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
  if (failed(parseTargets(parsed.target.getValue(), options, error)))
    return failure();
  options.optLevel = parsed.optLevel;
  options.prefetch = parsed.prefetch;
  options.cacheEdgeValues = parsed.cacheEdgeValues;
  options.indexBits = parsed.indexBits;
  options.cpuSchedule = parsed.cpuSchedule;
  options.wideVectorBits = parsed.wideVectors;
  return success();
}

LogicalResult grade::checkPipelineOptions(const PipelineOptions &options,
                                          std::string &error) {
  if (!options.cpu && options.cudaChips.empty()) {
    error = "no target to compile for (give cpu, cuda or both)";
    return failure();
  }
  if (options.optLevel > 3) {
    error = "optimisation level " + std::to_string(options.optLevel) +
            " is out of range (0 to 3)";
    return failure();
  }
  if (options.cpuSchedule != "auto" && options.cpuSchedule != "nodes" &&
      options.cpuSchedule != "balanced") {
    error = "unknown CPU schedule '" + options.cpuSchedule +
            "' (expected auto, nodes or balanced)";
    return failure();
  }
  if (options.vectorBits != 0 && options.vectorBits != 128 &&
      options.vectorBits != 256 && options.vectorBits != 512) {
    error = "vectors of " + std::to_string(options.vectorBits) +
            " bits are not supported (128, 256 or 512)";
    return failure();
  }
  if (options.wideVectorBits != 0 && options.wideVectorBits != 512) {
    error = "wide vectors of " + std::to_string(options.wideVectorBits) +
            " bits are not supported (512, or 0 for none)";
    return failure();
  }
  if (options.indexBits != 32 && options.indexBits != 64) {
    error = "node indices of " + std::to_string(options.indexBits) +
            " bits are not supported (32 or 64)";
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

void grade::buildKernelPipeline(OpPassManager &pm,
                                const PipelineOptions &options) {
  // An implicit scheme's solves run their arithmetic where the kernels run.
  pm.addPass(createGenerateVectorOps());
  pm.addPass(createFormKernels());
  pm.addPass(gk::createScheduleEdgePasses());
  pm.addPass(gk::createAllocateBuffers());
  pm.addPass(gk::createCheckFinite());
  gk::ChooseScheduleOptions schedule;
  schedule.schedule = options.cpuSchedule;
  schedule.wideVectors = options.wideVectorBits;
  pm.addPass(gk::createChooseSchedule(schedule));
  pm.addPass(gk::createLowerEntryPoints());
}

void grade::buildLoweringPipeline(OpPassManager &pm,
                                  const PipelineOptions &options) {
  ConvertGKToSCFOptions scf;
  scf.prefetch = options.prefetch;
  scf.cacheEdgeValues = options.cacheEdgeValues;
  scf.indexBits = options.indexBits;
  scf.cpu = options.cpu;
  scf.cuda = !options.cudaChips.empty();
  pm.addPass(createConvertGKToSCF(scf));
  // Function by function, on as many threads as MLIR's context has: the
  // time of a large model divides by the number of cores.
  OpPassManager &function = pm.nest<func::FuncOp>();
  function.addPass(createCanonicalizerPass());
  function.addPass(createCSEPass());
}

void grade::buildGPUPipeline(OpPassManager &pm,
                             const PipelineOptions &options) {
  for (const std::string &chip : options.cudaChips) {
    GpuNVVMAttachTargetOptions target;
    target.chip = chip;
    target.optLevel = options.optLevel;
    target.moduleMatcher = kGpuModuleName.str();
    pm.addPass(createGpuNVVMAttachTarget(target));
  }
  OpPassManager &device = pm.nest<gpu::GPUModuleOp>();
  device.addPass(createSCFToControlFlowPass());
  device.addPass(createConvertGpuOpsToNVVMOps());
  device.addPass(createReconcileUnrealizedCastsPass());
  device.addPass(createAnnotateGPUKernels());
}

void grade::buildPTXPipeline(OpPassManager &pm,
                             const PipelineOptions &options) {
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = "isa"; // PTX text, compiled by the driver
  binary.toolkitPath = options.cudaPath;
  pm.addPass(createGpuModuleToBinaryPass(binary));
}

void grade::buildLLVMPipeline(OpPassManager &pm,
                              const PipelineOptions &options) {
  pm.addPass(createConvertGradeToLLVM());
  pm.addPass(createParallelToOpenMP());
  pm.addPass(createConvertSCFToOpenMPPass());
  // The conversions that need nothing outside a function run function by
  // function, in parallel.
  pm.nest<func::FuncOp>().addPass(memref::createExpandStridedMetadataPass());
  // Before scf-to-cf: the OpenMP conversion wraps loop bodies in
  // memref.alloca_scope, which must be lowered while it has one block.
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  OpPassManager &function = pm.nest<func::FuncOp>();
  function.addPass(createSCFToControlFlowPass());
  function.addPass(createArithToLLVMConversionPass());
  function.addPass(createConvertMathToLLVMPass());
  function.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  // cuda: the entries' launches and shared allocations as calls of the
  // runtime's mgpu* functions (grade_gpu_hooks_t).
  if (!options.cudaChips.empty())
    pm.addPass(createGpuToLLVMConversionPass());
  pm.addPass(createEmitDescriptor());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.nest<LLVM::LLVMFuncOp>().addPass(createCanonicalizerPass());
}

void grade::buildGradePipeline(OpPassManager &pm,
                               const PipelineOptions &options) {
  buildGradeOptPipeline(pm);
  buildKernelPipeline(pm, options);
  buildLoweringPipeline(pm, options);
  if (!options.cudaChips.empty()) {
    pm.addPass(createConvertKernelsToGPU());
    buildGPUPipeline(pm, options);
    buildPTXPipeline(pm, options);
  }
  buildLLVMPipeline(pm, options);
}

void grade::registerGradePassesAndPipelines() {
  registerGradeTransformsPasses();
  registerGradeConversionPasses();
  gk::registerGKTransformsPasses();
  PassPipelineRegistration<>(
      "grade-kernel-pipeline",
      "kernel formation, edge passes, buffers and entry points (gk)",
      [](OpPassManager &pm) { buildKernelPipeline(pm); });
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
                             [](OpPassManager &pm) { buildLLVMPipeline(pm); });
  // Registered by hand rather than through PassPipelineRegistration so that
  // a bad target list is an error with a reason, not a crash.
  registerPassPipeline(
      "grade-pipeline",
      "grade to the LLVM dialect for the targets (options: "
      "target=cpu|cuda|cuda:sm_XX|a list, opt-level=0..3, "
      "index-bits=32|64)",
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
