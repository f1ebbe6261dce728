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
// Files (docs/reliability.md): every output is written under a temporary
// name in its directory and renamed into place only when complete; an
// output that is one of the inputs (same device and inode) is refused
// before any work; inputs must be regular files ("-" is stdin); temporary
// files are removed on every exit path, signals and LLVM fatal errors
// included.
//
//===----------------------------------------------------------------------===//

#include "CheckSymmetry.h"
#include "compiler/Driver/Compiler.h"
#include "compiler/Driver/TempFile.h"
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
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ProgramStack.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <csignal>
#include <new>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
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
static cl::SubCommand augmentCommand(
    "augment",
    "Apply a point symmetry of the model's PDE (its `lie` clause) to a "
    "solution trajectory: new training data for neural PDE solvers");
static cl::SubCommand checkSymmetryCommand(
    "check-symmetry",
    "Measure a model's equivariance under its symmetry groups: solve(g.x) "
    "against g.solve(x) for random group elements g and inputs x");

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
static cl::opt<std::string> targetName(
    "target",
    cl::desc("Machines to compile for: cpu (default), cuda (PTX for sm_80), "
             "cuda:sm_XX, or a list: cpu,cuda:sm_80,sm_90 (CPU code and PTX "
             "for two architectures in one library)"),
    cl::value_desc("targets"), cl::init("cpu"), cl::cat(category));
static cl::opt<std::string> cudaPath(
    "cuda-path",
    cl::desc("cuda: the CUDA toolkit whose nvvm/libdevice provides exp, tanh, "
             "... on the GPU (default: $CUDA_HOME, $CUDA_PATH or "
             "/usr/local/cuda)"),
    cl::value_desc("dir"), cl::init(""), cl::cat(category));
static cl::opt<std::string> gpuSchedule(
    "gpu-schedule",
    cl::desc("cuda: how kernels map onto GPU threads: auto (default: lanes "
             "over the features where a kernel allows, else balanced where "
             "it allows, else rows), rows (a thread per node), lanes (32 "
             "threads per node), balanced (a thread per node of at most 32 "
             "in-edges, a warp per node above); lanes and balanced are "
             "errors where a kernel cannot"),
    cl::value_desc("schedule"), cl::init("auto"), cl::cat(category));
static cl::opt<bool> gpuEmulation(
    "gpu-emulation",
    cl::desc("cuda, for tests without a GPU: also compile the GPU kernels for "
             "the host (gradegen_emulated_<kernel>), which grade-gpu-emulate "
             "runs in place of the device"),
    cl::init(false), cl::cat(category));
static cl::opt<unsigned> optLevel(
    "opt-level",
    cl::desc("LLVM optimisation level of the generated code, 0 to 3 "
             "(default 3)"),
    cl::value_desc("level"), cl::init(3), cl::cat(category));
static cl::opt<unsigned> compileJobs(
    "jobs",
    cl::desc("Threads compiling the host code of a large model (one partition "
             "each; default 0: one per core, 1: no partitions)"),
    cl::value_desc("n"), cl::init(0), cl::cat(category));
static cl::alias compileJobsShort("j", cl::desc("Alias for --jobs"),
                                  cl::aliasopt(compileJobs), cl::Prefix,
                                  cl::cat(category));
static cl::opt<unsigned> splitThreshold(
    "split-threshold",
    cl::desc("LLVM instructions from which the host code is compiled in "
             "--jobs partitions (default 40000)"),
    cl::value_desc("n"), cl::init(grade::kMinInstructionsToSplit), cl::Hidden,
    cl::cat(category));
static cl::opt<bool> prefetchRows(
    "prefetch",
    cl::desc("Prefetch the rows read at the other end of the edges (cpu; "
             "default true, --prefetch=false turns it off)"),
    cl::init(true), cl::cat(category));
static cl::opt<bool> cacheEdgeValues(
    "cache-edge-values",
    cl::desc("CPU: keep the costly edge values (a row read at the other "
             "end, exp, a contraction) that later passes over a node's "
             "in-edges read again, instead of recomputing them (default "
             "true; false for comparisons)"),
    cl::init(true), cl::cat(category));
static cl::opt<std::string> cpuSchedule(
    "cpu-schedule",
    cl::desc("How the CPU splits a kernel's nodes among threads: auto "
             "(default: chunks of equal edges for kernels that walk edges), "
             "nodes (equal numbers of nodes) or balanced (every kernel "
             "without global reductions); --emit=kernels shows the choice"),
    cl::value_desc("auto|nodes|balanced"), cl::init("auto"),
    cl::cat(category));
static cl::opt<unsigned> indexBits(
    "index-bits",
    cl::desc("Width of the node numbers in the kernels' graph arrays: 32 "
             "(default; graphs of up to 2^31 - 1 nodes, any number of "
             "edges) or 64"),
    cl::value_desc("32|64"), cl::init(32), cl::cat(category));
static cl::opt<std::string> vectorWidth(
    "vector-width",
    cl::desc("SIMD width, in bits, that the CPU code prefers: auto "
             "(default: LLVM's tuning for the host CPU, and 512 in kernels "
             "that multiply long matrix rows on an AVX-512 host; "
             "--emit=kernels shows them), or 128, 256 or 512 for every "
             "kernel (for experiments; bench/README.md, \"Vector width\")"),
    cl::value_desc("auto|128|256|512"), cl::init("auto"), cl::cat(category));
static cl::opt<bool> vectorMath(
    "vector-math",
    cl::desc("CPU: exp, log, tanh, sin, ... through glibc's vector math "
             "library (libmvec, AVX2), in vectorised loops and for every "
             "other call alike (default true; --vector-math=false: scalar "
             "libm, for comparisons; docs/compiler.md, \"Vector math\")"),
    cl::init(true), cl::cat(category));
static cl::opt<std::string> schemeName(
    "scheme",
    cl::desc("A built-in scheme instead of the model's solve clause "
             "(`gradec info --schemes` lists them: explicit, adaptive "
             "bosh3/dopri5, implicit backward_euler/crank_nicolson/sdirk2/"
             "sdirk4/bdf2, IMEX imex_euler/ars222, symplectic "
             "symplectic_euler/leapfrog); needs the "
             "model file"),
    cl::value_desc("name"), cl::init(""), cl::cat(category),
    cl::sub(cl::SubCommand::getTopLevel()), cl::sub(runCommand));
static cl::opt<bool> verifyDiagnostics(
    "verify-diagnostics",
    cl::desc("Check the diagnostics against expected-* comments in the input"),
    cl::init(false), cl::cat(category));
static cl::opt<bool> splitInputFile(
    "split-input-file",
    cl::desc("Process chunks separated by '// -----' independently"),
    cl::init(false), cl::cat(category));

static cl::opt<std::string> infoInput(cl::Positional, cl::Optional,
                                      cl::desc("<model.grade|libmodel.so>"),
                                      cl::sub(infoCommand), cl::cat(category));
static cl::opt<bool> infoSchemes(
    "schemes",
    cl::desc("List the built-in schemes with their orders and properties"),
    cl::init(false), cl::sub(infoCommand), cl::cat(category));

static cl::opt<std::string> runInput(cl::Positional, cl::Required,
                                     cl::desc("<model.grade|libmodel.so>"),
                                     cl::sub(runCommand), cl::cat(category));
static cl::opt<std::string> runGraph(
    "graph",
    cl::desc("Graph: a Matrix Market file (.mtx), an edge list (.csv, .tsv, "
             ".txt, .edges), an .npz with PyG's edge_index (and optional "
             "edge_weight, num_nodes), or gen:SPEC (e.g. gen:cycle:8, "
             "gen:torus:64x64, gen:trimesh:8x8, gen:random:1000:5000); "
             "default: the graph the model file names (graph G = ...;)"),
    cl::value_desc("file|gen:spec"), cl::sub(runCommand), cl::cat(category));
static cl::list<std::string> runInputs(
    "input",
    cl::desc("Bind an input: NAME=FILE.npy, or an entry of an archive: "
             "NAME=FILE.npz|.safetensors[:ENTRY] (ENTRY defaults to NAME)"),
    cl::value_desc("name=file"), cl::sub(runCommand), cl::cat(category));
static cl::list<std::string> runParams(
    "param",
    cl::desc("Bind a parameter: NAME=FILE.npy, or an entry of an archive: "
             "NAME=FILE.npz|.safetensors[:ENTRY] (ENTRY defaults to NAME)"),
    cl::value_desc("name=file"), cl::sub(runCommand), cl::cat(category));
static cl::list<std::string> runLoads(
    "load",
    cl::desc("Bind every array of an .npz or safetensors file to the input "
             "or parameter of its name (--input, --param and --set override "
             "single entries)"),
    cl::value_desc("file"), cl::sub(runCommand), cl::cat(category));
static cl::opt<int64_t> runGraphNodes(
    "graph-nodes",
    cl::desc("Nodes of an edge-list or .npz graph (0-based indices); "
             "default: the file's num_nodes entry (.npz), else the largest "
             "index + 1"),
    cl::value_desc("n"), cl::init(0), cl::sub(runCommand), cl::cat(category));
static cl::opt<bool> runConvert(
    "convert",
    cl::desc("Convert --input/--param arrays to the model's dtype (f32 <-> "
             "f64; bool and integer arrays, e.g. masks, to 0/1 and whole "
             "floats) and shape ([N, 1] <-> [N]) instead of refusing them"),
    cl::init(false), cl::sub(runCommand), cl::cat(category));
static cl::list<std::string> runSets(
    "set",
    cl::desc("Set a global scalar parameter: NAME=VALUE (overrides its "
             "default)"),
    cl::value_desc("name=value"), cl::sub(runCommand), cl::cat(category));
static cl::list<std::string> runOutputs(
    "output",
    cl::desc("Write a field after the run: NAME=FILE.npy, or NAME=FILE.npz "
             "(every field given the same .npz goes into it, as entry NAME)"),
    cl::value_desc("name=file"), cl::sub(runCommand), cl::cat(category));
static cl::opt<double> runT1("t1",
                             cl::desc("End time (default: the model's)"),
                             cl::init(NAN), cl::sub(runCommand), cl::cat(category));
static cl::opt<double> runDt("dt",
                             cl::desc("Step size (default: the model's); the "
                                      "first step of an adaptive scheme"),
                             cl::init(0.0), cl::sub(runCommand), cl::cat(category));
/// Set by `gradec run`: a model file is compiled with its Jacobian-vector
/// products where it can be, for the stability check.
static bool gCompilingForRun = false;

// gradec augment.
static cl::opt<std::string> augmentInput(cl::Positional, cl::Required,
                                         cl::desc("<model.grade|libmodel.so>"),
                                         cl::sub(augmentCommand),
                                         cl::cat(category));
static cl::opt<std::string> augmentTransform(
    "transform", cl::desc("The point transformation of the lie clause"),
    cl::value_desc("name"), cl::Required, cl::sub(augmentCommand),
    cl::cat(category));
static cl::opt<double> augmentEps("eps",
                                  cl::desc("The transformation's parameter"),
                                  cl::Required, cl::sub(augmentCommand),
                                  cl::cat(category));
static cl::opt<std::string> augmentTrajectory(
    "trajectory",
    cl::desc("An .npz with the state's frames (entry named as the state, "
             "[T, N]) and their times (entry 't', [T])"),
    cl::value_desc("file.npz"), cl::Required, cl::sub(augmentCommand),
    cl::cat(category));
