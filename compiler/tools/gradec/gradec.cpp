//===- gradec.cpp - the grade compiler driver -----------------------------===//
//
//   gradec model.grade [-o libmodel.so] [--emit=STAGE]   compile
//   gradec info model.grade|libmodel.so                  descriptor as JSON
//   gradec run model.grade|libmodel.so --graph ... ...   compile and run
//
// Stages are the ones of compiler/Pipelines; a `.mlir` input re-enters the
// pipeline at whatever stage it holds. `--verify-diagnostics` and
// `--split-input-file` work on `.grade` files as on `.mlir` ones, so that
// every user-facing diagnostic is tested in the language itself.
//
//===----------------------------------------------------------------------===//

#include "compiler/Frontend/Frontend.h"
#include "compiler/MLIRGen/MLIRGen.h"
#include "compiler/Pipelines/Pipelines.h"
#include "compiler/Sema/Sema.h"
#include "compiler/Target/CPU.h"
#include "compiler/Target/Header.h"
#include "dialects/Grade/IR/GradeOps.h"

#include "grade/runtime.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "mlir/Support/ToolUtilities.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ProgramStack.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <new>
#include <cmath>
#include <cstdio>
#include <unistd.h>

using namespace mlir;
using namespace grade;
namespace cl = llvm::cl;

//===----------------------------------------------------------------------===//
// Command line
//===----------------------------------------------------------------------===//

static cl::OptionCategory category("gradec options");

static cl::SubCommand infoCommand("info",
                                  "Print a model's descriptor as JSON");
static cl::SubCommand runCommand(
    "run", "Run a model (compiling it first if it is a source file)");

static cl::opt<std::string> inputFile(cl::Positional,
                                      cl::desc("<model.grade|model.mlir>"),
                                      cl::init("-"), cl::cat(category));
static cl::opt<std::string> outputFile("o", cl::desc("Output file"),
                                       cl::value_desc("file"), cl::init(""),
                                       cl::cat(category));

/// The --emit help text; cl::desc keeps a StringRef, so it must outlive the
/// option.
static const std::string &stageHelp() {
  static const std::string help = [] {
    std::string text = "Stage to emit:";
    for (const StageInfo &info : getStages())
      text += "\n  " + info.name.str() + ": " + info.description.str();
    return text;
  }();
  return help;
}
static cl::opt<std::string> emitStage("emit", cl::desc(stageHelp()),
                                      cl::value_desc("stage"), cl::init("so"),
                                      cl::cat(category));
static cl::opt<std::string> inputLanguage(
    "x", cl::desc("Input language: grade or mlir (default: by extension)"),
    cl::value_desc("language"), cl::init(""), cl::cat(category));
static cl::opt<bool> verifyDiagnostics(
    "verify-diagnostics",
    cl::desc("Check the diagnostics against expected-* comments in the input"),
    cl::init(false), cl::cat(category));
static cl::opt<bool> splitInputFile(
    "split-input-file",
    cl::desc("Process chunks separated by '// -----' independently"),
    cl::init(false), cl::cat(category));

static cl::opt<std::string> infoInput(cl::Positional, cl::Required,
                                      cl::desc("<model.grade|libmodel.so>"),
                                      cl::sub(infoCommand));

static cl::opt<std::string> runInput(cl::Positional, cl::Required,
                                     cl::desc("<model.grade|libmodel.so>"),
                                     cl::sub(runCommand));
static cl::opt<std::string> runGraph(
    "graph",
    cl::desc("Graph: a Matrix Market file, or gen:SPEC (e.g. gen:cycle:8, "
             "gen:torus:64x64, gen:random:1000:5000)"),
    cl::value_desc("file|gen:spec"), cl::sub(runCommand));
static cl::list<std::string> runInputs("input",
                                       cl::desc("Bind an input: NAME=FILE.npy"),
                                       cl::value_desc("name=file"),
                                       cl::sub(runCommand));
static cl::list<std::string> runParams("param",
                                       cl::desc("Bind a parameter: NAME=FILE.npy"),
                                       cl::value_desc("name=file"),
                                       cl::sub(runCommand));
static cl::list<std::string> runOutputs(
    "output", cl::desc("Write a field after the run: NAME=FILE.npy"),
    cl::value_desc("name=file"), cl::sub(runCommand));
