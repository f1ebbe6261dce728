//===- Compiler.cpp - grade's compile API ---------------------------------===//

#include "compiler/Driver/Compiler.h"

#include "dialects/Grade/Transforms/Passes.h"

#include "compiler/Driver/TempFile.h"
#include "compiler/Frontend/Frontend.h"
#include "compiler/MLIRGen/MLIRGen.h"
#include "compiler/Sema/Sema.h"
#include "compiler/Target/CPU.h"
#include "compiler/Target/Header.h"
#include "dialects/Conversion/Passes.h"
#include "dialects/GK/IR/GKOps.h"
#include "dialects/Grade/IR/GradeOps.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVM.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/NVVMToLLVM/NVVMToLLVM.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/Threading.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ProgramStack.h"

using namespace mlir;
using namespace grade;
using namespace grade::driver;

namespace {

/// Stack for one compilation (virtual memory; pages are touched on use):
/// expression trees may be thousands of levels deep (the frontend caps them
/// at 10000) and the frontend, sema and kernel formation recurse over them.
constexpr unsigned kCompileStackSize = 512u << 20;

/// A timer for one phase under the compilation's, or a no-op one.
TimingScope timePhase(const CompileOptions &options, StringRef name) {
  return options.timing ? options.timing->nest(name) : TimingScope();
}

LogicalResult runPipeline(ModuleOp module,
                          llvm::function_ref<void(OpPassManager &)> build,
                          const CompileOptions &options) {
  PassManager pm(module->getContext(), ModuleOp::getOperationName());
  if (options.configurePasses && failed(options.configurePasses(pm)))
    return failure();
  build(pm);
  return pm.run(module);
}

//===----------------------------------------------------------------------===//
// cuda
//===----------------------------------------------------------------------===//

/// libdevice under a CUDA toolkit.
std::string libdevicePath(StringRef toolkit) {
  llvm::SmallString<256> path(toolkit);
  llvm::sys::path::append(path, "nvvm", "libdevice", "libdevice.10.bc");
  return std::string(path);
}

/// The CUDA toolkit whose libdevice the kernels link: `given` (which must
/// have it), else the first of $CUDA_HOME, $CUDA_PATH and /usr/local/cuda
/// that has one; empty for none.
FailureOr<std::string> findToolkit(ModuleOp module, StringRef given) {
  if (!given.empty()) {
    if (llvm::sys::fs::is_regular_file(libdevicePath(given)))
      return given.str();
    return emitError(module.getLoc(), "--cuda-path '")
           << given << "' has no " << libdevicePath(given);
  }
  for (const char *variable : {"CUDA_HOME", "CUDA_PATH"})
    if (const char *value = std::getenv(variable);
        value && llvm::sys::fs::is_regular_file(libdevicePath(value)))
      return std::string(value);
  if (llvm::sys::fs::is_regular_file(libdevicePath("/usr/local/cuda")))
    return std::string("/usr/local/cuda");
  return std::string();
}

/// The GPU kernels as PTX (gpu.binary), with libdevice linked where they
/// call it (exp, tanh, ... as __nv_* functions) and a clear error where
/// they do and no toolkit provides it.
LogicalResult serializeKernels(ModuleOp module, const CompileOptions &options) {
  llvm::SetVector<StringRef> libdeviceCalls;
  module.walk([&](LLVM::LLVMFuncOp func) {
    if (func->getParentOfType<gpu::GPUModuleOp>() && func.isExternal() &&
        func.getName().starts_with("__nv_"))
      libdeviceCalls.insert(func.getName());
  });
  FailureOr<std::string> toolkit =
      findToolkit(module, options.pipeline.cudaPath);
  if (failed(toolkit))
    return failure();
  if (toolkit->empty() && !libdeviceCalls.empty()) {
    InFlightDiagnostic diag = emitError(module.getLoc(), "the GPU kernels "
                                                         "call libdevice's ");
    llvm::interleaveComma(libdeviceCalls, diag);
    diag << " (exp, tanh, ... on the GPU), and no CUDA toolkit with "
            "nvvm/libdevice/libdevice.10.bc was found in $CUDA_HOME, "
            "$CUDA_PATH or /usr/local/cuda; give its directory with "
            "--cuda-path=DIR";
    return diag;
  }
  CompileOptions withToolkit = options;
  withToolkit.pipeline.cudaPath = *toolkit;
  // Without a toolkit (and no call into libdevice) MLIR's serializer still
  // looks for libdevice, reports its absence and carries on: that report
  // is not the user's concern.
  ScopedDiagnosticHandler quiet(module.getContext(), [&](Diagnostic &diag) {
    std::string message = diag.str();
    return success(toolkit->empty() &&
                   (StringRef(message).starts_with("CUDA path: ") ||
                    StringRef(message).starts_with("LibDevice path: ")));
  });
  return runPipeline(
      module,
      [&](OpPassManager &pm) { buildPTXPipeline(pm, withToolkit.pipeline); },
      withToolkit);
}

/// Frontend: a `.grade` buffer to a module at Stage::Grade.
OwningOpRef<ModuleOp> compileSource(llvm::SourceMgr &sourceMgr,
                                    MLIRContext &context,
                                    bool proveSymmetry) {
  std::unique_ptr<ast::Model> ast =
      parseModel(sourceMgr, sourceMgr.getMainFileID(), &context);
  if (!ast)
    return nullptr;
  std::unique_ptr<sema::Model> model =
      sema::analyze(*ast, &context, proveSymmetry);
  if (!model)
    return nullptr;
  return generateMLIR(*model, context);
}

/// Replaces the scheme of every model's `solve` clause by the built-in
/// scheme `name`; a positive `dt` is the step a fixed-step scheme takes
/// where the clause (of an adaptive scheme) gives none.
LogicalResult overrideScheme(ModuleOp module, Stage stage, StringRef name,
                             double dt) {
  TableauAttr scheme = TableauAttr::getNamed(module.getContext(), name);
  if (!scheme) {
    std::string known;
    llvm::raw_string_ostream os(known);
    llvm::interleaveComma(TableauAttr::getNamedSchemes(), os);
    return emitError(module.getLoc(), "unknown scheme '")
           << name << "'; the built-in schemes are " << known;
  }
  if (stage > Stage::Grade)
    return emitError(module.getLoc(),
                     "a scheme can only be chosen before it is expanded: "
                     "give the model file (or its 'grade' stage), not a "
                     "later stage");
  for (ModelOp model : module.getOps<ModelOp>())
    for (SolveOp solve : model.getBody().front().getOps<SolveOp>()) {
      bool bdfAdaptive = scheme.getBdfOrder() &&
                         (solve.getRtol() || solve.getAtol() ||
                          solve.getStateTolerancesAttr());
      if (!scheme.isAdaptive() && !bdfAdaptive) {
        // Tolerances mean nothing to fixed steps, which need a step.
        if (dt > 0)
          solve.setDtAttr(FloatAttr::get(Float64Type::get(module.getContext()),
                                         dt));
        if (solve.getDt().convertToDouble() <= 0)
          return emitError(solve.getLoc(), "scheme '")
                 << name << "' takes fixed steps, but the solve clause gives "
                 << "no 'dt' (the adaptive scheme '"
                 << solve.getScheme().getName()
                 << "' chose its own); add 'dt = ...' to it, or give the "
                 << "step (gradec run --dt)";
        solve.removeRtolAttr();
        solve.removeAtolAttr();
        solve.removeStateTolerancesAttr();
      }
      solve.setSchemeAttr(scheme);
    }
  return success();
}

LogicalResult compileOnThisStack(llvm::SourceMgr &sourceMgr,
                                 MLIRContext &context, bool isMLIR,
                                 raw_ostream &os,
                                 const CompileOptions &options) {
  Stage target = options.target;
  if (target == Stage::AST) {
    if (isMLIR)
      return emitError(UnknownLoc::get(&context),
                       "the AST stage needs a .grade input");
    std::unique_ptr<ast::Model> ast =
        parseModel(sourceMgr, sourceMgr.getMainFileID(), &context);
    if (!ast)
      return failure();
    ast::dump(*ast, os);
    return success();
  }
  Stage stage;
  TimingScope frontend =
      timePhase(options, isMLIR ? "Parse" : "Frontend (parse, sema, MLIRGen)");
  OwningOpRef<ModuleOp> module = loadModule(sourceMgr, context, isMLIR, stage,
                                            options.proveSymmetry);
  frontend.stop();
  if (!module)
    return failure();
  if (target == Stage::Header) {
    auto models = module->getOps<ModelOp>();
    if (models.empty())
      return emitError(module->getLoc(), "no 'grade.model' to describe");
    return emitModelHeader(*models.begin(), os);
  }
  if (target < stage)
    return emitError(module->getLoc(), "the input is already past stage '")
           << getStages()[static_cast<int>(target)].name << "'";
  if (!options.scheme.empty() &&
      failed(overrideScheme(*module, stage, options.scheme, options.dt)))
    return failure();
  if (target == Stage::PTX) {
    if (failed(lowerTo(*module, stage, target, options)))
      return failure();
    for (auto binary : module->getOps<gpu::BinaryOp>())
      for (auto object : binary.getObjects().getAsRange<gpu::ObjectAttr>()) {
        auto nvvm = dyn_cast<NVVM::NVVMTargetAttr>(object.getTarget());
        os << "// ----- PTX of @" << binary.getSymName() << " for "
           << (nvvm ? nvvm.getChip() : StringRef("?")) << "\n"
           << object.getObject().getValue();
      }
    return success();
  }
  if (target <= Stage::LLVMDialect) {
    if (failed(lowerTo(*module, stage, target, options)))
      return failure();
    module->print(os);
    return success();
  }
  if (target == Stage::SharedLib)
    return buildSharedLibrary(*module, stage, options);
  // LLVM IR, assembly, object.
  if (failed(lowerTo(*module, stage, Stage::LLVMDialect, options)))
    return failure();
  std::string error;
  std::unique_ptr<llvm::TargetMachine> tm =
      createHostTargetMachine(error, options.pipeline.optLevel);
  if (!tm)
    return emitError(module->getLoc(), error);
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule = translateAndOptimize(
      *module, llvmContext, *tm, options.pipeline.optLevel,
      options.pipeline.vectorBits, options.pipeline.vectorMath);
  if (!llvmModule)
    return emitError(module->getLoc(), "translation to LLVM IR failed");
  if (target == Stage::LLVM) {
    llvmModule->print(os, nullptr);
    return success();
  }
  llvm::SmallString<0> code;
  llvm::raw_svector_ostream codeStream(code);
  if (failed(emitMachineCode(*llvmModule, *tm, target == Stage::Asm,
                             codeStream, error)))
    return emitError(module->getLoc(), error);
  os << code;
  return success();
}

} // namespace