static cl::opt<double> augmentPeriod(
    "period",
    cl::desc("The grid's period (default: the model's number, or its "
             "parameter's default)"),
    cl::init(0), cl::sub(augmentCommand), cl::cat(category));
static cl::opt<std::string> augmentOutput(
    "o", cl::desc("The transformed trajectory: an .npz with the frames, 't' "
                  "and 'period'"),
    cl::value_desc("file.npz"), cl::Required, cl::sub(augmentCommand),
    cl::cat(category));

// gradec check-symmetry.
static cl::opt<std::string> checkInput(cl::Positional, cl::Required,
                                       cl::desc("<model.grade|libmodel.so>"),
                                       cl::sub(checkSymmetryCommand),
                                       cl::cat(category));
static cl::opt<std::string> checkGraph(
    "graph",
    cl::desc("Graph (as for 'run'); default: the graph the model file names"),
    cl::value_desc("file|gen:spec"), cl::sub(checkSymmetryCommand),
    cl::cat(category));
static cl::opt<int64_t> checkGraphNodes(
    "graph-nodes", cl::desc("Nodes of an edge-list or .npz graph"),
    cl::value_desc("n"), cl::init(0), cl::sub(checkSymmetryCommand),
    cl::cat(category));
static cl::list<std::string> checkLoads(
    "load",
    cl::desc("Bind every array of an .npz or safetensors file to the input "
             "or parameter of its name (the others are drawn at random)"),
    cl::value_desc("file"), cl::sub(checkSymmetryCommand), cl::cat(category));
static cl::opt<int> checkTrials(
    "trials", cl::desc("Random group elements per kind of element"),
    cl::init(3), cl::sub(checkSymmetryCommand), cl::cat(category));
static cl::opt<uint64_t> checkSeed("seed",
                                   cl::desc("Seed of the random elements and "
                                            "inputs"),
                                   cl::init(1), cl::sub(checkSymmetryCommand),
                                   cl::cat(category));
static cl::opt<double> checkTolerance(
    "tolerance",
    cl::desc("Largest difference accepted, relative to each field's largest "
             "value (default: 1e-10 for f64 models, 1e-4 for f32)"),
    cl::init(0), cl::sub(checkSymmetryCommand), cl::cat(category));
static cl::opt<bool> checkNoProof(
    "no-proof",
    cl::desc("Compile without the compile-time proof of equivariance (the "
             "declared laws are kept): measures a model the compiler would "
             "reject"),
    cl::init(false), cl::sub(checkSymmetryCommand), cl::cat(category));

static cl::opt<bool> runStabilityCheck(
    "stability-check",
    cl::desc("Before a fixed-step explicit run, estimate the spectral radius "
             "of the right-hand side's Jacobian (power iteration on its JVP) "
             "and warn when dt exceeds the scheme's stability limit "
             "(default on)"),
    cl::init(true), cl::sub(runCommand), cl::cat(category));

static cl::opt<bool> compileJvp(
    "jvp",
    cl::desc("Also compile the Jacobian-vector products of the right-hand "
             "side (grade_session_eval_jvp; implicit schemes always have "
             "them)"),
    cl::init(false), cl::cat(category));
static cl::opt<std::string> runLinearSolver(
    "linear-solver",
    cl::desc("Krylov method of an implicit scheme's stage solves: gmres "
             "(default) or cg (for symmetric positive definite I - h a J, "
             "e.g. diffusion on an undirected graph)"),
    cl::value_desc("gmres|cg"), cl::init("gmres"), cl::sub(runCommand),
    cl::cat(category));
static cl::opt<std::string> runPreconditioner(
    "preconditioner",
    cl::desc("Implicit schemes: preconditioner of the Krylov solves, none "
             "(default) or jacobi (the Jacobian's diagonal, generated by the "
             "compiler; for stiffness that varies from node to node)"),
    cl::value_desc("none|jacobi"), cl::init("none"), cl::sub(runCommand),
    cl::cat(category));
static cl::opt<double> runNewtonTol(
    "newton-tol",
    cl::desc("Implicit schemes: Newton's residual tolerance (RMS, scaled by "
             "1 + |z|; default 1e-10)"),
    cl::init(0.0), cl::sub(runCommand), cl::cat(category));
static cl::opt<double> runKrylovTol(
    "krylov-tol",
    cl::desc("Implicit schemes: relative residual of each Krylov solve "
             "(default 1e-10)"),
    cl::init(0.0), cl::sub(runCommand), cl::cat(category));
static cl::opt<int> runMaxNewton(
    "max-newton",
    cl::desc("Implicit schemes: Newton iterations per stage (default 20)"),
    cl::init(0), cl::sub(runCommand), cl::cat(category));
static cl::opt<int> runMaxKrylov(
    "max-krylov",
    cl::desc("Implicit schemes: Krylov iterations per Newton step (default "
             "500)"),
    cl::init(0), cl::sub(runCommand), cl::cat(category));
static cl::opt<double> runRtol(
    "rtol",
    cl::desc("Relative tolerance of an adaptive scheme (default: the model's, "
             "else 1e-3)"),
    cl::init(0.0), cl::sub(runCommand), cl::cat(category));
static cl::opt<double> runAtol(
    "atol",
    cl::desc("Absolute tolerance of an adaptive scheme (default: the model's, "
             "else 1e-6)"),
    cl::init(0.0), cl::sub(runCommand), cl::cat(category));
static cl::list<std::string> runStateTolerances(
    "tolerance",
    cl::desc("Adaptive schemes: one state's own tolerances, "
             "NAME=RTOL,ATOL (either may be empty: the run's)"),
    cl::value_desc("name=rtol,atol"), cl::sub(runCommand), cl::cat(category));
static cl::opt<long long> runMaxSteps(
    "max-steps",
    cl::desc("Steps an adaptive scheme may attempt (default 1000000)"),
    cl::init(0), cl::sub(runCommand), cl::cat(category));
static cl::opt<int> runThreads("threads",
                               cl::desc("Threads (default: chosen from the "
                                        "graph's size, up to all cores)"),
                               cl::init(0), cl::sub(runCommand), cl::cat(category));
static cl::opt<std::string> runDevice(
    "device",
    cl::desc("Where the kernels run: cpu (default), cuda (the first GPU) or "
             "cuda:N; a GPU needs a library compiled with --target=cuda and "
             "the NVIDIA driver (libcuda.so.1)"),
    cl::value_desc("cpu|cuda[:N]"), cl::init("cpu"), cl::sub(runCommand),
    cl::cat(category));
static cl::opt<std::string> runReorder(
    "reorder",
    cl::desc("How the run numbers the graph's nodes in memory: auto "
             "(default: none while the node data fit in the L2 cache, else "
             "by degree where in-degrees are skewed and the run is on one "
             "thread, else reverse Cuthill-McKee where it brings neighbours "
             "4x closer, else none), none, rcm "
             "(reverse Cuthill-McKee) or degree (by in-degree); inputs and "
             "outputs stay in the graph's own node order"),
    cl::value_desc("auto|none|rcm|degree"), cl::init("auto"),
    cl::sub(runCommand), cl::cat(category));
static cl::opt<double> runProgressInterval(
    "progress-interval",
    cl::desc("Seconds between progress lines when stderr is not a terminal "
             "(default 5; 0: after every step)"),
    cl::value_desc("seconds"), cl::init(5.0), cl::sub(runCommand), cl::cat(category));
static cl::opt<bool> runStats(
    "stats",
    cl::desc("Print the integration's statistics (steps, right-hand-side "
             "evaluations, scans of the states, time)"),
    cl::init(false), cl::sub(runCommand), cl::cat(category));
static cl::list<double> runTimes(
    "times",
    cl::desc("Output times instead of --t1, increasing from the start "
             "time: every --output file holds the field at each, stacked "
             "along a new first axis (adaptive schemes interpolate them "
             "with their dense output)"),
    cl::value_desc("t1,t2,..."), cl::CommaSeparated, cl::sub(runCommand), cl::cat(category));
static cl::opt<double> runMaxNorm(
    "max-norm",
    cl::desc("Fail when a state's magnitude exceeds this bound, for runs "
             "that diverge without overflowing (checked about 16 times per "
             "run; default: no bound)"),
    cl::value_desc("bound"), cl::init(0.0), cl::sub(runCommand), cl::cat(category));
static cl::opt<std::string> runMtxDuplicates(
    "mtx-duplicates",
    cl::desc("Entries of a .mtx graph that repeat an edge: error (default), "
             "sum (one edge, weights added) or keep (parallel edges)"),
    cl::value_desc("error|sum|keep"), cl::init("error"), cl::sub(runCommand), cl::cat(category));
static cl::opt<bool> runMtxAllowUpper(
    "mtx-allow-upper",
    cl::desc("Accept entries above the diagonal of a symmetric .mtx graph "
             "(mirrored like lower ones)"),
    cl::init(false), cl::sub(runCommand), cl::cat(category));

//===----------------------------------------------------------------------===//
// Files
//===----------------------------------------------------------------------===//

