//===- CPU.cpp - host code generation and linking -------------------------===//

#include "compiler/Target/CPU.h"

#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

#include <algorithm>

using namespace mlir;
using namespace grade;

#ifndef GRADE_LLVM_TOOLS_DIR
#define GRADE_LLVM_TOOLS_DIR "/usr/lib/llvm-22/bin"
#endif
#ifndef GRADE_LLVM_LIBRARY_DIR
#define GRADE_LLVM_LIBRARY_DIR "/usr/lib/llvm-22/lib"
#endif

std::unique_ptr<llvm::TargetMachine>
grade::createHostTargetMachine(std::string &error, unsigned optLevel) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return nullptr;
  // Generated code runs where it is compiled: use every host feature (the
  // library is not portable to older CPUs, by design).
  llvm::SubtargetFeatures features;
  for (const auto &feature : llvm::sys::getHostCPUFeatures())
    features.AddFeature(feature.getKey(), feature.getValue());
  llvm::TargetOptions options;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, llvm::sys::getHostCPUName(), features.getString(), options,
      llvm::Reloc::PIC_, std::nullopt,
      llvm::CodeGenOpt::getLevel(static_cast<int>(std::min(optLevel, 3u)))
          .value_or(llvm::CodeGenOptLevel::Aggressive)));
  if (!tm)
    error = "cannot create a target machine for " + triple.str();
  return std::unique_ptr<llvm::TargetMachine>(tm.release());
}

/// Symbols the generated library exports; everything else is hidden so that
/// several models can live in one process without clashes. A library built
/// with --gpu-emulation also exports its kernels' host twins (for tests).
static bool isExported(llvm::StringRef name) {
  return name == "grade_model_descriptor" ||
         (name.starts_with("grade_") && name.ends_with("_model_descriptor")) ||
         name.starts_with("gradegen_emulated_");
}

std::unique_ptr<llvm::Module>
grade::translateAndOptimize(ModuleOp module, llvm::LLVMContext &context,
                            llvm::TargetMachine &tm, unsigned optLevel) {
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerOpenMPDialectTranslation(registry);
  module->getContext()->appendDialectRegistry(registry);

  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, context);
  if (!llvmModule)
    return nullptr;
  llvmModule->setTargetTriple(tm.getTargetTriple());
  llvmModule->setDataLayout(tm.createDataLayout());
  for (llvm::GlobalValue &value : llvmModule->global_values())
    if (!value.isDeclaration() && !value.hasLocalLinkage() &&
        !isExported(value.getName()))
      value.setVisibility(llvm::GlobalValue::HiddenVisibility);

  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder builder(&tm);
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  static const llvm::OptimizationLevel levels[] = {
      llvm::OptimizationLevel::O0, llvm::OptimizationLevel::O1,
      llvm::OptimizationLevel::O2, llvm::OptimizationLevel::O3};
  llvm::OptimizationLevel level = levels[std::min(optLevel, 3u)];
  llvm::ModulePassManager passes =
      level == llvm::OptimizationLevel::O0
          ? builder.buildO0DefaultPipeline(level)
          : builder.buildPerModuleDefaultPipeline(level);
  passes.run(*llvmModule, mam);
  return llvmModule;
}

LogicalResult grade::emitMachineCode(llvm::Module &module,
                                     llvm::TargetMachine &tm, bool assembly,
                                     llvm::raw_pwrite_stream &os,
                                     std::string &error) {
  llvm::legacy::PassManager passes;
  if (tm.addPassesToEmitFile(passes, os, nullptr,
                             assembly ? llvm::CodeGenFileType::AssemblyFile
                                      : llvm::CodeGenFileType::ObjectFile)) {
    error = "the target cannot emit this file type";
    return failure();
  }
  passes.run(module);
  return success();
}

LogicalResult grade::linkSharedLibrary(llvm::StringRef objectPath,
                                       llvm::StringRef outputPath,
                                       llvm::StringRef soname,
                                       std::string &error) {
  llvm::ErrorOr<std::string> linker = llvm::sys::findProgramByName(
      "ld.lld", {GRADE_LLVM_TOOLS_DIR});
  if (!linker)
    linker = llvm::sys::findProgramByName("ld.lld-22");
  if (!linker) {
    error = "cannot find ld.lld (install lld-22)";
    return failure();
  }
  std::string sonameFlag = ("-soname=" + soname).str();
  std::string libDir = "-L" GRADE_LLVM_LIBRARY_DIR;
  // ld.lld has no default search paths: name the system library directory.
  llvm::SmallVector<llvm::StringRef> args = {
      *linker, "-shared", "-o", outputPath, sonameFlag, "--gc-sections", "-O2",
      "-z", "defs", "-z", "now", objectPath,
      "-L/usr/lib/x86_64-linux-gnu", "-L/lib/x86_64-linux-gnu", libDir,
      "-lomp", "-lm", "-lc"};
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(*linker, args, std::nullopt, {}, 0, 0,
                                     &message);
  if (rc != 0) {
    error = "linking '" + outputPath.str() + "' failed" +
            (message.empty() ? "" : ": " + message);
    return failure();
  }
  return success();
}
