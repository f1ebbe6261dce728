//===- CPU.cpp - host code generation and linking -------------------------===//

#include "compiler/Target/CPU.h"

#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/EquivalenceClasses.h"
#include "llvm/Analysis/TargetLibraryInfo.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ThreadPool.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/Transforms/Utils/Cloning.h"

#include <algorithm>
#include <mutex>

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
  // Once, before any thread creates a target machine of its own.
  static std::once_flag initialized;
  std::call_once(initialized, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
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

unsigned grade::wideVectorBitsForHost() {
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  auto avx512 = features.find("avx512f");
  return avx512 != features.end() && avx512->second ? 512 : 0;
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
grade::translateToLLVMIR(ModuleOp module, llvm::LLVMContext &context,
                         llvm::TargetMachine &tm, unsigned vectorBits,
                         bool vectorMath) {
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
  // Vectors of 128 bits asked for: libmvec's AVX2 functions would not be.
  if (!vectorMath || vectorBits == 128)
    llvmModule->addModuleFlag(llvm::Module::Warning, "grade.vector-math",
                              uint32_t(0));
  if (vectorBits)
    for (llvm::Function &function : *llvmModule)
      if (!function.isDeclaration())
        function.addFnAttr("prefer-vector-width", std::to_string(vectorBits));
  for (llvm::GlobalValue &value : llvmModule->global_values())
    if (!value.isDeclaration() && !value.hasLocalLinkage() &&
        !isExported(value.getName()))
      value.setVisibility(llvm::GlobalValue::HiddenVisibility);
  return llvmModule;
}

//===----------------------------------------------------------------------===//
// Vector math
//===----------------------------------------------------------------------===//
//
// The kernels' transcendental functions (llvm.tanh, llvm.exp, ...) would be
// scalar libm calls. glibc's vector math library (libmvec, glibc 2.35 for
// tanh and the hyperbolic and inverse functions) has them for AVX2: four
// doubles or eight floats a call. The loop and SLP vectorizers use those
// where they vectorise (the mappings below); every call they leave scalar,
// or leave a vector of another width (AVX-512's eight doubles, SLP's
// pairs), then goes through the same AVX2 function too (VectorMathCalls),
// so that a value's bits never depend on whether it fell in a vectorised
// loop body or its remainder (that is, on where a thread's share of the
// nodes ends): the functions add no dependence on the thread count.

namespace {

struct VectorMathFunction {
  const char *intrinsic;
  const char *vectorName; // libmvec's AVX2 variant
  bool isDouble;
};

constexpr VectorMathFunction kVectorMath[] = {
    {"llvm.tanh.f64", "_ZGVdN4v_tanh", true},
    {"llvm.tanh.f32", "_ZGVdN8v_tanhf", false},
    {"llvm.exp.f64", "_ZGVdN4v_exp", true},
    {"llvm.exp.f32", "_ZGVdN8v_expf", false},
    {"llvm.log.f64", "_ZGVdN4v_log", true},
    {"llvm.log.f32", "_ZGVdN8v_logf", false},
    {"llvm.sin.f64", "_ZGVdN4v_sin", true},
    {"llvm.sin.f32", "_ZGVdN8v_sinf", false},
    {"llvm.cos.f64", "_ZGVdN4v_cos", true},
    {"llvm.cos.f32", "_ZGVdN8v_cosf", false},
    {"llvm.tan.f64", "_ZGVdN4v_tan", true},
    {"llvm.tan.f32", "_ZGVdN8v_tanf", false},
    {"llvm.atan.f64", "_ZGVdN4v_atan", true},
    {"llvm.atan.f32", "_ZGVdN8v_atanf", false},
    {"llvm.asin.f64", "_ZGVdN4v_asin", true},
    {"llvm.asin.f32", "_ZGVdN8v_asinf", false},
    {"llvm.acos.f64", "_ZGVdN4v_acos", true},
    {"llvm.acos.f32", "_ZGVdN8v_acosf", false},
    {"llvm.sinh.f64", "_ZGVdN4v_sinh", true},
    {"llvm.sinh.f32", "_ZGVdN8v_sinhf", false},
    {"llvm.cosh.f64", "_ZGVdN4v_cosh", true},
    {"llvm.cosh.f32", "_ZGVdN8v_coshf", false},
};

/// The libmvec function of a call's scalar intrinsic (by its scalar name),
/// or null.
const VectorMathFunction *vectorMathFor(llvm::StringRef scalarName) {
  for (const VectorMathFunction &function : kVectorMath)
    if (scalarName == function.intrinsic)
      return &function;
  return nullptr;
}

/// Whether the target runs libmvec's AVX2 variants.
bool usesVectorMath(llvm::TargetMachine &tm) {
  const llvm::Triple &triple = tm.getTargetTriple();
  if (triple.getArch() != llvm::Triple::x86_64 || !triple.isOSLinux() ||
      !triple.isGNUEnvironment())
    return false;
  llvm::StringRef features = tm.getTargetFeatureString();
  return features.contains("+avx2") && features.contains("+fma");
}

/// Rewrites every remaining call of a mapped intrinsic, scalar or vector
/// of any width, into calls of its AVX2 libmvec function on groups of
/// lanes (a scalar broadcast to every lane, lane 0 kept).
struct VectorMathCalls : llvm::PassInfoMixin<VectorMathCalls> {
  llvm::PreservedAnalyses run(llvm::Function &function,
                              llvm::FunctionAnalysisManager &) {
    llvm::SmallVector<llvm::IntrinsicInst *> calls;
    for (llvm::Instruction &instruction : llvm::instructions(function))
      if (auto *call = llvm::dyn_cast<llvm::IntrinsicInst>(&instruction))
        if (scalarFunction(call))
          calls.push_back(call);
    for (llvm::IntrinsicInst *call : calls)
      rewrite(call, *scalarFunction(call));
    return calls.empty() ? llvm::PreservedAnalyses::all()
                         : llvm::PreservedAnalyses::none();
  }

private:
  /// The mapping of the scalar form of the call's intrinsic.
  static const VectorMathFunction *scalarFunction(llvm::IntrinsicInst *call) {
    llvm::Type *type = call->getType();
    llvm::Type *element = type->getScalarType();
    if (call->arg_size() != 1 ||
        !(element->isFloatTy() || element->isDoubleTy()))
      return nullptr;
    std::string name = (llvm::Intrinsic::getBaseName(call->getIntrinsicID()) +
                        (element->isDoubleTy() ? ".f64" : ".f32"))
                           .str();
    return vectorMathFor(name);
  }

  static void rewrite(llvm::IntrinsicInst *call,
                      const VectorMathFunction &mapping) {
    llvm::IRBuilder<> builder(call);
    llvm::Type *type = call->getType();
    llvm::Type *element = type->getScalarType();
    unsigned width = mapping.isDouble ? 4 : 8;
    auto *vectorType = llvm::FixedVectorType::get(element, width);
    llvm::Module &module = *call->getModule();
    llvm::FunctionCallee callee =
        module.getOrInsertFunction(mapping.vectorName, vectorType, vectorType);
    llvm::Value *input = call->getArgOperand(0);
    llvm::Value *result;
    if (!type->isVectorTy()) {
      llvm::Value *lanes = builder.CreateVectorSplat(width, input);
      result = builder.CreateExtractElement(builder.CreateCall(callee, lanes),
                                            uint64_t(0));
    } else {
      unsigned lanes =
          llvm::cast<llvm::FixedVectorType>(type)->getNumElements();
      result = llvm::PoisonValue::get(type);
      for (unsigned start = 0; start < lanes; start += width) {
        // Lanes start .. start + width - 1 through one call (the last
        // group padded with its first lane).
        llvm::SmallVector<int> take;
        for (unsigned k = 0; k < width; ++k)
          take.push_back(int(start + k < lanes ? start + k : start));
        llvm::Value *group = builder.CreateCall(
            callee, builder.CreateShuffleVector(input, take));
        for (unsigned k = start; k < lanes && k < start + width; ++k)
          result = builder.CreateInsertElement(
              result, builder.CreateExtractElement(group, uint64_t(k - start)),
              uint64_t(k));
      }
    }
    call->replaceAllUsesWith(result);
    call->eraseFromParent();
  }
};

} // namespace

void grade::optimizeModule(llvm::Module &module, llvm::TargetMachine &tm,
                           unsigned optLevel) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  // The vectorizers as clang runs them at -O2 and -O3. PassBuilder's own
  // defaults leave the SLP vectorizer off, and the loops LLVM unrolls
  // completely before the loop vectorizer sees them (a contraction's 16
  // outputs, a stalk of 3 or 4 features) then stay scalar: GRAND-l's
  // projections ran one float per FMA.
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = optLevel > 1;
  tuning.SLPVectorization = optLevel > 1;
  llvm::PassBuilder builder(&tm, tuning);
  // The vector math mappings, before the default analyses (the first
  // registration of an analysis is the one used).
  llvm::TargetLibraryInfoImpl libraryInfo(module.getTargetTriple());
  auto *disabled = llvm::mdconst::extract_or_null<llvm::ConstantInt>(
      module.getModuleFlag("grade.vector-math"));
  bool vectorMath = usesVectorMath(tm) && !(disabled && disabled->isZero());
  if (vectorMath) {
    std::vector<llvm::VecDesc> mappings;
    for (const VectorMathFunction &function : kVectorMath)
      mappings.emplace_back(
          function.intrinsic, function.vectorName,
          llvm::ElementCount::getFixed(function.isDouble ? 4 : 8),
          /*Masked=*/false,
          function.isDouble ? "_ZGV_LLVM_N4v" : "_ZGV_LLVM_N8v", std::nullopt);
    libraryInfo.addVectorizableFunctions(mappings);
    builder.registerOptimizerLastEPCallback([](llvm::ModulePassManager &passes,
                                               llvm::OptimizationLevel,
                                               llvm::ThinOrFullLTOPhase) {
      passes.addPass(
          llvm::createModuleToFunctionPassAdaptor(VectorMathCalls()));
    });
  }
  fam.registerPass([&] { return llvm::TargetLibraryAnalysis(libraryInfo); });
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
  passes.run(module, mam);
}

std::unique_ptr<llvm::Module>
grade::translateAndOptimize(ModuleOp module, llvm::LLVMContext &context,
                            llvm::TargetMachine &tm, unsigned optLevel,
                            unsigned vectorBits, bool vectorMath) {
  std::unique_ptr<llvm::Module> llvmModule =
      translateToLLVMIR(module, context, tm, vectorBits, vectorMath);
  if (llvmModule)
    optimizeModule(*llvmModule, tm, optLevel);
  return llvmModule;
}

//===----------------------------------------------------------------------===//
// Partitions compiled concurrently
//===----------------------------------------------------------------------===//

static unsigned countInstructions(const llvm::Module &module) {
  unsigned count = 0;
  for (const llvm::Function &function : module)
    count += function.getInstructionCount();
  return count;
}

/// Whether `module` holds only what the partitioning below handles: no
/// comdats, aliases, ifuncs or module-level assembly (the generated modules
/// have none of them).
static bool isSplittable(const llvm::Module &module) {
  return module.getComdatSymbolTable().empty() && module.alias_empty() &&
         module.ifunc_empty() && module.getModuleInlineAsm().empty();
}

unsigned grade::countPartitions(const llvm::Module &module, unsigned jobs,
                                unsigned minInstructions) {
  if (jobs <= 1 || !isSplittable(module) ||
      countInstructions(module) < minInstructions)
    return 1;
  // At least a function per partition.
  unsigned functions = llvm::count_if(module, [](const llvm::Function &f) {
    return !f.isDeclaration();
  });
  return std::max(1u, std::min(jobs, functions));
}

/// The only function that uses `function`, if one does (an OpenMP outlined
/// body is used only by the kernel that forks it).
static const llvm::Function *soleUser(const llvm::Function &function) {
  const llvm::Function *user = nullptr;
  for (const llvm::Use &use : function.uses()) {
    auto *inst = llvm::dyn_cast<llvm::Instruction>(use.getUser());
    if (!inst || (user && inst->getFunction() != user))
      return nullptr;
    user = inst->getFunction();
  }
  return user == &function ? nullptr : user;
}

/// Splits `module` into `count` modules of about equal size, as bitcode.
/// A local function used by one function only stays local, beside that
/// function (a kernel and its parallel body compile together, as they
/// would whole); every other function is defined in exactly one partition
/// and declared where used, with hidden visibility. Local constants are
/// copied into every partition (loads from them still fold); other global
/// variables, the constructor and destructor lists (a GPU library's module
/// loading) among them, are defined in the first.
static SmallVector<SmallString<0>> splitIntoBitcode(llvm::Module &module,
                                                    unsigned count) {
  // Functions that must stay together: a local function and its sole user.
  llvm::EquivalenceClasses<const llvm::Function *> groups;
  for (llvm::Function &function : module) {
    if (function.isDeclaration())
      continue;
    groups.insert(&function);
    if (function.hasLocalLinkage())
      if (const llvm::Function *user = soleUser(function))
        groups.unionSets(&function, user);
  }
  // Everything another partition may reference gets a name and external,
  // hidden linkage.
  unsigned unnamed = 0;
  auto externalize = [&](llvm::GlobalValue &value) {
    if (!value.hasName())
      value.setName("__grade_part_" + llvm::Twine(unnamed++));
    if (value.hasLocalLinkage()) {
      value.setLinkage(llvm::GlobalValue::ExternalLinkage);
      value.setVisibility(llvm::GlobalValue::HiddenVisibility);
    }
  };
  for (llvm::Function &function : module)
    if (!function.isDeclaration() && function.hasLocalLinkage() &&
        !soleUser(function))
      externalize(function);
  for (llvm::GlobalVariable &global : module.globals())
    if (!(global.hasLocalLinkage() && global.isConstant()) &&
        !global.hasAppendingLinkage())
      externalize(global);

  // Largest group first, into the partition with the fewest instructions.
  struct Group {
    const llvm::Function *leader;
    unsigned size = 0;
    unsigned order = 0; ///< ties keep the module's order
  };
  SmallVector<Group> sized;
  for (const auto &group : groups) {
    if (!group->isLeader())
      continue;
    Group entry{group->getData(), 0, unsigned(sized.size())};
    for (auto member = groups.member_begin(*group);
         member != groups.member_end(); ++member)
      entry.size += (*member)->getInstructionCount();
    sized.push_back(entry);
  }
  llvm::sort(sized, [](const Group &a, const Group &b) {
    return a.size != b.size ? a.size > b.size : a.order < b.order;
  });
  SmallVector<unsigned> load(count, 0);
  llvm::DenseMap<const llvm::Function *, unsigned> partitionOf;
  for (const Group &group : sized) {
    unsigned target = std::min_element(load.begin(), load.end()) - load.begin();
    load[target] += group.size;
    partitionOf[group.leader] = target;
  }

  SmallVector<SmallString<0>> bitcode(count);
  for (unsigned part = 0; part < count; ++part) {
    llvm::ValueToValueMapTy map;
    std::unique_ptr<llvm::Module> partition = llvm::CloneModule(
        module, map, [&](const llvm::GlobalValue *value) {
          if (auto *function = llvm::dyn_cast<llvm::Function>(value))
            return !function->isDeclaration() &&
                   partitionOf.lookup(groups.getLeaderValue(function)) == part;
          auto *global = llvm::cast<llvm::GlobalVariable>(value);
          return (global->hasLocalLinkage() && global->isConstant()) ||
                 part == 0;
        });
    // An appending list exists once, with its definition.
    for (llvm::GlobalVariable &global :
         llvm::make_early_inc_range(partition->globals()))
      if (global.isDeclaration() && global.getName().starts_with("llvm."))
        global.eraseFromParent();
    llvm::raw_svector_ostream os(bitcode[part]);
    llvm::WriteBitcodeToFile(*partition, os);
  }
  return bitcode;
}

LogicalResult grade::compileObjects(std::unique_ptr<llvm::Module> module,
                                    unsigned optLevel,
                                    ArrayRef<llvm::raw_pwrite_stream *> outputs,
                                    std::string &error) {
  if (outputs.size() == 1) {
    std::unique_ptr<llvm::TargetMachine> tm =
        createHostTargetMachine(error, optLevel);
    if (!tm)
      return failure();
    optimizeModule(*module, *tm, optLevel);
    return emitMachineCode(*module, *tm, /*assembly=*/false, *outputs[0],
                           error);
  }
  SmallVector<SmallString<0>> bitcode =
      splitIntoBitcode(*module, outputs.size());
  module.reset();
  // Each partition in a context and with a target machine of its own, into
  // memory: the files are written by this thread only (a file-size limit's
  // SIGXFSZ or a full disk hits it, as without partitions).
  std::vector<std::string> errors(outputs.size());
  std::vector<SmallString<0>> objects(outputs.size());
  llvm::DefaultThreadPool pool(llvm::hardware_concurrency(outputs.size()));
  for (unsigned part = 0; part < outputs.size(); ++part)
    pool.async([&, part] {
      llvm::LLVMContext context;
      llvm::Expected<std::unique_ptr<llvm::Module>> partition =
          llvm::parseBitcodeFile(
              llvm::MemoryBufferRef(bitcode[part], "partition"), context);
      if (!partition) {
        errors[part] = llvm::toString(partition.takeError());
        return;
      }
      std::unique_ptr<llvm::TargetMachine> tm =
          createHostTargetMachine(errors[part], optLevel);
      if (!tm)
        return;
      optimizeModule(**partition, *tm, optLevel);
      llvm::raw_svector_ostream os(objects[part]);
      (void)emitMachineCode(**partition, *tm, /*assembly=*/false, os,
                            errors[part]);
    });
  pool.wait();
  for (std::string &message : errors)
    if (!message.empty()) {
      error = std::move(message);
      return failure();
    }
  for (auto [object, output] : llvm::zip(objects, outputs))
    *output << object;
  return success();
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

LogicalResult grade::linkSharedLibrary(ArrayRef<std::string> objectPaths,
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
      "-z", "defs", "-z", "now"};
  for (const std::string &path : objectPaths)
    args.push_back(path);
  args.append({"-L/usr/lib/x86_64-linux-gnu", "-L/lib/x86_64-linux-gnu", libDir,
               "-lomp"});
  // glibc's vector math (optimizeModule's AVX2 calls), where it exists.
  if (llvm::sys::fs::exists("/usr/lib/x86_64-linux-gnu/libmvec.so"))
    args.append({"--as-needed", "-lmvec", "--no-as-needed"});
  args.append({"-lm", "-lc"});
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