namespace {

/// What a path that is not a regular file is, for messages.
const char *describeFileType(const struct stat &info) {
  if (S_ISDIR(info.st_mode))
    return "a directory";
  if (S_ISFIFO(info.st_mode))
    return "a FIFO";
  if (S_ISCHR(info.st_mode))
    return "a character device";
  if (S_ISBLK(info.st_mode))
    return "a block device";
  if (S_ISSOCK(info.st_mode))
    return "a socket";
  return "not a regular file";
}

/// Checks that an input is a regular file before anything opens it: open()
/// on a FIFO without a writer blocks forever. A missing file passes, so
/// that the reader reports it in its own words; "-" is stdin, an explicitly
/// allowed stream.
bool checkRegularInput(llvm::StringRef path) {
  if (path == "-")
    return true;
  struct stat info;
  if (::stat(path.str().c_str(), &info) != 0 || S_ISREG(info.st_mode))
    return true;
  llvm::errs() << "gradec: error: '" << path << "' is not a regular file ("
               << describeFileType(info) << ")\n";
  return false;
}

/// A file gradec reads or writes, for the same-file check.
struct NamedFile {
  std::string what; ///< "the input 'm.grade'", "--output x=x.npy", ...
  std::string path;
};

/// Refuses, before any work, an output that is one of the inputs or
/// another output: they are compared by device and inode (symbolic and hard
/// links, "./x" and "x" are the same file), so that a typo cannot destroy a
/// model or rewrite a library while it is loaded.
bool checkOutputsAreNotInputs(const std::vector<NamedFile> &inputs,
                              const std::vector<NamedFile> &outputs) {
  auto identify = [](const NamedFile &file)
      -> std::optional<llvm::sys::fs::UniqueID> {
    llvm::sys::fs::UniqueID id;
    if (file.path == "-" || llvm::sys::fs::getUniqueID(file.path, id))
      return std::nullopt;
    return id;
  };
  for (size_t i = 0; i < outputs.size(); ++i) {
    std::optional<llvm::sys::fs::UniqueID> out = identify(outputs[i]);
    if (!out)
      continue;
    for (const NamedFile &input : inputs) {
      if (identify(input) != out)
        continue;
      llvm::errs() << "gradec: error: " << outputs[i].what
                   << " is the same file as " << input.what
                   << ": refusing to overwrite an input\n";
      return false;
    }
    for (size_t j = 0; j < i; ++j) {
      if (identify(outputs[j]) != out)
        continue;
      llvm::errs() << "gradec: error: " << outputs[j].what << " and "
                   << outputs[i].what << " name the same file\n";
      return false;
    }
  }
  // Two outputs that do not exist yet but name the same path ("x" and
  // "./x" included).
  auto normalize = [](llvm::StringRef path) {
    llvm::SmallString<256> dir;
    if (llvm::sys::fs::real_path(llvm::sys::path::parent_path(path).empty()
                                     ? llvm::StringRef(".")
                                     : llvm::sys::path::parent_path(path),
                                 dir))
      return path.str();
    llvm::sys::path::append(dir, llvm::sys::path::filename(path));
    return std::string(dir);
  };
  for (size_t i = 0; i < outputs.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (outputs[i].path != "-" &&
          normalize(outputs[i].path) == normalize(outputs[j].path)) {
        llvm::errs() << "gradec: error: " << outputs[j].what << " and "
                     << outputs[i].what << " name the same file\n";
        return false;
      }
  return true;
}

/// An output file: written under a temporary name in the target's
/// directory and renamed over the target by commit(), so that a failed
/// compilation, a full disk or a kill never leaves a truncated file nor
/// destroys the previous one. "-" is stdout.
class AtomicOutput {
public:
  /// Prepares `path`; null after printing an error.
  static std::unique_ptr<AtomicOutput> open(llvm::StringRef path) {
    auto output = std::unique_ptr<AtomicOutput>(new AtomicOutput());
    output->target = path.str();
    if (path == "-")
      return output;
    // Write through a symbolic link rather than replacing it.
    llvm::SmallString<256> resolved;
    if (llvm::sys::fs::is_symlink_file(path) &&
        !llvm::sys::fs::real_path(path, resolved))
      output->target = std::string(resolved);
    llvm::sys::fs::file_status status;
    bool exists = !llvm::sys::fs::status(output->target, status);
    if (exists && status.type() == llvm::sys::fs::file_type::directory_file) {
      llvm::errs() << "gradec: error: cannot write '" << path
                   << "': it is a directory\n";
      return nullptr;
    }
    if (exists && status.type() != llvm::sys::fs::file_type::regular_file) {
      // A device or a pipe (/dev/null): nothing to replace, write in place.
      std::error_code ec;
      output->direct = std::make_unique<llvm::raw_fd_ostream>(
          output->target, ec, llvm::sys::fs::OF_None);
      if (ec) {
        llvm::errs() << "gradec: error: cannot write '" << path
                     << "': " << ec.message() << "\n";
        return nullptr;
      }
      return output;
    }
    llvm::SmallString<256> model(llvm::sys::path::parent_path(output->target));
    llvm::sys::path::append(
        model, "." + llvm::sys::path::filename(output->target) +
                   ".tmp-%%%%%%%%");
    llvm::Expected<driver::ScopedTempFile> temp = driver::ScopedTempFile::create(model);
    if (!temp) {
      llvm::errs() << "gradec: error: cannot write '" << path
                   << "': " << llvm::toString(temp.takeError()) << "\n";
      return nullptr;
    }
    output->temp.emplace(std::move(*temp));
    // A replaced file keeps its permissions.
    if (exists)
      (void)llvm::sys::fs::setPermissions(output->temp->fd(),
                                          status.permissions());
    output->stream = std::make_unique<llvm::raw_fd_ostream>(
        output->temp->fd(), /*shouldClose=*/false);
    return output;
  }

  /// The stream to write to (unused for a shared library, which the linker
  /// writes to tempPath()).
  llvm::raw_pwrite_stream &os() {
    if (stream)
      return *stream;
    if (direct)
      return *direct;
    return llvm::outs();
  }

  /// Where a tool that writes by path (the linker) should write.
  llvm::StringRef tempPath() const {
    return temp ? temp->path() : llvm::StringRef(target);
  }

  /// Flushes, syncs and renames into place; false after printing an error
  /// (the temporary file is then removed and the target left alone).
  bool commit() {
    llvm::raw_fd_ostream *out = stream ? stream.get() : direct.get();
    if (out) {
      out->flush();
      if (std::error_code ec = out->error()) {
        out->clear_error();
        llvm::errs() << "gradec: error: cannot write '" << target
                     << "': " << ec.message() << "\n";
        return false;
      }
    } else if (!temp) {
      llvm::outs().flush();
      return true;
    }
    if (!temp)
      return true;
    // Durable before visible: after a crash the target holds either the
    // old or the complete new contents. Synced by name: the linker replaces
    // the temporary file rather than writing to our descriptor.
    int fd = ::open(temp->path().str().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::fsync(fd) != 0) {
      llvm::errs() << "gradec: error: cannot write '" << target
                   << "': " << std::strerror(errno) << "\n";
      if (fd >= 0)
        ::close(fd);
      return false;
    }
    ::close(fd);
    stream.reset();
    if (llvm::Error error = temp->keep(target)) {
      llvm::errs() << "gradec: error: cannot write '" << target
                   << "': " << llvm::toString(std::move(error)) << "\n";
      temp.reset();
      return false;
    }
    temp.reset();
    return true;
  }

  ~AtomicOutput() {
    // A stream with a pending error must not reach its destructor (LLVM
    // would call report_fatal_error): flush what is buffered (into the
    // temporary file, which is then discarded) and drop any error.
    for (llvm::raw_fd_ostream *out : {stream.get(), direct.get()}) {
      if (!out)
        continue;
      out->flush();
      out->clear_error();
    }
  }

private:
  AtomicOutput() = default;
  std::string target;
  std::optional<driver::ScopedTempFile> temp;
  std::unique_ptr<llvm::raw_fd_ostream> stream;
  std::unique_ptr<llvm::raw_fd_ostream> direct;
};

/// A stream that escapes control characters (except newline and tab) as
/// "\\xNN" on their way to stderr. Diagnostics echo the source line they
/// point at; a model or .mlir file with NUL or ESC bytes must not print
/// them raw to the user's terminal.
class EscapingStream : public llvm::raw_ostream {
public:
  explicit EscapingStream(llvm::raw_ostream &out) : out(out) {
    SetUnbuffered();
  }

private:
  void write_impl(const char *ptr, size_t size) override {
    for (size_t i = 0; i < size; ++i) {
      unsigned char c = static_cast<unsigned char>(ptr[i]);
      if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
        out << "\\x" << llvm::format_hex_no_prefix(c, 2);
      else
        out << ptr[i];
    }
    position += size;
  }
  uint64_t current_pos() const override { return position; }

  llvm::raw_ostream &out;
  uint64_t position = 0;
};

/// Whether `text` has a control character other than newline, tab and
/// carriage return.
bool hasControlCharacters(llvm::StringRef text) {
  return llvm::any_of(text, [](char c) {
    unsigned char byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && c != '\n' && c != '\t' && c != '\r') ||
           byte == 0x7f;
  });
}

/// LLVM's fatal errors (report_fatal_error, e.g. an I/O error on an output
/// stream) print through here; LLVM then runs its interrupt handlers, which
/// remove every file registered for removal on signals (all of gradec's
/// temporary files), and exits.
void reportFatalError(void *, const char *reason, bool) {
  llvm::errs() << "gradec: error: " << reason << "\n";
}

} // namespace

//===----------------------------------------------------------------------===//
// Compilation
//===----------------------------------------------------------------------===//

namespace {

/// The target, optimisation level and prefetching of a compilation
/// (--target, --opt-level, --prefetch), checked by compileMain.
static PipelineOptions pipelineOptions;

/// Where processBuffer links a shared library: the path the linker writes
/// (a temporary file) and the library's final file name (its soname).
struct LibraryOutput {
  std::string path;
  std::string soname;
};

/// Compiles one input chunk to the requested stage, writing to `os` (text
/// stages) or to the output file (binary stages).
LogicalResult processBuffer(std::unique_ptr<llvm::MemoryBuffer> buffer,
                            raw_ostream &os, Stage target, bool isMLIR,
                            const char *argv0,
                            const LibraryOutput &library = {}) {
  MLIRContext context;
  context.allowUnregisteredDialects(false);
  driver::loadDialects(context);
  llvm::SourceMgr sourceMgr;
  bool escape = hasControlCharacters(buffer->getBuffer());
  sourceMgr.AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());

  // The command line's pass-manager options (IR printing, --mlir-timing)
  // apply to every pipeline of the compilation.
  DefaultTimingManager timingManager;
  applyDefaultTimingManagerCLOptions(timingManager);
  TimingScope timing = timingManager.getRootScope();
  driver::CompileOptions options;
  options.target = target;
  options.pipeline = pipelineOptions;
  options.scheme = schemeName;
  if (gCompilingForRun && runDt.getNumOccurrences())
    options.dt = runDt;
  options.jvp = compileJvp;
  options.jvpIfDifferentiable = gCompilingForRun;
  options.proveSymmetry = !(checkSymmetryCommand && checkNoProof);
  options.libraryPath = library.path;
  options.soname = library.soname;
  options.jobs = compileJobs;
  options.splitThreshold = splitThreshold;
  options.timing = &timing;
  options.configurePasses = [&](PassManager &pm) -> LogicalResult {
    if (failed(applyPassManagerCLOptions(pm)))
      return failure();
    pm.enableTiming(timing);
    return success();
  };
  auto compileOnLargeStack = [&]() -> LogicalResult {
    return driver::compile(sourceMgr, context, isMLIR, os, options);
  };
  if (!verifyDiagnostics) {
    // Colours are lost through the escaping stream; it is only used for
    // inputs that need it.
    EscapingStream escaped(llvm::errs());
    SourceMgrDiagnosticHandler handler(sourceMgr, &context,
                                       escape ? static_cast<raw_ostream &>(escaped)
                                              : llvm::errs());
    return compileOnLargeStack();
  }
  SourceMgrDiagnosticVerifierHandler handler(sourceMgr, &context);
  (void)compileOnLargeStack();
  return handler.verify();
}