static cl::opt<double> runT1("t1",
                             cl::desc("End time (default: the model's)"),
                             cl::init(NAN), cl::sub(runCommand));
static cl::opt<double> runDt("dt",
                             cl::desc("Step size (default: the model's)"),
                             cl::init(0.0), cl::sub(runCommand));
static cl::opt<int> runThreads("threads",
                               cl::desc("Threads (default: chosen from the "
                                        "graph's size, up to all cores)"),
                               cl::init(0), cl::sub(runCommand));

//===----------------------------------------------------------------------===//
// Compilation
//===----------------------------------------------------------------------===//

namespace {

/// Stack for one compilation (virtual memory; pages are touched on use).
constexpr unsigned kCompileStackSize = 512u << 20;

/// Registers every dialect gradec reads or produces.
void loadDialects(MLIRContext &context) {
  DialectRegistry registry;
  registry.insert<GradeDialect, arith::ArithDialect, func::FuncDialect,
                  math::MathDialect, memref::MemRefDialect, scf::SCFDialect,
                  cf::ControlFlowDialect, omp::OpenMPDialect,
                  LLVM::LLVMDialect>();
  context.appendDialectRegistry(registry);
  context.loadAllAvailableDialects();
}

/// The stage a `.mlir` input is at, from what it contains.
Stage detectStage(ModuleOp module) {
  for (ModelOp model : module.getOps<ModelOp>()) {
    if (model.getStepOp())
      return Stage::GradeOpt;
    if (model.getRhsOp() || model.getInitOp())
      return Stage::Grade;
    return Stage::Lowered;
  }
  return Stage::LLVMDialect;
}

bool isTextStage(Stage stage) {
  return stage != Stage::Object && stage != Stage::SharedLib;
}

/// Runs `build` on `module` with the command line's pass-manager options
/// (IR printing, --mlir-timing under `timing`).
LogicalResult runPipeline(ModuleOp module, void (*build)(OpPassManager &),
                          TimingScope &timing) {
  PassManager pm(module->getContext(), ModuleOp::getOperationName());
  if (failed(applyPassManagerCLOptions(pm)))
    return failure();
  pm.enableTiming(timing);
  build(pm);
  return pm.run(module);
}

/// Turns a module at stage `from` into stage `to` (<= LLVMDialect).
LogicalResult lowerTo(ModuleOp module, Stage from, Stage to) {
  DefaultTimingManager timingManager;
  applyDefaultTimingManagerCLOptions(timingManager);
  TimingScope timing = timingManager.getRootScope();
  if (from < Stage::GradeOpt && to >= Stage::GradeOpt &&
      failed(runPipeline(module, buildGradeOptPipeline, timing)))
    return failure();
  if (from < Stage::Lowered && to >= Stage::Lowered &&
      failed(runPipeline(module, buildLoweringPipeline, timing)))
    return failure();
  if (from < Stage::LLVMDialect && to >= Stage::LLVMDialect &&
      failed(runPipeline(module, buildLLVMPipeline, timing)))
    return failure();
  return success();
}

/// Frontend: a `.grade` buffer to a module at Stage::Grade. Returns null
/// after reporting errors.
OwningOpRef<ModuleOp> compileSource(llvm::SourceMgr &sourceMgr,
                                    MLIRContext &context) {
  std::unique_ptr<ast::Model> ast =
      parseModel(sourceMgr, sourceMgr.getMainFileID(), &context);
  if (!ast)
    return nullptr;
  std::unique_ptr<sema::Model> model = sema::analyze(*ast, &context);
  if (!model)
    return nullptr;
  return generateMLIR(*model, context);
}

/// Parses the input buffer (either language) into a module and its stage.
OwningOpRef<ModuleOp> loadModule(llvm::SourceMgr &sourceMgr,
                                 MLIRContext &context, bool isMLIR,
                                 Stage &stage) {
  if (isMLIR) {
    OwningOpRef<ModuleOp> module =
        parseSourceFile<ModuleOp>(sourceMgr, &context);
    if (module)
      stage = detectStage(*module);
    return module;
  }
  stage = Stage::Grade;
  return compileSource(sourceMgr, context);
}

/// Compiles a module at `stage` into a shared library at `outputPath`.
LogicalResult buildSharedLibrary(ModuleOp module, Stage stage,
                                 llvm::StringRef outputPath,
                                 const char *argv0) {
  if (failed(lowerTo(module, stage, Stage::LLVMDialect)))
    return failure();
  std::string error;
  std::unique_ptr<llvm::TargetMachine> tm = createHostTargetMachine(error);
  if (!tm)
    return emitError(module.getLoc(), error);
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateAndOptimize(module, llvmContext, *tm);
  if (!llvmModule)
    return emitError(module.getLoc(), "translation to LLVM IR failed");
  llvm::SmallString<128> objectPath;
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
          "grade-model", "o", objectPath))
    return emitError(module.getLoc(), "cannot create a temporary file: ")
           << ec.message();
  llvm::FileRemover removeObject(objectPath);
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(objectPath, ec, llvm::sys::fs::OF_None);
    if (ec)
      return emitError(module.getLoc(), "cannot write '")
             << objectPath << "': " << ec.message();
    if (failed(emitMachineCode(*llvmModule, *tm, /*assembly=*/false, os,
                               error)))
      return emitError(module.getLoc(), error);
  }
  if (failed(linkSharedLibrary(objectPath,
                               outputPath, error)))
    return emitError(module.getLoc(), error);
  return success();
}