void driver::loadDialects(MLIRContext &context) {
  DialectRegistry registry;
  registry.insert<GradeDialect, gk::GKDialect, arith::ArithDialect,
                  func::FuncDialect, math::MathDialect, memref::MemRefDialect,
                  scf::SCFDialect, cf::ControlFlowDialect, omp::OpenMPDialect,
                  LLVM::LLVMDialect, gpu::GPUDialect, NVVM::NVVMDialect>();
  // cuda: the NVVM target's serialisation to PTX, and the translation of
  // the GPU module and of the host's launches to LLVM IR.
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  // convert-gpu-to-nvvm lowers the ops of every dialect that says how.
  arith::registerConvertArithToLLVMInterface(registry);
  cf::registerConvertControlFlowToLLVMInterface(registry);
  registerConvertFuncToLLVMInterface(registry);
  index::registerConvertIndexToLLVMInterface(registry);
  registerConvertMathToLLVMInterface(registry);
  registerConvertMemRefToLLVMInterface(registry);
  registerConvertNVVMToLLVMInterface(registry);
  ub::registerConvertUBToLLVMInterface(registry);
  registerLLVMDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
  registerGPUDialectTranslation(registry);
  gpu::registerOffloadingLLVMTranslationInterfaceExternalModels(registry);
  context.appendDialectRegistry(registry);
  context.loadAllAvailableDialects();
}