/// The default output of a stage: stdout for text, lib<model>.so / .o.
std::string defaultOutput(Stage stage, llvm::StringRef input) {
  if (driver::isTextStage(stage))
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

/// The host's wide vectors for the kernels of long matrix rows, unless a
/// width was asked for (it applies to every kernel).
void useHostVectorWidths(PipelineOptions &options) {
  options.wideVectorBits =
      options.vectorBits == 0 ? wideVectorBitsForHost() : 0;
}

int compileMain(const char *argv0) {
  std::optional<Stage> target = parseStage(emitStage);
  if (!target) {
    llvm::errs() << "gradec: error: unknown stage '" << emitStage
                 << "' for --emit (see --help)\n";
    return 1;
  }
  {
    std::string error;
    if (succeeded(parseTargets(targetName, pipelineOptions, error))) {
      pipelineOptions.optLevel = optLevel;
      pipelineOptions.prefetch = prefetchRows;
      pipelineOptions.cacheEdgeValues = cacheEdgeValues;
      pipelineOptions.indexBits = indexBits;
      pipelineOptions.cpuSchedule = cpuSchedule;
      pipelineOptions.cudaPath = cudaPath;
      pipelineOptions.gpuEmulation = gpuEmulation;
      pipelineOptions.gpuSchedule = gpuSchedule;
      pipelineOptions.vectorMath = vectorMath;
      if (succeeded(parseVectorWidth(vectorWidth, pipelineOptions.vectorBits,
                                     error))) {
        useHostVectorWidths(pipelineOptions);
        (void)checkPipelineOptions(pipelineOptions, error);
      }
    }
    if (!error.empty()) {
      llvm::errs() << "gradec: error: " << error << "\n";
      return 1;
    }
  }
  if (!inputLanguage.empty() && inputLanguage != "grade" &&
      inputLanguage != "mlir") {
    llvm::errs() << "gradec: error: unknown input language '"
                 << inputLanguage << "' (expected grade or mlir)\n";
    return 1;
  }
  if (outputFile.empty())
    outputFile = defaultOutput(*target, inputFile);
  // Before any work: the input must be a regular file, and the output must
  // not be the input (a failed compilation would otherwise delete the
  // model, a successful one replace it).
  if (!checkRegularInput(inputFile) ||
      !checkOutputsAreNotInputs(
          {{"the input '" + inputFile + "'", inputFile}},
          {{"the output '" + outputFile + "'", outputFile}}))
    return 1;
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
  if ((*target == Stage::SharedLib || *target == Stage::Object) &&
      splitInputFile) {
    llvm::errs() << "gradec: error: --split-input-file needs a text stage\n";
    return 1;
  }
  std::unique_ptr<AtomicOutput> output = AtomicOutput::open(outputFile);
  if (!output)
    return 1;
  if (*target == Stage::SharedLib) {
    // The linker writes the temporary file; its soname is the final name.
    LibraryOutput library{output->tempPath().str(),
                          llvm::sys::path::filename(outputFile).str()};
    if (failed(processBuffer(std::move(input), llvm::nulls(), *target, isMLIR,
                             argv0, library)))
      return 1;
    return output->commit() ? 0 : 1;
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
  return output->commit() ? 0 : 1;
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
/// to a temporary library (removed when this goes away, or by LLVM's signal
/// handlers on SIGINT and fatal errors).
struct LoadableLibrary {
  std::string path;
  std::optional<driver::ScopedTempFile> temp;
};

/// Compiles a source input into a temporary shared library.
LogicalResult prepareLibrary(llvm::StringRef input, const char *argv0,
                             LoadableLibrary &library) {
  if (!checkRegularInput(input))
    return failure();
  if (input.ends_with(".so")) {
    library.path = input.str();
    return success();
  }
  llvm::SmallString<128> model;
  llvm::sys::path::system_temp_directory(/*erasedOnReboot=*/true, model);
  llvm::sys::path::append(model, "grade-run-%%%%%%%%.so");
  llvm::Expected<driver::ScopedTempFile> temp = driver::ScopedTempFile::create(model);
  if (!temp) {
    llvm::errs() << "gradec: error: cannot create a temporary file: "
                 << llvm::toString(temp.takeError()) << "\n";
    return failure();
  }
  library.temp.emplace(std::move(*temp));
  library.path = library.temp->path().str();
  // A model file run (or inspected) is compiled as gradec compiles it.
  useHostVectorWidths(pipelineOptions);
  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> buffer = openInputFile(input, &error);
  if (!buffer) {
    llvm::errs() << "gradec: error: " << error << "\n";
    return failure();
  }
  return processBuffer(std::move(buffer), llvm::nulls(), Stage::SharedLib,
                       inputIsMLIR(input), argv0,
                       LibraryOutput{library.path, ""});
}

/// Prints the descriptor of a library, or of a source file compiled to a
/// temporary library, through the runtime's JSON writer (one format for
/// both).
/// R(z) = 1 + z b^T (I - z A)^-1 1 of a (diagonally implicit) tableau.
double stabilityFunction(TableauAttr tableau, double z) {
  unsigned s = tableau.getNumStages();
  std::vector<double> g(s);
  double sum = 0;
  for (unsigned i = 0; i < s; ++i) {
    double inner = 1;
    for (unsigned j = 0; j < i; ++j)
      inner += z * tableau.getA(i, j) * g[j];
    g[i] = inner / (1 - z * tableau.getA(i, i));
    sum += tableau.getB()[i] * g[i];
  }
  return 1 + z * sum;
}

/// `gradec info --schemes`: every built-in scheme, one line each.
int listSchemes() {
  MLIRContext context;
  driver::loadDialects(context);
  llvm::outs() << llvm::format("%-17s %-11s %-6s %-7s %s\n", "scheme", "kind",
                               "order", "stages", "properties");
  for (StringRef name : TableauAttr::getNamedSchemes()) {
    TableauAttr tableau = TableauAttr::getNamed(&context, name);
    std::string kind = tableau.getBdfOrder()   ? "multistep"
                       : tableau.isPartitioned() ? "symplectic"
                       : tableau.isImex()        ? "IMEX"
                       : tableau.isImplicit()  ? "implicit"
                       : tableau.isAdaptive()  ? "adaptive"
                                               : "explicit";
    std::string order = std::to_string(tableau.getOrder());
    if (tableau.isAdaptive())
      order += "(" + std::to_string(tableau.getEmbeddedOrder()) + ")";
    std::string properties;
    llvm::raw_string_ostream os(properties);
    if (tableau.getBdfOrder()) {
      os << "BDF" << tableau.getBdfOrder()
         << " with variable steps, Newton-Krylov on the JVP; L-stable; "
            "backward Euler starts; adaptive given rtol/atol (Milne's "
            "estimate)";
    } else if (tableau.isPartitioned()) {
      os << "partitioned: positions and velocities; order " << order
         << " on dx/dt = v, dv/dt = f(x)";
    } else if (tableau.isImplicit()) {
      // R at -1e12 stands for the limit; within 1e-6 of 0 is 0.
      double atInfinity = std::fabs(stabilityFunction(tableau, -1e12));
      bool lStable = atInfinity < 1e-6;
      if (tableau.isImex())
        os << "split rhs: explicit part evaluated, implicit part's ";
      os << "Newton-Krylov stages on the JVP; |R(-inf)| = "
         << llvm::format("%.3g", lStable ? 0.0 : atInfinity)
         << (lStable ? " (L-stable)" : "");
      if (tableau.isAdaptive())
        os << "; error estimate, adaptive steps";
    } else {
      grade_scheme_desc_t desc = {};
      std::vector<double> a(tableau.getA()), b(tableau.getB()),
          c(tableau.getC());
      desc.stages = int32_t(tableau.getNumStages());
      desc.a = a.data();
      desc.b = b.data();
      desc.c = c.data();
      os << "stable for dt * rho <= "
         << llvm::format("%.6f", grade_scheme_stability_limit(&desc))
         << " on real negative spectra";
      if (tableau.isAdaptive())
        os << "; error estimate"
           << (tableau.isFSAL() ? ", FSAL" : "")
           << (!tableau.getMid().empty() ? ", quartic dense output"
               : tableau.isFSAL()        ? ", Hermite dense output"
                                         : "");
    }
    llvm::outs() << llvm::format("%-17s %-11s %-6s %-7u %s\n",
                                 name.str().c_str(), kind.c_str(),
                                 order.c_str(), tableau.getNumStages(),
                                 properties.c_str());
  }
  return 0;
}

int infoMain(const char *argv0) {
  if (infoSchemes)
    return listSchemes();
  if (infoInput.empty()) {
    llvm::errs() << "gradec: error: 'gradec info' needs a model file or "
                    "library, or --schemes\n";
    return 1;
  }
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

/// Reports progress on stderr: on a terminal, a bar redrawn in place once
/// a run has lasted a second; otherwise (a log file, a pipe, a batch job) a
/// line every --progress-interval seconds, so that a long run shows it is
/// alive and how far it got.
struct Progress {
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point lastDraw = start;
  bool drawn = false;
  bool terminal = isatty(STDERR_FILENO);
  std::chrono::duration<double> interval{5.0};

  /// Steps taken (the callback runs once per step).
  long long steps = 0;

  static int callback(void *user, double t, double t0, double t1) {
    auto *self = static_cast<Progress *>(user);
    ++self->steps;
    auto now = std::chrono::steady_clock::now();
    double fraction = t1 > t0 ? (t - t0) / (t1 - t0) : 1.0;
    if (!self->terminal) {
      if (now - self->lastDraw < self->interval)
        return 0;
      self->lastDraw = now;
      std::fprintf(stderr,
                   "gradec: step %lld, t = %g (%.1f%% of [%g, %g]), %.1f s\n",
                   self->steps, t, 100 * fraction, t0, t1,
                   std::chrono::duration<double>(now - self->start).count());
      std::fflush(stderr);
      return 0;
    }
    if (now - self->start < std::chrono::seconds(1) ||
        now - self->lastDraw < std::chrono::milliseconds(100))
      return 0;
    self->lastDraw = now;
    self->drawn = true;
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

/// Parses the NAME=FILE bindings of one flag.
bool parseBindings(const std::vector<std::string> &bindings,
                   llvm::StringRef flag,
                   std::vector<std::pair<std::string, std::string>> &out) {
  for (const std::string &binding : bindings) {
    std::string name, file;
    if (!splitBinding(binding, flag, name, file))
      return false;
    // Binding a field twice is a mistake (which file wins?); writing one
    // field to two files is not.
    if (flag != "output" && llvm::any_of(out, [&](const auto &previous) {
          return previous.first == name;
        })) {
      llvm::errs() << "gradec: error: --" << flag << " " << name
                   << " is given twice\n";
      return false;
    }
    out.push_back({name, file});
  }
  return true;
}

/// The array `field` expects made from `tensor` by the conversions
/// --convert allows: f32 <-> f64, bool and integer arrays (masks, labels)
/// to floats when every value is exact, and a unit axis added or dropped
/// after the node or edge axis ([N, 1] <-> [N]); null when neither applies
/// or the result would still not fit.
grade_tensor_t *convertedArray(const grade_field_desc_t &field,
                               const grade_graph_t *graph,
                               const grade_tensor_t &tensor) {
  std::vector<int64_t> expected;
  if (field.kind == GRADE_KIND_NODE)
    expected.push_back(grade_graph_num_nodes(graph));
  else if (field.kind == GRADE_KIND_EDGE)
    expected.push_back(grade_graph_num_edges(graph));
  for (int32_t d = 0; d < field.rank; ++d)
    expected.push_back(field.shape[d]);
  std::vector<int64_t> actual(tensor.shape, tensor.shape + tensor.rank);
  // Floats to floats; masks and labels (bool, i32, i64) to floats, where
  // every value is exact in the field's type.
  bool toFloat =
      field.dtype == GRADE_DTYPE_F32 || field.dtype == GRADE_DTYPE_F64;
  if (!toFloat || grade_dtype_size(tensor.dtype) == 0)
    return nullptr;
  int64_t numel = grade_tensor_numel(&tensor);
  auto valueAt = [&](int64_t k) -> double {
    switch (tensor.dtype) {
    case GRADE_DTYPE_F32:
      return static_cast<const float *>(tensor.data)[k];
    case GRADE_DTYPE_F64:
      return static_cast<const double *>(tensor.data)[k];
    case GRADE_DTYPE_I32:
      return static_cast<const int32_t *>(tensor.data)[k];
    case GRADE_DTYPE_I64:
      return double(static_cast<const int64_t *>(tensor.data)[k]);
    default: // GRADE_DTYPE_BOOL
      return static_cast<const uint8_t *>(tensor.data)[k] != 0;
    }
  };
  if (tensor.dtype == GRADE_DTYPE_I64 || tensor.dtype == GRADE_DTYPE_I32) {
    int64_t exact = field.dtype == GRADE_DTYPE_F32 ? (int64_t(1) << 24)
                                                   : (int64_t(1) << 53);
    for (int64_t k = 0; k < numel; ++k) {
      int64_t v = tensor.dtype == GRADE_DTYPE_I64
                      ? static_cast<const int64_t *>(tensor.data)[k]
                      : static_cast<const int32_t *>(tensor.data)[k];
      if (v > exact || v < -exact)
        return nullptr;
    }
  }
  auto withoutUnits = [](std::vector<int64_t> shape) {
    while (shape.size() > 1 && shape.back() == 1)
      shape.pop_back();
    return shape;
  };
  bool sameShape = actual == expected;
  if (!sameShape && withoutUnits(actual) != withoutUnits(expected))
    return nullptr;
  if (sameShape && tensor.dtype == field.dtype)
    return nullptr; // nothing to convert
  grade_tensor_t *out = nullptr;
  if (grade_status_t status = grade_tensor_create(
          field.dtype, int32_t(expected.size()), expected.data(), &out)) {
    grade_status_free(status);
    return nullptr;
  }
  int64_t count = grade_tensor_numel(out);
  for (int64_t k = 0; k < count; ++k) {
    double value = valueAt(k);
    if (field.dtype == GRADE_DTYPE_F64)
      static_cast<double *>(out->data)[k] = value;
    else
      static_cast<float *>(out->data)[k] = float(value);
  }
  return out;
}

/// Whether a path names an archive of arrays (.npz, safetensors).
bool isArchivePath(llvm::StringRef path) {
  llvm::StringRef ext = llvm::sys::path::extension(path);
  return ext.equals_insensitive(".npz") ||
         ext.equals_insensitive(".safetensors");
}

/// Where the array of a binding NAME=SPEC comes from: FILE.npy, or
/// FILE.npz|.safetensors[:ENTRY], the entry defaulting to NAME.
struct ArraySource {
  std::string file;
  std::string entry; ///< empty for an .npy file
};
ArraySource arraySource(llvm::StringRef name, llvm::StringRef spec) {
  size_t colon = spec.rfind(':');
  if (colon != llvm::StringRef::npos && isArchivePath(spec.take_front(colon)))
    return {spec.take_front(colon).str(), spec.drop_front(colon + 1).str()};
  if (isArchivePath(spec))
    return {spec.str(), name.str()};
  return {spec.str(), ""};
}

/// Reads the array of `source`; errors are printed.
grade_tensor_t *readArray(const ArraySource &source) {
  grade_tensor_t *tensor = nullptr;
  if (source.entry.empty()) {
    if (failedStatus(grade_npy_read(source.file.c_str(), &tensor)))
      return nullptr;
    return tensor;
  }
  grade_archive_t *archive = nullptr;
  if (failedStatus(grade_archive_open(source.file.c_str(), &archive)))
    return nullptr;
  bool ok = !failedStatus(
      grade_archive_read(archive, source.entry.c_str(), &tensor));
  grade_archive_close(archive);
  return ok ? tensor : nullptr;
}

/// Whether a --graph file is an edge list (by its extension) rather than
/// Matrix Market.
bool isEdgeList(llvm::StringRef path) {
  llvm::StringRef ext = llvm::sys::path::extension(path);
  return ext.equals_insensitive(".csv") || ext.equals_insensitive(".tsv") ||
         ext.equals_insensitive(".edges") ||
         ext.equals_insensitive(".edgelist") || ext.equals_insensitive(".txt");
}

/// Reads a graph: gen:SPEC, an .npz in PyG's layout, an edge list or a
/// Matrix Market file; null after printing the error.
grade_graph_t *readGraph(llvm::StringRef source, int64_t nodes,
                         const grade_mtx_options_t &mtxOptions) {
  grade_graph_t *graph = nullptr;
  std::string path = source.str();
  grade_status_t status;
  if (source.consume_front("gen:"))
    status = grade_graph_generate(source.str().c_str(), &graph);
  else if (llvm::sys::path::extension(source).equals_insensitive(".npz"))
    status = grade_graph_read_npz(path.c_str(), nodes, &graph);
  else if (isEdgeList(source))
    status = grade_graph_read_edge_list(path.c_str(), nodes, &graph);
  else
    status = grade_graph_read_mtx_ex(path.c_str(), &mtxOptions, &graph);
  return failedStatus(status) ? nullptr : graph;
}

int augmentMain(const char *argv0) {
  if (!std::isfinite(augmentEps)) {
    llvm::errs() << "gradec: error: --eps must be a finite number\n";
    return 1;
  }
  std::vector<NamedFile> readFiles = {
      {"the model '" + augmentInput + "'", augmentInput},
      {"--trajectory " + augmentTrajectory, augmentTrajectory}};
  if (!checkOutputsAreNotInputs(readFiles,
                                {{"-o " + augmentOutput, augmentOutput}}))
    return 1;
  LoadableLibrary library;
  if (failed(prepareLibrary(augmentInput, argv0, library)))
    return 1;
  grade_library_t *lib = nullptr;
  if (failedStatus(grade_library_load(library.path.c_str(), &lib)))
    return 1;
  grade_tensor_t *frames = nullptr, *times = nullptr, *moved = nullptr,
                 *movedTimes = nullptr, *movedPeriod = nullptr;
  llvm::scope_exit cleanup([&] {
    for (grade_tensor_t *tensor :
         {frames, times, moved, movedTimes, movedPeriod})
      grade_tensor_free(tensor);
    grade_library_unload(lib);
  });
  const grade_model_descriptor_t *desc = grade_library_descriptor(lib);
  const grade_symmetry_desc_t *symmetry = desc->symmetry;
  if (!symmetry || symmetry->lie_state < 0) {
    llvm::errs() << "gradec: error: model '" << desc->name
                 << "' has no 'lie' clause (point symmetries of its PDE)\n";
    return 1;
  }
  const char *state = desc->fields[symmetry->lie_state].name;
  double period = augmentPeriod;
  if (period == 0) {
    period = symmetry->lie_period;
    int32_t field = symmetry->lie_period_field;
    if (field >= 0) {
      if (!desc->param_defaults || std::isnan(desc->param_defaults[field])) {
        llvm::errs() << "gradec: error: the period of the grid is parameter '"
                     << desc->fields[field].name
                     << "', which has no default: give --period\n";
        return 1;
      }
      period = desc->param_defaults[field];
    }
  }
  grade_archive_t *archive = nullptr;
  if (failedStatus(grade_archive_open(augmentTrajectory.c_str(), &archive)))
    return 1;
  bool read =
      !failedStatus(grade_archive_read(archive, state, &frames)) &&
      !failedStatus(grade_archive_read(archive, "t", &times));
  grade_archive_close(archive);
  if (!read)
    return 1;
  if (frames->rank != 2 || times->rank != 1 ||
      times->shape[0] != frames->shape[0] ||
      times->dtype != GRADE_DTYPE_F64) {
    llvm::errs() << "gradec: error: " << augmentTrajectory << ": entry '"
                 << state << "' must be [T, N] and entry 't' [T] of f64 (one "
                 << "time per frame)\n";
    return 1;
  }
  int64_t count = times->shape[0];
  if (failedStatus(grade_tensor_create(GRADE_DTYPE_F64, 1, &count,
                                       &movedTimes)) ||
      failedStatus(grade_tensor_create(GRADE_DTYPE_F64, 0, nullptr,
                                       &movedPeriod)))
    return 1;
  if (failedStatus(grade_lie_augment(
          desc, augmentTransform.c_str(), augmentEps, frames,
          static_cast<const double *>(times->data), period, &moved,
          static_cast<double *>(movedTimes->data),
          static_cast<double *>(movedPeriod->data))))
    return 1;
  const char *names[] = {state, "t", "period"};
  const grade_tensor_t *arrays[] = {moved, movedTimes, movedPeriod};
  if (failedStatus(grade_npz_write(augmentOutput.c_str(), 3, names, arrays)))
    return 1;
  llvm::outs() << "augment: '" << augmentTransform
               << llvm::format("' at eps = %g", double(augmentEps)) << " of "
               << frames->shape[0] << " frames of " << frames->shape[1]
               << llvm::format(" nodes: period %g -> %g", period,
                               *static_cast<double *>(movedPeriod->data))
               << ", wrote " << augmentOutput << "\n";
  return 0;
}

int checkSymmetryMain(const char *argv0) {
  if (checkTrials < 1) {
    llvm::errs() << "gradec: error: --trials must be at least 1\n";
    return 1;
  }
  if (!(checkTolerance >= 0)) {
    llvm::errs() << "gradec: error: --tolerance must be non-negative\n";
    return 1;
  }
  LoadableLibrary library;
  if (failed(prepareLibrary(checkInput, argv0, library)))
    return 1;
  std::set_new_handler(nullptr);
  grade_library_t *lib = nullptr;
  if (failedStatus(grade_library_load(library.path.c_str(), &lib)))
    return 1;
  const grade_model_descriptor_t *desc = grade_library_descriptor(lib);
  tool::SymmetryCheckOptions options;
  options.trials = checkTrials;
  options.seed = checkSeed;
  options.tolerance = checkTolerance;
  std::vector<grade_tensor_t *> arrays;
  grade_graph_t *graph = nullptr;
  llvm::scope_exit cleanup([&] {
    for (grade_tensor_t *array : arrays)
      grade_tensor_free(array);
    grade_graph_free(graph);
    grade_library_unload(lib);
  });
  for (const std::string &file : checkLoads) {
    grade_archive_t *archive = nullptr;
    if (failedStatus(grade_archive_open(file.c_str(), &archive)))
      return 1;
    llvm::scope_exit close([&] { grade_archive_close(archive); });
    for (int64_t k = 0, n = grade_archive_num_entries(archive); k < n; ++k) {
      std::string name = grade_archive_entry_name(archive, k);
      grade_tensor_t *array = nullptr;
      if (failedStatus(grade_archive_read(archive, name.c_str(), &array)))
        return 1;
      arrays.push_back(array);
      options.fixed.push_back({name, array});
    }
  }
  std::string graphSource = checkGraph;
  if (graphSource.empty()) {
    if (!desc->default_graph) {
      llvm::errs() << "gradec: error: 'check-symmetry' needs --graph FILE or "
                      "--graph gen:SPEC: model '"
                   << desc->name << "' names no graph of its own\n";
      return 1;
    }
    graphSource = desc->default_graph;
  }
  llvm::StringRef points = graphSource;
  if (points.consume_front("points:")) {
    auto [name, spec] = points.split(':');
    options.pointsField = name.str();
    options.pointsSpec = spec.str();
  } else {
    grade_mtx_options_t mtxOptions = GRADE_MTX_OPTIONS_INIT;
    if (!(graph = readGraph(graphSource, checkGraphNodes, mtxOptions)))
      return 1;
    options.graph = graph;
    if (llvm::StringRef(graphSource).starts_with("gen:"))
      options.graphSpec = graphSource.substr(4);
  }
  return tool::checkSymmetry(lib, options, llvm::outs());
}

int runMain(const char *argv0) {
  // Everything that can be checked without the model is checked first: the
  // bindings' syntax, the options, and that no output overwrites an input
  // (the library being run above all: rewriting a loaded library crashes).
  std::vector<std::pair<std::string, std::string>> inputs, params, outputs,
      sets;
  if (!parseBindings(runInputs, "input", inputs) ||
      !parseBindings(runParams, "param", params) ||
      !parseBindings(runSets, "set", sets) ||
      !parseBindings(runOutputs, "output", outputs))
    return 1;
  for (const auto &set : sets) {
    const std::string &name = set.first, &value = set.second;
    if (llvm::any_of(params, [&](const auto &p) { return p.first == name; })) {
      llvm::errs() << "gradec: error: parameter '" << name
                   << "' is given by both --set and --param\n";
      return 1;
    }
    double number;
    if (llvm::StringRef(value).trim().getAsDouble(number) ||
        !std::isfinite(number)) {
      llvm::errs() << "gradec: error: --set " << name << "=" << value
                   << ": the value must be a finite number\n";
      return 1;
    }
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
  if (!(runProgressInterval >= 0 && std::isfinite(runProgressInterval))) {
    llvm::errs() << "gradec: error: --progress-interval must be a "
                    "non-negative number of seconds, got "
                 << llvm::format("%g", double(runProgressInterval)) << "\n";
    return 1;
  }
  if (!(runMaxNorm >= 0)) {
    llvm::errs() << "gradec: error: --max-norm must be a non-negative "
                    "number (0: no bound), got "
                 << llvm::format("%g", double(runMaxNorm)) << "\n";
    return 1;
  }
  int32_t reorder = GRADE_REORDER_AUTO;
  if (grade_status_t status =
          grade_reorder_parse(runReorder.c_str(), &reorder)) {
    llvm::errs() << "gradec: error: --reorder: "
                 << grade_status_message(status) << "\n";
    grade_status_free(status);
    return 1;
  }
  grade_mtx_options_t mtxOptions = GRADE_MTX_OPTIONS_INIT;
  mtxOptions.allow_upper_triangle = runMtxAllowUpper ? 1 : 0;
  if (runMtxDuplicates == "error") {
    mtxOptions.duplicates = GRADE_MTX_DUPLICATES_ERROR;
  } else if (runMtxDuplicates == "sum") {
    mtxOptions.duplicates = GRADE_MTX_DUPLICATES_SUM;
  } else if (runMtxDuplicates == "keep") {
    mtxOptions.duplicates = GRADE_MTX_DUPLICATES_KEEP;
  } else {
    llvm::errs() << "gradec: error: --mtx-duplicates must be error, sum or "
                    "keep, got '"
                 << runMtxDuplicates << "'\n";
    return 1;
  }
  // The graph: --graph, else (once the library is loaded) the one the model
  // file names.
  std::string graphSource = runGraph;
  std::vector<NamedFile> readFiles, written;
  {
    readFiles = {
        {(llvm::StringRef(runInput).ends_with(".so") ? "the model library '"
                                                      : "the model '") +
             runInput + "'",
         runInput}};
    if (!graphSource.empty() &&
        !llvm::StringRef(graphSource).starts_with("gen:"))
      readFiles.push_back({"the graph '" + graphSource + "'", graphSource});
    for (const auto &[name, file] : inputs)
      readFiles.push_back(
          {"--input " + name + "=" + file, arraySource(name, file).file});
    for (const auto &[name, file] : params)
      readFiles.push_back(
          {"--param " + name + "=" + file, arraySource(name, file).file});
    for (const std::string &file : runLoads)
      readFiles.push_back({"--load " + file, file});
    for (const auto &[name, file] : outputs) {
      // Several fields go into one .npz: the archive is one output.
      if (isArchivePath(file) &&
          llvm::any_of(written, [&, &file = file](const NamedFile &other) {
            return other.path == file;
          }))
        continue;
      written.push_back({"--output " + name + "=" + file, file});
    }
    if (!checkOutputsAreNotInputs(readFiles, written))
      return 1;
  }

  LoadableLibrary library;
  gCompilingForRun = true;
  // A model file run on a GPU is compiled for it too (PTX for sm_80, which
  // every supported GPU runs).
  if (llvm::StringRef(runDevice).starts_with("cuda") &&
      !llvm::StringRef(runInput).ends_with(".so")) {
    std::string error;
    if (succeeded(parseTargets("cpu,cuda", pipelineOptions, error)))
      (void)checkPipelineOptions(pipelineOptions, error);
    if (!error.empty()) {
      llvm::errs() << "gradec: error: " << error << "\n";
      return 1;
    }
  }
  if (failed(prepareLibrary(runInput, argv0, library)))
    return 1;
  // The runtime's temporary output files are removed, like the compiler's,
  // by LLVM's signal handlers when a signal ends the run mid-write.
  grade_set_temp_file_hooks(
      [](const char *path, void *) { llvm::sys::RemoveFileOnSignal(path); },
      [](const char *path, void *) {
        llvm::sys::DontRemoveFileOnSignal(path);
      },
      nullptr);
  // InitLLVM's new-handler aborts on allocation failure ("LLVM ERROR: out of
  // memory"). The compilation is over: let std::bad_alloc reach the
  // runtime, which reports a too-large graph or array as an error.
  std::set_new_handler(nullptr);
  grade_library_t *lib = nullptr;
  if (failedStatus(grade_library_load(library.path.c_str(), &lib)))
    return 1;
  const grade_model_descriptor_t *desc = grade_library_descriptor(lib);
  if (graphSource.empty()) {
    if (!desc->default_graph) {
      llvm::errs() << "gradec: error: 'run' needs --graph FILE or --graph "
                      "gen:SPEC: model '"
                   << desc->name
                   << "' names no graph of its own (as in 'graph G = "
                      "cycle(64);')\n";
      grade_library_unload(lib);
      return 1;
    }
    graphSource = desc->default_graph;
    if (!llvm::StringRef(graphSource).starts_with("gen:") &&
        !llvm::StringRef(graphSource).starts_with("points:")) {
      readFiles.push_back({"the model's graph '" + graphSource + "'",
                           graphSource});
      if (!checkOutputsAreNotInputs(readFiles, written)) {
        grade_library_unload(lib);
        return 1;
      }
    }
  }
  if (!schemeName.empty() && schemeName != desc->scheme.name) {
    llvm::errs() << "gradec: error: " << runInput << " was compiled for "
                 << "scheme '" << desc->scheme.name << "'; --scheme "
                 << schemeName << " needs the model file\n";
    return 1;
  }
  grade_session_t *session = nullptr;
  grade_graph_t *graph = nullptr;
  int rc = 1;
  llvm::scope_exit cleanup([&] {
    grade_session_free(session);
    grade_graph_free(graph);
    grade_library_unload(lib);
  });

  llvm::StringRef pointsSpec = graphSource;
  if (pointsSpec.consume_front("points:")) {
    // A point cloud's graph, from the input that holds the positions: its
    // --input, else the --load file that has it.
    auto [name, spec] = pointsSpec.split(':');
    std::optional<ArraySource> source;
    for (const auto &[input, file] : inputs)
      if (input == name)
        source = arraySource(input, file);
    for (const std::string &file : runLoads) {
      if (source)
        break;
      grade_archive_t *archive = nullptr;
      if (failedStatus(grade_archive_open(file.c_str(), &archive)))
        return 1;
      if (grade_archive_has_entry(archive, name.str().c_str()))
        source = ArraySource{file, name.str()};
      grade_archive_close(archive);
    }
    if (!source) {
      llvm::errs() << "gradec: error: model '" << desc->name
                   << "' builds its graph from the positions '" << name
                   << "': give --input " << name
                   << "=FILE (or --graph to use another graph)\n";
      return 1;
    }
    grade_tensor_t *points = readArray(*source);
    if (!points)
      return 1;
    grade_status_t status =
        grade_graph_from_points(points, spec.str().c_str(), &graph);
    grade_tensor_free(points);
    if (status) {
      llvm::errs() << "gradec: error: " << source->file
                   << (source->entry.empty() ? ""
                                             : ": entry '" + source->entry + "'")
                   << ": the graph of '" << name << "': "
                   << grade_status_message(status) << "\n";
      grade_status_free(status);
      return 1;
    }
  } else if (!(graph = readGraph(graphSource, runGraphNodes, mtxOptions))) {
    return 1;
  }
  if (failedStatus(grade_session_create(lib, &session)) ||
      failedStatus(grade_session_set_threads(session, runThreads)) ||
      failedStatus(grade_session_set_device(session, runDevice.c_str())) ||
      failedStatus(grade_session_set_reorder(session, reorder)))
    return 1;
  // Binding includes computing the node ordering: --stats reports both.
  auto beforeBind = std::chrono::steady_clock::now();
  if (failedStatus(grade_session_bind_graph(session, graph)))
    return 1;
  double bindMs = std::chrono::duration<double, std::milli>(
                      std::chrono::steady_clock::now() - beforeBind)
                      .count();
  // What to bind: --load's entries first (those that --input, --param or
  // --set name are left out), then --input and --param.
  struct Binding {
    std::string name;
    ArraySource source;
    int32_t role; ///< grade_field_role_t expected; 0 for either
  };
  std::vector<Binding> bindings;
  for (const std::string &file : runLoads) {
    grade_archive_t *archive = nullptr;
    if (failedStatus(grade_archive_open(file.c_str(), &archive)))
      return 1;
    std::vector<std::string> names;
    for (int64_t k = 0, n = grade_archive_num_entries(archive); k < n; ++k)
      names.push_back(grade_archive_entry_name(archive, k));
    grade_archive_close(archive);
    for (const std::string &name : names) {
      auto named = [&](const auto &binding) { return binding.first == name; };
      if (llvm::any_of(inputs, named) || llvm::any_of(params, named) ||
          llvm::any_of(sets, named))
        continue;
      const grade_field_desc_t *field =
          grade_descriptor_find_field(desc, name.c_str());
      if (!field || (field->role != GRADE_ROLE_INPUT &&
                     field->role != GRADE_ROLE_PARAM)) {
        std::string bindable;
        for (int32_t f = 0; f < desc->num_fields; ++f)
          if (desc->fields[f].role == GRADE_ROLE_INPUT ||
              desc->fields[f].role == GRADE_ROLE_PARAM)
            bindable += std::string(bindable.empty() ? "" : ", ") +
                        desc->fields[f].name;
        llvm::errs() << "gradec: error: --load " << file << ": entry '"
                     << name << "' is not an input or parameter of model '"
                     << desc->name << "' (they are: "
                     << (bindable.empty() ? "none" : bindable)
                     << "); bind entries one by one with --input or "
                        "--param NAME=FILE:ENTRY\n";
        return 1;
      }
      if (llvm::any_of(bindings,
                       [&](const Binding &b) { return b.name == name; })) {
        llvm::errs() << "gradec: error: '" << name
                     << "' is in more than one --load file\n";
        return 1;
      }
      bindings.push_back({name, {file, name}, 0});
    }
  }
  for (const auto &[name, file] : inputs)
    bindings.push_back({name, arraySource(name, file), GRADE_ROLE_INPUT});
  for (const auto &[name, file] : params)
    bindings.push_back({name, arraySource(name, file), GRADE_ROLE_PARAM});
  {
    for (const auto &[name, source, expected] : bindings) {
      const grade_field_desc_t *field =
          grade_descriptor_find_field(desc, name.c_str());
      if (field && expected && field->role != expected) {
        llvm::errs() << "gradec: error: '" << name << "' is not "
                     << (expected == GRADE_ROLE_INPUT ? "an input"
                                                      : "a parameter")
                     << " of model '" << desc->name << "'\n";
        return 1;
      }
      grade_tensor_t *tensor = readArray(source);
      if (!tensor)
        return 1;
      std::string file =
          source.entry.empty()
              ? source.file
              : source.file + ": entry '" + source.entry + "'";
      // --convert: f32 <-> f64 and [N, 1] <-> [N], only when asked.
      grade_tensor_t *converted =
          field ? convertedArray(*field, graph, *tensor) : nullptr;
      bool convertible = converted != nullptr;
      if (convertible && runConvert)
        std::swap(tensor, converted);
      grade_tensor_free(converted);
      grade_status_t status = grade_session_bind(session, name.c_str(), tensor);
      grade_tensor_free(tensor);
      if (status) {
        llvm::errs() << "gradec: error: " << file << ": "
                     << grade_status_message(status)
                     << (convertible && !runConvert
                             ? " (--convert converts the array)"
                             : "")
                     << "\n";
        grade_status_free(status);
        return 1;
      }
    }
  }

  // --set NAME=VALUE: a global scalar parameter from the command line.
  for (const auto &[name, value] : sets) {
    const grade_field_desc_t *field =
        grade_descriptor_find_field(desc, name.c_str());
    if (!field || field->role != GRADE_ROLE_PARAM ||
        field->kind != GRADE_KIND_GLOBAL || field->rank != 0) {
      llvm::errs() << "gradec: error: --set " << name << ": "
                   << (field ? "'" + name + "' is not a global scalar "
                                            "parameter (bind arrays with "
                                            "--param NAME=FILE.npy)"
                             : "model '" + std::string(desc->name) +
                                   "' has no parameter '" + name + "'")
                   << "\n";
      return 1;
    }
    double number = 0;
    llvm::StringRef(value).trim().getAsDouble(number);
    grade_tensor_t *tensor = nullptr;
    if (failedStatus(grade_tensor_create(field->dtype, 0, nullptr, &tensor)))
      return 1;
    if (field->dtype == GRADE_DTYPE_F32)
      *static_cast<float *>(tensor->data) = float(number);
    else
      *static_cast<double *>(tensor->data) = number;
    grade_status_t status = grade_session_bind(session, name.c_str(), tensor);
    grade_tensor_free(tensor);
    if (status) {
      llvm::errs() << "gradec: error: --set " << name << ": "
                   << grade_status_message(status) << "\n";
      grade_status_free(status);
      return 1;
    }
  }

  // Check every --output before spending time on the integration: the
  // field exists, and its file can be created where it is to go (the
  // runtime writes a temporary file in that directory, then renames it).
  for (const auto &[name, file] : outputs) {
    if (!grade_descriptor_find_field(desc, name.c_str())) {
      llvm::errs() << "gradec: error: --output: model '" << desc->name
                   << "' has no field '" << name << "'\n";
      return 1;
    }
    llvm::SmallString<128> dir(file);
    llvm::sys::path::remove_filename(dir);
    if (dir.empty())
      dir = ".";
    struct stat info;
    bool isDirectory = ::stat(dir.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
    if (!isDirectory || ::access(dir.c_str(), W_OK | X_OK) != 0) {
      llvm::errs() << "gradec: error: --output " << name << "=" << file
                   << ": cannot write in '" << dir << "': "
                   << (isDirectory ? std::strerror(errno)
                                   : "no such directory")
                   << "\n";
      return 1;
    }
  }

  // An input or parameter nothing binds: say how to bind it, and which
  // --load files lack it.
  for (int32_t f = 0; f < desc->num_fields; ++f) {
    const grade_field_desc_t &field = desc->fields[f];
    if (field.role != GRADE_ROLE_INPUT && field.role != GRADE_ROLE_PARAM)
      continue;
    std::string name = field.name;
    auto named = [&](const auto &binding) { return binding.name == name; };
    bool hasDefault = desc->param_defaults &&
                      !std::isnan(desc->param_defaults[f]);
    if (hasDefault || llvm::any_of(bindings, named) ||
        llvm::any_of(sets, [&](const auto &set) { return set.first == name; }))
      continue;
    bool input = field.role == GRADE_ROLE_INPUT;
    llvm::errs() << "gradec: error: " << (input ? "input '" : "parameter '")
                 << name << "' of model '" << desc->name
                 << "' is not bound; give " << (input ? "--input " : "--param ")
                 << name << "=FILE";
    if (!runLoads.empty()) {
      llvm::errs() << " (no --load file has an entry '" << name << "': ";
      llvm::interleave(runLoads, llvm::errs(), ", ");
      llvm::errs() << ")";
    }
    llvm::errs() << "\n";
    return 1;
  }

  auto start = std::chrono::steady_clock::now();
  if (failedStatus(grade_session_initialize(session)))
    return 1;
  auto afterInit = std::chrono::steady_clock::now();
  double t0 = grade_session_time(session);
  double t1 = std::isnan(runT1) ? desc->t1 : runT1;
  double dt = runDt > 0 ? runDt : desc->dt;
  // The output times: --times, or the end time alone.
  std::vector<double> times(runTimes.begin(), runTimes.end());
  bool stacked = !times.empty();
  if (stacked && !std::isnan(runT1)) {
    llvm::errs() << "gradec: error: give either --t1 or --times, not both\n";
    return 1;
  }
  if (!stacked)
    times.push_back(t1);
  for (size_t i = 0; i < times.size(); ++i) {
    double previous = i ? times[i - 1] : t0;
    if (!std::isfinite(times[i]) || !(times[i] > previous)) {
      llvm::errs() << "gradec: error: --times must increase from the start "
                   << "time " << llvm::format("%g", t0) << ": "
                   << llvm::format("%g", times[i]) << " follows "
                   << llvm::format("%g", previous) << "\n";
      return 1;
    }
  }
  // An explicit fixed step beyond the scheme's stability limit for this
  // problem: say so before the run blows up (when the library has JVPs).
  bool hasJvp = false;
  for (int32_t i = 0; i < desc->num_entries; ++i)
    hasJvp |= desc->entries[i].entry == GRADE_ENTRY_JVP;
  bool explicitFixed = !desc->adaptive.bhat && !desc->position_a &&
                       std::isfinite(grade_scheme_stability_limit(&desc->scheme));
  if (runStabilityCheck && hasJvp && explicitFixed && dt > 0) {
    double rho = 0;
    if (failedStatus(grade_session_spectral_radius(session, t0, 50, &rho)))
      return 1;
    double limit = grade_scheme_stability_limit(&desc->scheme);
    if (rho > 0 && dt * rho > limit)
      llvm::errs() << llvm::format(
          "gradec: warning: dt = %g exceeds the stability limit of %s for "
          "this problem: the Jacobian of the right-hand side has a spectral "
          "radius of about %.4g (power iteration at t = %g), and %s is "
          "stable for dt * rho <= %g, i.e. dt <= %.4g; take a smaller --dt "
          "or an implicit scheme (--scheme sdirk2 or backward_euler)\n",
          dt, desc->scheme.name, rho, t0, desc->scheme.name, limit,
          limit / rho);
  }
  Progress progress;
  progress.interval = std::chrono::duration<double>(runProgressInterval);
  // Given explicitly, each must be positive (0 would read as "not given").
  for (auto [flag, option] : {std::pair{"--rtol", &runRtol},
                              std::pair{"--atol", &runAtol}})
    if (option->getNumOccurrences() &&
        (!(*option > 0) || !std::isfinite(*option))) {
      llvm::errs() << "gradec: error: " << flag
                   << " must be a finite number > 0, got "
                   << llvm::format("%g", option->getValue()) << "\n";
      return 1;
    }
  if (runMaxSteps.getNumOccurrences() && runMaxSteps <= 0) {
    llvm::errs() << "gradec: error: --max-steps must be > 0, got "
                 << runMaxSteps << "\n";
    return 1;
  }
  // BDF2 takes tolerances too (and then steps adaptively).
  bool adaptive = desc->adaptive.bhat != nullptr || desc->bdf_order;
  for (const std::string &spec : runStateTolerances) {
    auto [name, values] = llvm::StringRef(spec).split('=');
    auto [rtolText, atolText] = values.split(',');
    double rtol = 0, atol = 0;
    if (name.empty() || !llvm::StringRef(spec).contains('=') ||
        !values.contains(',') ||
        (!rtolText.empty() && (rtolText.getAsDouble(rtol) || !(rtol > 0))) ||
        (!atolText.empty() && (atolText.getAsDouble(atol) || !(atol > 0)))) {
      llvm::errs() << "gradec: error: --tolerance expects NAME=RTOL,ATOL with "
                      "positive numbers (either may be left empty), got '"
                   << spec << "'\n";
      return 1;
    }
    if (failedStatus(grade_session_set_state_tolerance(
            session, name.str().c_str(), rtol, atol)))
      return 1;
  }
  if (!adaptive && (runRtol.getNumOccurrences() ||
                    runAtol.getNumOccurrences() ||
                    runStateTolerances.getNumOccurrences() ||
                    runMaxSteps.getNumOccurrences())) {
    llvm::errs() << "gradec: error: --rtol, --atol, --tolerance and "
                 << "--max-steps apply to "
                 << "adaptive schemes; '" << desc->scheme.name
                 << "' takes fixed steps\n";
    return 1;
  }
  // A tolerance that an f32 state cannot resolve makes the controller
  // chase rounding: say so (SciPy warns likewise).
  if (adaptive) {
    double rtol = runRtol > 0               ? runRtol.getValue()
                  : desc->adaptive.rtol > 0 ? desc->adaptive.rtol
                                            : 1e-3;
    for (int32_t i = 0; i < desc->num_fields; ++i) {
      const grade_field_desc_t &field = desc->fields[i];
      if (field.role == GRADE_ROLE_STATE && field.dtype == GRADE_DTYPE_F32 &&
          rtol < 1e-6) {
        llvm::errs() << llvm::format(
            "gradec: warning: rtol = %g is below what the f32 state '%s' "
            "resolves (its values carry about 1.2e-7 relative rounding); "
            "the steps may shrink to chase rounding errors: use rtol >= "
            "1e-6, or f64 states\n",
            rtol, field.name);
        break;
      }
    }
  }
  // Per output, its value at each time (read by the output callback).
  struct Snapshots {
    grade_session_t *session;
    const std::vector<std::pair<std::string, std::string>> *outputs;
    std::vector<std::vector<grade_tensor_t *>> tensors;
    grade_status_t status = nullptr;
  } snapshots{session, &outputs, {}, nullptr};
  snapshots.tensors.resize(outputs.size());
  llvm::scope_exit freeSnapshots([&] {
    for (auto &tensors : snapshots.tensors)
      for (grade_tensor_t *tensor : tensors)
        grade_tensor_free(tensor);
    grade_status_free(snapshots.status);
  });
  grade_integrate_options_t options = GRADE_INTEGRATE_OPTIONS_INIT;
  options.dt = dt;
  options.progress = Progress::callback;
  options.user = &progress;
  options.max_abs = runMaxNorm;
  options.rtol = runRtol;
  options.atol = runAtol;
  options.max_steps = runMaxSteps;
  options.times = times.data();
  options.num_times = int64_t(times.size());
  if (runLinearSolver != "gmres" && runLinearSolver != "cg") {
    llvm::errs() << "gradec: error: --linear-solver must be gmres or cg, got '"
                 << runLinearSolver << "'\n";
    return 1;
  }
  for (auto [flag, value] : {std::pair{"--newton-tol", runNewtonTol.getValue()},
                             std::pair{"--krylov-tol", runKrylovTol.getValue()},
                             std::pair{"--max-newton",
                                       double(runMaxNewton.getValue())},
                             std::pair{"--max-krylov",
                                       double(runMaxKrylov.getValue())}})
    if (value < 0 || !std::isfinite(value)) {
      llvm::errs() << "gradec: error: " << flag << " must be > 0, got "
                   << llvm::format("%g", value) << "\n";
      return 1;
    }
  options.linear_solver = runLinearSolver == "cg" ? GRADE_LINEAR_SOLVER_CG
                                                  : GRADE_LINEAR_SOLVER_GMRES;
  if (runPreconditioner != "jacobi" && runPreconditioner != "none") {
    llvm::errs() << "gradec: error: --preconditioner must be jacobi or none, "
                    "got '"
                 << runPreconditioner << "'\n";
    return 1;
  }
  options.preconditioner = runPreconditioner == "none"
                               ? GRADE_PRECONDITIONER_NONE
                               : GRADE_PRECONDITIONER_JACOBI;
  options.newton_tol = runNewtonTol;
  options.krylov_tol = runKrylovTol;
  options.max_newton = runMaxNewton;
  options.max_krylov = runMaxKrylov;
  options.output_user = &snapshots;
  options.output = [](void *user, int64_t, double) -> int {
    auto *self = static_cast<Snapshots *>(user);
    for (auto [index, output] : llvm::enumerate(*self->outputs)) {
      grade_tensor_t *tensor = nullptr;
      self->status =
          grade_session_read(self->session, output.first.c_str(), &tensor);
      if (self->status)
        return 1;
      self->tensors[index].push_back(tensor);
    }
    return 0;
  };
  grade_integrate_stats_t total = GRADE_INTEGRATE_STATS_INIT;
  grade_status_t status =
      grade_session_integrate_ex(session, times.back(), &options, &total);
  if (snapshots.status) {
    progress.finish();
    grade_status_free(status);
    status = snapshots.status;
    snapshots.status = nullptr;
  }
  if (status) {
    progress.finish();
    failedStatus(status); // prints and frees it
    return 1;
  }
  auto &snapshotsOf = snapshots.tensors;
  progress.finish();
  auto end = std::chrono::steady_clock::now();
  long long steps = progress.steps;
  double initMs = std::chrono::duration<double, std::milli>(afterInit - start).count();
  double runMs = std::chrono::duration<double, std::milli>(end - afterInit).count();
  llvm::outs() << "model '" << desc->name << "' (" << desc->scheme.name;
  if (adaptive)
    llvm::outs() << ", adaptive";
  else
    llvm::outs() << ", dt = " << llvm::format("%g", dt);
  llvm::outs() << ") on " << grade_graph_num_nodes(graph) << " nodes, "
               << grade_graph_num_edges(graph) << " edges";
  // The GPU it ran on, if any.
  if (llvm::StringRef(grade_session_device(session)) != "cpu")
    llvm::outs() << ", " << grade_session_device(session);
  llvm::outs() << "\n";
  llvm::outs() << llvm::format(
      "integrated t = %g -> %g in %lld steps: %.3f ms (%.3f ms/step), "
      "initialisation %.3f ms\n",
      t0, times.back(), steps, runMs, steps ? runMs / steps : 0.0, initMs);
  if (runStats) {
    llvm::outs() << llvm::format(
        "statistics: %lld steps (%lld accepted, %lld rejected), %lld "
        "right-hand-side evaluations (%d stages), %lld scans of the states, "
        "%.6f s integrating",
        (long long)(total.accepted + total.rejected),
        (long long)total.accepted, (long long)total.rejected,
        (long long)total.rhs_evaluations, int(desc->scheme.stages),
        (long long)total.finite_checks, total.seconds);
    if (total.accepted)
      llvm::outs() << llvm::format(", steps from %g to %g", total.min_step,
                                   total.max_step);
    if (total.newton_iterations || total.jvp_evaluations)
      llvm::outs() << llvm::format(
          ", %lld Newton iterations, %lld Krylov iterations, %lld "
          "Jacobian-vector products",
          (long long)total.newton_iterations,
          (long long)total.krylov_iterations,
          (long long)total.jvp_evaluations);
    llvm::outs() << "\n";
    llvm::outs() << llvm::format(
        "node ordering: %s (%s), binding the graph %.3f ms\n",
        grade_reorder_name(grade_session_reorder(session)),
        runReorder.getNumOccurrences() ? "--reorder" : "auto", bindMs);
  }

  // Fields bound for one .npz are written together once they are all
  // gathered: file -> (entry names, tensors).
  struct Archive {
    std::string file;
    std::vector<std::string> names;
    std::vector<grade_tensor_t *> tensors;
  };
  std::vector<Archive> archives;
  llvm::scope_exit freeArchives([&] {
    for (Archive &archive : archives)
      for (grade_tensor_t *tensor : archive.tensors)
        grade_tensor_free(tensor);
  });
  for (auto [index, output] : llvm::enumerate(outputs)) {
    const auto &[name, file] = output;
    grade_tensor_t *tensor = snapshotsOf[index].back();
    grade_tensor_t *stack = nullptr;
    if (stacked) {
      // [times, ...the field's shape], one C-order block per time.
      const grade_tensor_t &first = *snapshotsOf[index].front();
      if (first.rank + 1 > GRADE_TENSOR_MAX_RANK) {
        llvm::errs() << "gradec: error: --output " << name << ": a field of "
                     << "rank " << first.rank << " cannot be stacked over "
                     << "--times (at most rank "
                     << GRADE_TENSOR_MAX_RANK - 1 << ")\n";
        return 1;
      }
      int64_t shape[GRADE_TENSOR_MAX_RANK] = {int64_t(times.size())};
      for (int32_t d = 0; d < first.rank; ++d)
        shape[d + 1] = first.shape[d];
      if (failedStatus(grade_tensor_create(first.dtype, first.rank + 1, shape,
                                           &stack)))
        return 1;
      size_t bytes = size_t(grade_tensor_numel(&first)) *
                     grade_dtype_size(first.dtype);
      for (auto [k, snapshot] : llvm::enumerate(snapshotsOf[index]))
        std::memcpy(static_cast<char *>(stack->data) + k * bytes,
                    snapshot->data, bytes);
      tensor = stack;
    }
    if (isArchivePath(file)) {
      if (llvm::sys::path::extension(file).equals_insensitive(".safetensors")) {
        grade_tensor_free(stack);
        llvm::errs() << "gradec: error: --output " << name << "=" << file
                     << ": outputs are written as .npy or .npz\n";
        return 1;
      }
      // Keep the tensor (a copy when it is a snapshot the run owns).
      grade_tensor_t *kept = stack;
      if (!kept) {
        if (failedStatus(grade_tensor_create(tensor->dtype, tensor->rank,
                                             tensor->shape, &kept)))
          return 1;
        std::memcpy(kept->data, tensor->data,
                    size_t(grade_tensor_numel(tensor)) *
                        grade_dtype_size(tensor->dtype));
      }
      auto it = llvm::find_if(archives, [&, &file = file](const Archive &a) {
        return a.file == file;
      });
      if (it == archives.end())
        it = archives.insert(archives.end(), Archive{file, {}, {}});
      it->names.push_back(name);
      it->tensors.push_back(kept);
      continue;
    }
    grade_status_t writeStatus = grade_npy_write(file.c_str(), tensor);
    grade_tensor_free(stack);
    if (failedStatus(writeStatus))
      return 1;
    llvm::outs() << "wrote '" << name << "' to " << file
                 << (stacked ? " (one row per --times entry)" : "") << "\n";
  }
  for (const Archive &archive : archives) {
    std::vector<const char *> names;
    for (const std::string &entry : archive.names)
      names.push_back(entry.c_str());
    std::vector<const grade_tensor_t *> tensors(archive.tensors.begin(),
                                                archive.tensors.end());
    if (failedStatus(grade_npz_write(archive.file.c_str(),
                                     int64_t(names.size()), names.data(),
                                     tensors.data())))
      return 1;
    llvm::outs() << "wrote ";
    llvm::interleave(
        archive.names, llvm::outs(),
        [&](const std::string &entry) { llvm::outs() << "'" << entry << "'"; },
        ", ");
    llvm::outs() << " to " << archive.file
                 << (stacked ? " (one row per --times entry)" : "") << "\n";
  }
  rc = 0;
  return rc;
}

} // namespace

int main(int argc, char **argv) {
  // A caller that ignores SIGXFSZ (to get EFBIG from a file-size limit)
  // expects write errors, not LLVM's crash handler, which InitLLVM installs
  // for that signal: keep the inherited disposition.
  struct sigaction xfsz;
  bool ignoreXfsz =
      sigaction(SIGXFSZ, nullptr, &xfsz) == 0 && xfsz.sa_handler == SIG_IGN;
  llvm::InitLLVM init(argc, argv);
  if (ignoreXfsz)
    std::signal(SIGXFSZ, SIG_IGN);
  llvm::install_fatal_error_handler(reportFatalError);
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
  // --help lists gradec's own options; LLVM's and MLIR's (IR printing,
  // timing, pass options) stay usable and are listed by --help-hidden.
  cl::HideUnrelatedOptions(category);
  cl::HideUnrelatedOptions(category, runCommand);
  cl::HideUnrelatedOptions(category, infoCommand);
  cl::HideUnrelatedOptions(category, checkSymmetryCommand);
  cl::HideUnrelatedOptions(category, augmentCommand);
  cl::ParseCommandLineOptions(
      argc, argv,
      "gradec: the grade compiler for differential equations on graphs\n\n"
      "  gradec model.grade -o libmodel.so [--emit=STAGE]\n"
      "  gradec info model.grade|libmodel.so\n"
      "  gradec run model.grade|libmodel.so --graph G.mtx --input x0=x0.npy "
      "--output x=x.npy\n"
      "  gradec check-symmetry model.grade --graph G.mtx\n"
      "  gradec augment model.grade --transform boost --eps 0.3 "
      "--trajectory u.npz -o u-boosted.npz\n\n"
      "LLVM's and MLIR's options (--mlir-print-ir-after-all, --mlir-timing, "
      "...) are listed by --help-hidden.\n");
  if (infoCommand)
    return infoMain(argv[0]);
  if (runCommand)
    return runMain(argv[0]);
  if (checkSymmetryCommand)
    return checkSymmetryMain(argv[0]);
  if (augmentCommand)
    return augmentMain(argv[0]);
  return compileMain(argv[0]);
}
