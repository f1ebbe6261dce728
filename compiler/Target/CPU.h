//===- CPU.h - host code generation and linking -----------------*- C++ -*-===//
//
// From the LLVM dialect to a shared library for the host: translation to
// LLVM IR, LLVM's O3 pipeline tuned for the host CPU, object emission, and a
// link with ld.lld against the model support archive and libomp.
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

/// A target machine for the host CPU (all of its features), or null with
/// `error` set.
std::unique_ptr<llvm::TargetMachine> createHostTargetMachine(std::string &error);

/// Translates an LLVM-dialect module to LLVM IR for `tm`, hides every symbol
/// except the ABI entry points, and runs the O3 pipeline.
std::unique_ptr<llvm::Module> translateAndOptimize(mlir::ModuleOp module,
                                                   llvm::LLVMContext &context,
                                                   llvm::TargetMachine &tm);

/// Writes assembly or an object file for `module`.
mlir::LogicalResult emitMachineCode(llvm::Module &module,
                                    llvm::TargetMachine &tm, bool assembly,
                                    llvm::raw_pwrite_stream &os,
                                    std::string &error);

/// Links `objectPath` into a shared library (against libomp, libm, libc:
/// the generated code needs nothing else).
mlir::LogicalResult linkSharedLibrary(llvm::StringRef objectPath,
                                      llvm::StringRef outputPath,
                                      std::string &error);

} // namespace grade

#endif // GRADE_COMPILER_TARGET_CPU_H