Stage driver::detectStage(ModuleOp module) {
  if (!module.getOps<gpu::BinaryOp>().empty())
    return Stage::PTX;
  for (auto gpuModule : module.getOps<gpu::GPUModuleOp>())
    return gpuModule.getOps<gpu::GPUFuncOp>().empty() ? Stage::NVVM
                                                      : Stage::GPU;
  for (ModelOp model : module.getOps<ModelOp>()) {
    if (!model.getBody().front().getOps<gk::EntryOp>().empty())
      return Stage::Kernels;
    if (model.getStepOp())
      return Stage::GradeOpt;
    if (model.getRhsOp() || model.getInitOp())
      return Stage::Grade;
    return Stage::Lowered;
  }
  return Stage::LLVMDialect;
}

bool driver::isTextStage(Stage stage) {
  return stage != Stage::Object && stage != Stage::SharedLib;
}

OwningOpRef<ModuleOp> driver::loadModule(llvm::SourceMgr &sourceMgr,
                                         MLIRContext &context, bool isMLIR,
                                         Stage &stage, bool proveSymmetry) {
  if (isMLIR) {
    OwningOpRef<ModuleOp> module =
        parseSourceFile<ModuleOp>(sourceMgr, &context);
    if (module)
      stage = detectStage(*module);
    return module;
  }
  stage = Stage::Grade;
  return compileSource(sourceMgr, context, proveSymmetry);
}