/// Compiles one input chunk to the requested stage, writing to `os` (text
/// stages) or to the output file (binary stages).
LogicalResult processBuffer(std::unique_ptr<llvm::MemoryBuffer> buffer,
                            raw_ostream &os, Stage target, bool isMLIR,
                            const char *argv0) {
  MLIRContext context;
  context.allowUnregisteredDialects(false);
  loadDialects(context);
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());

  auto compile = [&]() -> LogicalResult {
    if (target == Stage::AST) {
      std::unique_ptr<ast::Model> ast =
          parseModel(sourceMgr, sourceMgr.getMainFileID(), &context);
      if (!ast)
        return failure();
      ast::dump(*ast, os);
      return success();
    }
    Stage stage;
    OwningOpRef<ModuleOp> module =
        loadModule(sourceMgr, context, isMLIR, stage);
    if (!module)
      return failure();
    if (target == Stage::Header) {
      auto models = module->getOps<ModelOp>();
      if (models.empty())
        return emitError(module->getLoc(), "no 'grade.model' to describe");
      emitModelHeader(*models.begin(), os);
      return success();
    }
    if (target < stage)
      return emitError(module->getLoc(), "the input is already past stage '")
             << getStages()[static_cast<int>(target)].name << "'";
    if (target <= Stage::LLVMDialect) {
      if (failed(lowerTo(*module, stage, target)))
        return failure();
      module->print(os);
      return success();
    }
    if (target == Stage::SharedLib)
      return buildSharedLibrary(*module, stage, outputFile, argv0);
    // LLVM IR, assembly, object.
    if (failed(lowerTo(*module, stage, Stage::LLVMDialect)))
      return failure();
    std::string error;
    std::unique_ptr<llvm::TargetMachine> tm = createHostTargetMachine(error);
    if (!tm)
      return emitError(module->getLoc(), error);
    llvm::LLVMContext llvmContext;
    std::unique_ptr<llvm::Module> llvmModule =
        translateAndOptimize(*module, llvmContext, *tm);
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
  };

  // Expression trees may be thousands of levels deep (the frontend caps
  // them at 10000) and the frontend, sema and kernel formation recurse over
  // them: compile on a stack sized for that.
  auto compileOnLargeStack = [&]() -> LogicalResult {
    LogicalResult result = failure();
    llvm::runOnNewStack(kCompileStackSize, [&] { result = compile(); });
    return result;
  };
  if (!verifyDiagnostics) {
    SourceMgrDiagnosticHandler handler(sourceMgr, &context);
    return compileOnLargeStack();
  }
  SourceMgrDiagnosticVerifierHandler handler(sourceMgr, &context);
  (void)compileOnLargeStack();
  return handler.verify();
}

/// The default output of a stage: stdout for text, lib<model>.so / .o.
std::string defaultOutput(Stage stage, llvm::StringRef input) {
  if (isTextStage(stage))
    return "-";
  llvm::StringRef stem = llvm::sys::path::stem(input);
  return stage == Stage::SharedLib ? ("lib" + stem + ".so").str()
                                   : (stem + ".o").str();
}

