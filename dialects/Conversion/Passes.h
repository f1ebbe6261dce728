//===- Passes.h - conversions out of the grade dialect ----------*- C++ -*-===//

#ifndef GRADE_DIALECTS_CONVERSION_PASSES_H
#define GRADE_DIALECTS_CONVERSION_PASSES_H

#include "dialects/GK/IR/GKOps.h"
#include "dialects/Grade/IR/GradeOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Pass/Pass.h"

namespace grade {

/// The names the lowering passes and the descriptor agree on: entry points
/// (the runtime's), the GPU flavour of entries and kernels, and the GPU
/// module holding the kernels.
inline constexpr llvm::StringLiteral kEntryPrefix = "gradegen_entry_";
inline constexpr llvm::StringLiteral kGpuEntryPrefix = "gradegen_cuda_entry_";
inline constexpr llvm::StringLiteral kGpuKernelSuffix = "_cuda";
inline constexpr llvm::StringLiteral kGpuEntryAttr = "grade.gpu_entry";
inline constexpr llvm::StringLiteral kGpuKernelAttr = "grade.gpu_kernel";
inline constexpr llvm::StringLiteral kGpuModuleName = "gradegen_kernels";
/// A kernel's scratch flag (one element, OR-ed) that any thread computing
/// a part of a node may raise for its part (convert-gk-to-scf's finite
/// check), so that convert-kernels-to-gpu may split the features.
inline constexpr llvm::StringLiteral kAnyPartFlagAttr = "grade.any_part_flag";
/// The library's wait for the GPU entry's launches (grade-emit-descriptor
/// defines it over the runtime's hooks).
inline constexpr llvm::StringLiteral kGpuWaitFunction = "gradegen_gpu_wait";
/// On a GPU kernel: its parameters (memrefs expanded) that point to buffers
/// it only reads, distinct from the others (grade-annotate-gpu-kernels).
inline constexpr llvm::StringLiteral kReadOnlyParamsAttr =
    "grade.read_only_params";
/// convert-kernels-to-gpu{emulate}: a kernel's host twin, and the exported
/// function running a launch of it (`<prefix><kernel>(params, grid, block)`).
inline constexpr llvm::StringLiteral kEmulatedSuffix = "_emulated";
inline constexpr llvm::StringLiteral kEmulatedAttr = "grade.emulated_kernel";
inline constexpr llvm::StringLiteral kEmulatedPrefix = "gradegen_emulated_";

/// On the `scf.parallel` of a kernel with global reductions (over blocks
/// of nodes, each accumulating partials): grade-parallel-to-openmp leaves it
/// to convert-scf-to-openmp.
inline constexpr llvm::StringLiteral kReductionBlocksAttr =
    "grade.reduction_blocks";

#define GEN_PASS_DECL
#include "dialects/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "dialects/Conversion/Passes.h.inc"

} // namespace grade

#endif // GRADE_DIALECTS_CONVERSION_PASSES_H