LogicalResult driver::lowerTo(ModuleOp module, Stage from, Stage to,
                              const CompileOptions &options) {
  std::string error;
  if (to >= Stage::Lowered &&
      failed(checkPipelineOptions(options.pipeline, error)))
    return emitError(module.getLoc(), error);
  // The IR-level proof of equivariance, on what the frontend produced (or
  // a hand-written module), before any rewrite.
  auto declaresGroups = [&] {
    return llvm::any_of(module.getOps<ModelOp>(),
                        [](ModelOp model) { return model.getSymmetry(); });
  };
  if (from < Stage::GradeOpt && to >= Stage::GradeOpt &&
      options.proveSymmetry && declaresGroups() &&
      failed(runPipeline(
          module, [](OpPassManager &pm) { pm.addPass(createCheckLaws()); },
          options)))
    return failure();
  if (from < Stage::GradeOpt && to >= Stage::GradeOpt &&
      (options.jvp || options.jvpIfDifferentiable) &&
      failed(runPipeline(
          module,
          [&](OpPassManager &pm) {
            GenerateJvpOptions all;
            all.all = true;
            all.bestEffort = !options.jvp;
            pm.addPass(createGenerateJvp(all));
          },
          options)))
    return failure();
  if (from < Stage::GradeOpt && to >= Stage::GradeOpt &&
      failed(runPipeline(module, buildGradeOptPipeline, options)))
    return failure();
  if (from < Stage::Kernels && to >= Stage::Kernels &&
      failed(runPipeline(
          module,
          [&](OpPassManager &pm) {
            buildKernelPipeline(pm, options.pipeline);
          },
          options)))
    return failure();
  if (from < Stage::Lowered && to >= Stage::Lowered &&
      failed(runPipeline(
          module,
          [&](OpPassManager &pm) {
            buildLoweringPipeline(pm, options.pipeline);
          },
          options)))
    return failure();
  // cuda: the GPU flavour's kernels onto threads, to NVVM, to PTX.
  bool cuda = !options.pipeline.cudaChips.empty();
  if (!cuda && to >= Stage::GPU && to <= Stage::PTX)
    return emitError(module.getLoc(), "the '")
           << getStages()[static_cast<int>(to)].name
           << "' stage needs a GPU target (--target=cuda)";
  if (cuda && from < Stage::GPU && to >= Stage::GPU &&
      failed(runPipeline(
          module,
          [&](OpPassManager &pm) {
            ConvertKernelsToGPUOptions gpu;
            gpu.emulate = options.pipeline.gpuEmulation;
            gpu.schedule = options.pipeline.gpuSchedule;
            pm.addPass(createConvertKernelsToGPU(gpu));
            pm.addPass(createCanonicalizerPass());
            pm.addPass(createCSEPass());
          },
          options)))
    return failure();
  if (cuda && from < Stage::NVVM && to >= Stage::NVVM &&
      failed(runPipeline(
          module,
          [&](OpPassManager &pm) { buildGPUPipeline(pm, options.pipeline); },
          options)))
    return failure();
  if (cuda && from < Stage::PTX && to >= Stage::PTX &&
      failed(serializeKernels(module, options)))
    return failure();
  if (from < Stage::LLVMDialect && to >= Stage::LLVMDialect &&
      failed(runPipeline(
          module,
          [&](OpPassManager &pm) { buildLLVMPipeline(pm, options.pipeline); },
          options)))
    return failure();
  return success();
}

