//===- FuzzFrontend.cpp - libFuzzer target: model file to kernels ---------===//
//
// Bytes -> SourceMgr -> driver::loadModule (lexer, parser, sema, MLIRGen)
// -> driver::lowerTo(Stage::GPU) (grade-opt rewrites, scheme expansion,
// fusion into kernels, the CPU's and the GPU's loops, the GPU's thread
// mapping and schedules). Diagnostics are counted and dropped; a failure is
// fine, a crash, an abort, a hang or a sanitizer report is a finding. A
// fresh MLIRContext per input (single-threaded, on the fuzzer's one core)
// keeps inputs independent, so that a crash file reproduces alone.
//
//===----------------------------------------------------------------------===//

#include "compiler/Driver/Compiler.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // Models are small; larger inputs only spend the time budget on the
  // frontend's linear parts (its depth and size limits have their own
  // tests).
  if (size > 16384)
    return -1;
  mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  grade::driver::loadDialects(context);
  int errors = 0;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &diag) {
    if (diag.getSeverity() == mlir::DiagnosticSeverity::Error)
      ++errors;
    // A message must not be empty: the user would see a bare location.
    if (diag.str().empty()) {
      std::fprintf(stderr, "empty diagnostic message\n");
      std::abort();
    }
    return mlir::success();
  });

  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(
          llvm::StringRef(reinterpret_cast<const char *>(data), size),
          "fuzz.grade"),
      llvm::SMLoc());
  grade::Stage stage = grade::Stage::Grade;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      grade::driver::loadModule(sourceMgr, context, /*isMLIR=*/false, stage);
  if (!module) {
    // A rejected model must say why.
    if (errors == 0) {
      std::fprintf(stderr, "loadModule failed without an error\n");
      std::abort();
    }
    return 0;
  }
  grade::driver::CompileOptions options;
  options.target = grade::Stage::GPU;
  options.pipeline.cudaChips = {"sm_80"};
  if (mlir::failed(
          grade::driver::lowerTo(*module, stage, grade::Stage::GPU, options)) &&
      errors == 0) {
    std::fprintf(stderr, "lowering failed without an error\n");
    std::abort();
  }
  return 0;
}
