//===- Compiler.h - grade's compile API -------------------------*- C++ -*-===//
//
// Everything between a model file and a shared library, as a library:
// gradec is one client (its command line fills CompileOptions), a Python
// binding or a JIT can be others. Diagnostics go to the MLIRContext's
// handler (located: file:line:col), so each client reports them its way.
//
//   MLIRContext context;
//   grade::driver::loadDialects(context);
//   ... install a diagnostic handler ...
//   grade::driver::CompileOptions options;
//   options.libraryPath = "libheat.so";
//   LogicalResult ok = grade::driver::compile(sourceMgr, context,
//                                             /*isMLIR=*/false, llvm::nulls(),
//                                             options);
//
// or, for the common case, compileFileToLibrary(model, library, errors).
//
//===----------------------------------------------------------------------===//

#ifndef GRADE_COMPILER_DRIVER_COMPILER_H
#define GRADE_COMPILER_DRIVER_COMPILER_H

#include "compiler/Pipelines/Pipelines.h"
#include "compiler/Target/CPU.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <functional>
#include <string>

namespace grade::driver {

/// What to produce and how.
struct CompileOptions {
  /// The stage to stop at (text stages are printed to the stream given to
  /// compile(); Object and SharedLib are files).
  Stage target = Stage::SharedLib;
  /// Where the linker writes a shared library, and the library's DT_SONAME
  /// (empty: the file name of libraryPath). A client that renames the file
  /// into place afterwards passes the final name here.
  std::string libraryPath;
  std::string soname;
  /// The machine to compile for and LLVM's optimisation level; checked
  /// (checkPipelineOptions) before any target-dependent pipeline runs.
  PipelineOptions pipeline;
  /// Threads compiling a large model's host code (0: one per core); see
  /// grade::compileObjects.
  unsigned jobs = 0;
  /// The size (LLVM instructions) from which the host code is split into
  /// `jobs` partitions (tests lower it to split small models).
  unsigned splitThreshold = kMinInstructionsToSplit;
  /// A built-in scheme replacing the one of the model's `solve` clause
  /// (empty: the model's). Needs a module before scheme expansion.
  std::string scheme;
  /// With `scheme`: the step of a fixed-step scheme replacing an adaptive
  /// one whose solve clause gives no `dt` (0: none).
  double dt = 0;
  /// Also compile the Jacobian-vector products of the right-hand side (the
  /// library's jvp entry, grade_session_eval_jvp); implicit schemes always
  /// have them.
  bool jvp = false;
  /// Compile them where the right-hand side can be differentiated, without
  /// an error where it cannot (gradec run's stability check).
  bool jvpIfDifferentiable = false;
  /// Prove the right-hand side equivariant under the model's symmetry
  /// groups (sema's law checks). Off, the declared laws still reach the
  /// library, unproven: `gradec check-symmetry --no-proof` measures such
  /// a model.
  bool proveSymmetry = true;
  /// The compilation's timer (gradec's --mlir-timing), under which the
  /// frontend and the LLVM phases are timed beside the passes; may be null.
  mlir::TimingScope *timing = nullptr;
  /// Called on every pass manager before it runs (gradec applies its
  /// --mlir-print-ir-* and --mlir-timing options here); may be empty.
  std::function<mlir::LogicalResult(mlir::PassManager &)> configurePasses;
};

/// Registers every dialect a compilation reads or produces.
void loadDialects(mlir::MLIRContext &context);

/// The stage a module holds, from what it contains.
Stage detectStage(mlir::ModuleOp module);

/// Whether `stage` is printed as text (everything but Object and SharedLib).
bool isTextStage(Stage stage);

/// Parses the main buffer of `sourceMgr`: a `.grade` model (frontend, sema,
/// MLIRGen: Stage::Grade) or, if `isMLIR`, a module at any stage, which
/// `stage` returns. Null after reporting errors.
mlir::OwningOpRef<mlir::ModuleOp> loadModule(llvm::SourceMgr &sourceMgr,
                                             mlir::MLIRContext &context,
                                             bool isMLIR, Stage &stage,
                                             bool proveSymmetry = true);

/// Runs the pipelines that take `module` from stage `from` to `to`
/// (at most Stage::LLVMDialect) for options.pipeline, whose target must be
/// available in this build once `to` is target-dependent (Lowered on).
mlir::LogicalResult lowerTo(mlir::ModuleOp module, Stage from, Stage to,
                            const CompileOptions &options);

/// Lowers, translates, optimises for the host, emits an object file (a
/// temporary file removed on every exit path) and links the shared library
/// at options.libraryPath.
mlir::LogicalResult buildSharedLibrary(mlir::ModuleOp module, Stage from,
                                       const CompileOptions &options);

/// Compiles the main buffer of `sourceMgr` to options.target: text stages
/// (ast, grade, ..., llvm, asm, header) are written to `os`, an object
/// file's bytes too, a shared library to options.libraryPath.
mlir::LogicalResult compile(llvm::SourceMgr &sourceMgr,
                            mlir::MLIRContext &context, bool isMLIR,
                            llvm::raw_ostream &os,
                            const CompileOptions &options);

/// Compiles the model file `modelPath` into the shared library
/// `libraryPath`. On failure `errors` holds the diagnostics as gradec would
/// print them ("model.grade:3:7: error: ..."), one per line.
mlir::LogicalResult compileFileToLibrary(llvm::StringRef modelPath,
                                         llvm::StringRef libraryPath,
                                         std::string &errors);

} // namespace grade::driver

#endif // GRADE_COMPILER_DRIVER_COMPILER_H