bool inputIsMLIR(llvm::StringRef path) {
  if (!inputLanguage.empty())
    return inputLanguage == "mlir";
  return path.ends_with(".mlir");
}

int compileMain(const char *argv0) {
  std::optional<Stage> target = parseStage(emitStage);
  if (!target) {
    llvm::errs() << "gradec: error: unknown stage '" << emitStage
                 << "' for --emit (see --help)\n";
    return 1;
  }
  if (!inputLanguage.empty() && inputLanguage != "grade" &&
      inputLanguage != "mlir") {
    llvm::errs() << "gradec: error: unknown input language '"
                 << inputLanguage << "' (expected grade or mlir)\n";
    return 1;
  }
  if (outputFile.empty())
    outputFile = defaultOutput(*target, inputFile);
  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> input =
      openInputFile(inputFile, &error);
  if (!input) {
    llvm::errs() << "gradec: error: " << error << "\n";
    return 1;
  }
  bool isMLIR = inputIsMLIR(inputFile);
  if (*target == Stage::AST && isMLIR) {
    llvm::errs() << "gradec: error: --emit=ast needs a .grade input, got '"
                 << inputFile << "'\n";
    return 1;
  }
  if (*target == Stage::SharedLib || *target == Stage::Object) {
    if (splitInputFile) {
      llvm::errs() << "gradec: error: --split-input-file needs a text stage\n";
      return 1;
    }
    if (*target == Stage::SharedLib) {
      if (failed(processBuffer(std::move(input), llvm::nulls(), *target,
                               isMLIR, argv0)))
        return 1;
      return 0;
    }
  }
  std::unique_ptr<llvm::ToolOutputFile> output =
      openOutputFile(outputFile, &error);
  if (!output) {
    llvm::errs() << "gradec: error: " << error << "\n";
    return 1;
  }
  auto process = [&](std::unique_ptr<llvm::MemoryBuffer> chunk,
                     raw_ostream &os) {
    return processBuffer(std::move(chunk), os, *target, isMLIR, argv0);
  };
  LogicalResult result =
      splitInputFile
          ? splitAndProcessBuffer(std::move(input), process, output->os())
          : process(std::move(input), output->os());
  if (failed(result))
    return 1;
  output->keep();
  return 0;
}

//===----------------------------------------------------------------------===//
// info and run
//===----------------------------------------------------------------------===//

/// Reports a runtime failure; returns true if there was one.
bool failedStatus(grade_status_t status) {
  if (!status)
    return false;
  llvm::errs() << "gradec: error: " << grade_status_message(status) << "\n";
  grade_status_free(status);
  return true;
}

/// A library ready to load: either the input itself, or the input compiled
/// to a temporary library (removed when this goes away).
struct LoadableLibrary {
  std::string path;
  std::optional<llvm::FileRemover> remover;
};

/// Compiles a source input into a temporary shared library.
LogicalResult prepareLibrary(llvm::StringRef input, const char *argv0,
                             LoadableLibrary &library) {
  if (input.ends_with(".so")) {
    library.path = input.str();
    return success();
  }
  llvm::SmallString<128> path;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("grade-run", "so", path)) {
    llvm::errs() << "gradec: error: cannot create a temporary file: "
                 << ec.message() << "\n";
    return failure();
  }
  library.path = std::string(path);
  library.remover.emplace(path);
  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> buffer = openInputFile(input, &error);
  if (!buffer) {
    llvm::errs() << "gradec: error: " << error << "\n";
    return failure();
  }
  outputFile = library.path;
  return processBuffer(std::move(buffer), llvm::nulls(), Stage::SharedLib,
                       inputIsMLIR(input), argv0);
}

/// Prints the descriptor of a library, or of a source file compiled to a
/// temporary library, through the runtime's JSON writer (one format for
/// both).
int infoMain(const char *argv0) {
  LoadableLibrary library;
  if (failed(prepareLibrary(infoInput, argv0, library)))
    return 1;
  grade_library_t *lib = nullptr;
  if (failedStatus(grade_library_load(library.path.c_str(), &lib)))
    return 1;
  char *json = nullptr;
  bool bad = failedStatus(
      grade_descriptor_to_json(grade_library_descriptor(lib), &json));
  if (!bad)
    llvm::outs() << json << (llvm::StringRef(json).ends_with("\n") ? "" : "\n");
  grade_string_free(json);
  grade_library_unload(lib);
  return bad ? 1 : 0;
}

