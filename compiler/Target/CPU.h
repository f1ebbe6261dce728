//===- CPU.h - host code generation and linking -----------------*- C++ -*-===//
//
// From the LLVM dialect to a shared library for the host: translation to
// LLVM IR, LLVM's pipeline (O3 unless asked otherwise) tuned for the host
// CPU, object emission, and a link with ld.lld against the model support
// archive and libomp.
//
//===----------------------------------------------------------------------===//

#ifndef GRADE_COMPILER_TARGET_CPU_H
#define GRADE_COMPILER_TARGET_CPU_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Target/TargetMachine.h"

#include <memory>
#include <string>

namespace grade {

/// A target machine for the host CPU (all of its features) generating code
/// at optimisation level `optLevel` (0 to 3), or null with `error` set.
std::unique_ptr<llvm::TargetMachine>
createHostTargetMachine(std::string &error, unsigned optLevel = 3);

/// The vector bits for the kernels that multiply long matrix rows on this
/// host (PipelineOptions::wideVectorBits): 512 where it has AVX-512, whose
/// 512-bit vectors LLVM's tuning leaves unused (bench/README.md, "Vector
/// width"); 0 elsewhere.
unsigned wideVectorBitsForHost();

/// Translates an LLVM-dialect module to LLVM IR for `tm` and hides every
/// symbol except the ABI entry points. With `vectorBits` (128, 256 or
/// 512) every function prefers vectors of that width; 0 leaves it to
/// LLVM's tuning for the host (256 on the AVX-512 Xeons and EPYCs measured:
/// 512 was not a consistent gain, bench/README.md, "Vector width"), or
/// to a kernel's own `prefer-vector-width` (gk-choose-schedule).
/// `vectorMath` false keeps transcendental functions scalar libm calls
/// (optimizeModule reads the module flag "grade.vector-math").
std::unique_ptr<llvm::Module> translateToLLVMIR(mlir::ModuleOp module,
                                                llvm::LLVMContext &context,
                                                llvm::TargetMachine &tm,
                                                unsigned vectorBits = 0,
                                                bool vectorMath = true);

/// Runs LLVM's pipeline of level `optLevel` (0 to 3) on `module`.
void optimizeModule(llvm::Module &module, llvm::TargetMachine &tm,
                    unsigned optLevel = 3);

/// translateToLLVMIR, then optimizeModule.
std::unique_ptr<llvm::Module>
translateAndOptimize(mlir::ModuleOp module, llvm::LLVMContext &context,
                     llvm::TargetMachine &tm, unsigned optLevel = 3,
                     unsigned vectorBits = 0, bool vectorMath = true);

/// Below this many instructions (unoptimised) a module is compiled whole:
/// splitting would save less than it costs. The examples have at most about
/// 20k; a generated model of 1000 coupled states about 200k.
constexpr unsigned kMinInstructionsToSplit = 40000;

/// The number of object files compileObjects makes of `module` with `jobs`
/// threads: 1 for a module below `minInstructions` or one it cannot split,
/// else `jobs` (at most one per function).
unsigned countPartitions(const llvm::Module &module, unsigned jobs,
                         unsigned minInstructions = kMinInstructionsToSplit);

/// Optimises `module` at `optLevel` and writes one object file per stream
/// of `outputs`. With several, the module is split into as many partitions
/// of about equal size (a kernel stays with its parallel body), which are
/// optimised and compiled concurrently, each in an LLVM context of its own:
/// LLVM's time on a large model divides by the number of cores. The
/// partitions and their code do not depend on thread timing.
mlir::LogicalResult
compileObjects(std::unique_ptr<llvm::Module> module, unsigned optLevel,
               llvm::ArrayRef<llvm::raw_pwrite_stream *> outputs,
               std::string &error);

/// Writes assembly or an object file for `module`.
mlir::LogicalResult emitMachineCode(llvm::Module &module,
                                    llvm::TargetMachine &tm, bool assembly,
                                    llvm::raw_pwrite_stream &os,
                                    std::string &error);

/// Links `objectPaths` into a shared library at `outputPath` (against
/// libomp, libm, libc: the generated code needs nothing else) whose
/// DT_SONAME is `soname` (the final file name when `outputPath` is a
/// temporary file renamed into place afterwards).
mlir::LogicalResult linkSharedLibrary(llvm::ArrayRef<std::string> objectPaths,
                                      llvm::StringRef outputPath,
                                      llvm::StringRef soname,
                                      std::string &error);

} // namespace grade

#endif // GRADE_COMPILER_TARGET_CPU_H
