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

/// Translates an LLVM-dialect module to LLVM IR for `tm`, hides every symbol
/// except the ABI entry points, and runs LLVM's pipeline of level
/// `optLevel` (0 to 3).
std::unique_ptr<llvm::Module> translateAndOptimize(mlir::ModuleOp module,
                                                   llvm::LLVMContext &context,
                                                   llvm::TargetMachine &tm,
                                                   unsigned optLevel = 3);

/// Writes assembly or an object file for `module`.
mlir::LogicalResult emitMachineCode(llvm::Module &module,
                                    llvm::TargetMachine &tm, bool assembly,
                                    llvm::raw_pwrite_stream &os,
                                    std::string &error);

/// Links `objectPath` into a shared library at `outputPath` (against
/// libomp, libm, libc: the generated code needs nothing else) whose
/// DT_SONAME is `soname` (the final file name when `outputPath` is a
/// temporary file renamed into place afterwards).
mlir::LogicalResult linkSharedLibrary(llvm::StringRef objectPath,
                                      llvm::StringRef outputPath,
                                      llvm::StringRef soname,
                                      std::string &error);

} // namespace grade

#endif // GRADE_COMPILER_TARGET_CPU_H