/// Splits NAME=FILE.
bool splitBinding(llvm::StringRef binding, llvm::StringRef flag,
                  std::string &name, std::string &file) {
  auto [left, right] = binding.split('=');
  if (left.empty() || right.empty() || !binding.contains('=')) {
    llvm::errs() << "gradec: error: --" << flag << " expects NAME=FILE, got '"
                 << binding << "'\n";
    return false;
  }
  name = left.str();
  file = right.str();
  return true;
}

/// Draws a progress bar on stderr once a run has lasted a second.
struct Progress {
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point lastDraw = start;
  bool drawn = false;
  bool enabled = isatty(STDERR_FILENO);

  /// Steps taken (the callback runs once per step).
  long long steps = 0;

  static int callback(void *user, double t, double t0, double t1) {
    auto *self = static_cast<Progress *>(user);
    ++self->steps;
    if (!self->enabled)
      return 0;
    auto now = std::chrono::steady_clock::now();
    if (now - self->start < std::chrono::seconds(1) ||
        now - self->lastDraw < std::chrono::milliseconds(100))
      return 0;
    self->lastDraw = now;
    self->drawn = true;
    double fraction = t1 > t0 ? (t - t0) / (t1 - t0) : 1.0;
    int filled = static_cast<int>(fraction * 40);
    std::fprintf(stderr, "\r[%-40s] %5.1f%%  t = %-12g",
                 std::string(filled, '#').c_str(), 100 * fraction, t);
    std::fflush(stderr);
    return 0;
  }

  void finish() {
    if (drawn)
      std::fprintf(stderr, "\r%70s\r", "");
  }
};