LogicalResult driver::buildSharedLibrary(ModuleOp module, Stage from,
                                         const CompileOptions &options) {
  if (options.libraryPath.empty())
    return emitError(module.getLoc(), "no path for the shared library");
  if (failed(lowerTo(module, from, Stage::LLVMDialect, options)))
    return failure();
  std::string error;
  std::unique_ptr<llvm::TargetMachine> tm =
      createHostTargetMachine(error, options.pipeline.optLevel);
  if (!tm)
    return emitError(module.getLoc(), error);
  llvm::LLVMContext llvmContext;
  TimingScope translation = timePhase(options, "Translation to LLVM IR");
  std::unique_ptr<llvm::Module> llvmModule =
      translateToLLVMIR(module, llvmContext, *tm, options.pipeline.vectorBits,
                        options.pipeline.vectorMath);
  translation.stop();
  if (!llvmModule)
    return emitError(module.getLoc(), "translation to LLVM IR failed");
  unsigned jobs = options.jobs ? options.jobs
                               : llvm::hardware_concurrency().compute_thread_count();
  unsigned numObjects =
      countPartitions(*llvmModule, jobs, options.splitThreshold);
  // The object files live in $TMPDIR only until the link; as TempFiles
  // they are removed on every exit path, SIGINT and LLVM fatal errors
  // included.
  llvm::SmallString<128> model;
  llvm::sys::path::system_temp_directory(/*erasedOnReboot=*/true, model);
  llvm::sys::path::append(model, "grade-model-%%%%%%%%.o");
  SmallVector<ScopedTempFile> objects;
  SmallVector<std::unique_ptr<llvm::raw_fd_ostream>> streams;
  SmallVector<llvm::raw_pwrite_stream *> outputs;
  SmallVector<std::string> objectPaths;
  for (unsigned i = 0; i < numObjects; ++i) {
    llvm::Expected<ScopedTempFile> object = ScopedTempFile::create(model);
    if (!object)
      return emitError(module.getLoc(), "cannot create a temporary file: ")
             << llvm::toString(object.takeError());
    objects.push_back(std::move(*object));
    streams.push_back(std::make_unique<llvm::raw_fd_ostream>(
        objects.back().fd(), /*shouldClose=*/false));
    outputs.push_back(streams.back().get());
    objectPaths.push_back(objects.back().path().str());
  }
  TimingScope llvmTime = timePhase(
      options, numObjects == 1
                   ? std::string("LLVM optimisation and code generation")
                   : "LLVM optimisation and code generation (" +
                         std::to_string(numObjects) + " partitions)");
  bool compiled = succeeded(compileObjects(
      std::move(llvmModule), options.pipeline.optLevel, outputs, error));
  llvmTime.stop();
  // A full disk or a file-size limit: a located error, not LLVM's fatal
  // "IO failure on output stream" from a stream's destructor (every
  // stream's error is cleared).
  std::optional<std::pair<std::string, std::error_code>> writeError;
  for (auto [stream, path] : llvm::zip(streams, objectPaths)) {
    stream->flush();
    if (std::error_code ec = stream->error()) {
      stream->clear_error();
      if (!writeError)
        writeError = {path, ec};
    }
  }
  if (!compiled)
    return emitError(module.getLoc(), error);
  if (writeError)
    return emitError(module.getLoc(), "cannot write the object file '")
           << writeError->first << "': " << writeError->second.message();
  std::string soname =
      options.soname.empty()
          ? llvm::sys::path::filename(options.libraryPath).str()
          : options.soname;
  TimingScope link = timePhase(options, "Link");
  if (failed(linkSharedLibrary(objectPaths, options.libraryPath, soname,
                               error)))
    return emitError(module.getLoc(), error);
  return success();
}

LogicalResult driver::compile(llvm::SourceMgr &sourceMgr, MLIRContext &context,
                              bool isMLIR, raw_ostream &os,
                              const CompileOptions &options) {
  // A model file's errors point at its source; a dump of the IR op they
  // were found on only helps with IR inputs.
  if (!isMLIR)
    context.printOpOnDiagnostic(false);
  LogicalResult result = failure();
  llvm::runOnNewStack(kCompileStackSize, [&] {
    result = compileOnThisStack(sourceMgr, context, isMLIR, os, options);
  });
  return result;
}

LogicalResult driver::compileFileToLibrary(llvm::StringRef modelPath,
                                           llvm::StringRef libraryPath,
                                           std::string &errors) {
  errors.clear();
  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> buffer =
      openInputFile(modelPath, &error);
  if (!buffer) {
    errors = error;
    return failure();
  }
  MLIRContext context;
  loadDialects(context);
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());
  llvm::raw_string_ostream diagnostics(errors);
  SourceMgrDiagnosticHandler handler(sourceMgr, &context, diagnostics);
  CompileOptions options;
  options.libraryPath = libraryPath.str();
  return compile(sourceMgr, context, modelPath.ends_with(".mlir"),
                 llvm::nulls(), options);
}