int runMain(const char *argv0) {
  LoadableLibrary library;
  if (failed(prepareLibrary(runInput, argv0, library)))
    return 1;
  // InitLLVM's new-handler aborts on allocation failure ("LLVM ERROR: out of
  // memory"). The compilation is over: let std::bad_alloc reach the
  // runtime, which reports a too-large graph or array as an error.
  std::set_new_handler(nullptr);
  grade_library_t *lib = nullptr;
  if (failedStatus(grade_library_load(library.path.c_str(), &lib)))
    return 1;
  const grade_model_descriptor_t *desc = grade_library_descriptor(lib);
  grade_session_t *session = nullptr;
  grade_graph_t *graph = nullptr;
  int rc = 1;
  llvm::scope_exit cleanup([&] {
    grade_session_free(session);
    grade_graph_free(graph);
    grade_library_unload(lib);
  });

  if (runGraph.empty()) {
    llvm::errs() << "gradec: error: 'run' needs --graph FILE.mtx or "
                    "--graph gen:SPEC\n";
    return 1;
  }
  // Given options must make sense; only absent ones take the model's values.
  if (runDt.getNumOccurrences() && !(runDt > 0 && std::isfinite(runDt))) {
    llvm::errs() << "gradec: error: --dt must be a positive finite number, got "
                 << runDt << "\n";
    return 1;
  }
  if (runT1.getNumOccurrences() && !std::isfinite(runT1)) {
    llvm::errs() << "gradec: error: --t1 must be a finite number, got "
                 << runT1 << "\n";
    return 1;
  }
  if (runThreads.getNumOccurrences() && runThreads < 1) {
    llvm::errs() << "gradec: error: --threads must be at least 1, got "
                 << runThreads << "\n";
    return 1;
  }
  llvm::StringRef graphSpec = runGraph;
  if (graphSpec.consume_front("gen:")) {
    if (failedStatus(grade_graph_generate(graphSpec.str().c_str(), &graph)))
      return 1;
  } else if (failedStatus(grade_graph_read_mtx(runGraph.c_str(), &graph))) {
    return 1;
  }
  if (failedStatus(grade_session_create(lib, &session)) ||
      failedStatus(grade_session_set_threads(session, runThreads)) ||
      failedStatus(grade_session_bind_graph(session, graph)))
    return 1;
  for (auto [flag, bindings] : {std::pair<llvm::StringRef, std::vector<std::string> *>{
                                    "input", &runInputs},
                                {"param", &runParams}}) {
    for (const std::string &binding : *bindings) {
      std::string name, file;
      if (!splitBinding(binding, flag, name, file))
        return 1;
      const grade_field_desc_t *field =
          grade_descriptor_find_field(desc, name.c_str());
      int32_t expected = flag == "input" ? GRADE_ROLE_INPUT : GRADE_ROLE_PARAM;
      if (field && field->role != expected) {
        llvm::errs() << "gradec: error: '" << name << "' is not "
                     << (flag == "input" ? "an input" : "a parameter")
                     << " of model '" << desc->name << "'\n";
        return 1;
      }
      grade_tensor_t *tensor = nullptr;
      if (failedStatus(grade_npy_read(file.c_str(), &tensor)))
        return 1;
      grade_status_t status = grade_session_bind(session, name.c_str(), tensor);
      grade_tensor_free(tensor);
      if (status) {
        llvm::errs() << "gradec: error: " << file << ": "
                     << grade_status_message(status) << "\n";
        grade_status_free(status);
        return 1;
      }
    }
  }

  // Check every --output before spending time on the integration.
  std::vector<std::pair<std::string, std::string>> outputs;
  for (const std::string &binding : runOutputs) {
    std::string name, file;
    if (!splitBinding(binding, "output", name, file))
      return 1;
    if (!grade_descriptor_find_field(desc, name.c_str())) {
      llvm::errs() << "gradec: error: --output: model '" << desc->name
                   << "' has no field '" << name << "'\n";
      return 1;
    }
    outputs.push_back({name, file});
  }

  auto start = std::chrono::steady_clock::now();
  if (failedStatus(grade_session_initialize(session)))
    return 1;
  auto afterInit = std::chrono::steady_clock::now();
  double t0 = grade_session_time(session);
  double t1 = std::isnan(runT1) ? desc->t1 : runT1;
  double dt = runDt > 0 ? runDt : desc->dt;
  Progress progress;
  grade_status_t status =
      grade_session_integrate(session, t1, dt, Progress::callback, &progress);
  progress.finish();
  if (failedStatus(status))
    return 1;
  auto end = std::chrono::steady_clock::now();
  long long steps = progress.steps;
  double initMs = std::chrono::duration<double, std::milli>(afterInit - start).count();
  double runMs = std::chrono::duration<double, std::milli>(end - afterInit).count();
  llvm::outs() << "model '" << desc->name << "' (" << desc->scheme.name
               << ", dt = " << llvm::format("%g", dt) << ") on "
               << grade_graph_num_nodes(graph) << " nodes, "
               << grade_graph_num_edges(graph) << " edges\n";
  llvm::outs() << llvm::format(
      "integrated t = %g -> %g in %lld steps: %.3f ms (%.3f ms/step), "
      "initialisation %.3f ms\n",
      t0, t1, steps, runMs, steps ? runMs / steps : 0.0, initMs);

  for (const auto &[name, file] : outputs) {
    grade_tensor_t *tensor = nullptr;
    if (failedStatus(grade_session_read(session, name.c_str(), &tensor)))
      return 1;
    grade_status_t writeStatus = grade_npy_write(file.c_str(), tensor);
    grade_tensor_free(tensor);
    if (failedStatus(writeStatus))
      return 1;
    llvm::outs() << "wrote '" << name << "' to " << file << "\n";
  }
  rc = 0;
  return rc;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // Passes first: --mlir-print-ir-before/after=PASS look names up in the
  // registry when the options are created.
  registerGradePassesAndPipelines();
  registerTransformsPasses();
  registerConversionPasses();
  memref::registerMemRefPasses();
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  registerDefaultTimingManagerCLOptions();
  cl::ParseCommandLineOptions(
      argc, argv,
      "gradec: the grade compiler for differential equations on graphs\n\n"
      "  gradec model.grade -o libmodel.so [--emit=STAGE]\n"
      "  gradec info model.grade|libmodel.so\n"
      "  gradec run model.grade|libmodel.so --graph G.mtx --input x0=x0.npy "
      "--output x=x.npy\n");
  if (infoCommand)
    return infoMain(argv[0]);
  if (runCommand)
    return runMain(argv[0]);
  return compileMain(argv[0]);
}
