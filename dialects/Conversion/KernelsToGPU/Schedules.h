//===- Schedules.h - How convert-kernels-to-gpu maps kernels ----*- C++ -*-===//
//
// What the files of convert-kernels-to-gpu share: the kernel loop it maps
// onto threads, and the degree-balanced schedule (Balanced.cpp). Internal to
// the pass.
//
//===----------------------------------------------------------------------===//

#ifndef GRADE_DIALECTS_CONVERSION_KERNELSTOGPU_SCHEDULES_H
#define GRADE_DIALECTS_CONVERSION_KERNELSTOGPU_SCHEDULES_H

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/DenseMap.h"

#include <optional>

namespace grade::schedules {

/// A kernel function's loop: the ops before it (its bound's computation)
/// and the loop itself.
struct KernelLoop {
  mlir::scf::ParallelOp loop;
  llvm::SmallVector<mlir::Operation *> prologue;
};

/// A loop over the features of a value: from 0 to a constant width > 1 by
/// 1 (KernelEmitter's forFeatures).
std::optional<int64_t> featureWidth(mlir::scf::ForOp loop);

/// The threads of a warp, and the in-degree above which the balanced
/// schedule gives a node a whole warp.
inline constexpr int64_t kWarpSize = 32;
inline constexpr int64_t kWarpDegree = 32;

/// A kernel the balanced schedule can map: its loops over a node's edges
/// (at the top of the node's body), each with the op combining each of its
/// reductions (`combiners[i][k]`: the k-th result of `edgeLoops[i]`).
struct BalancedPlan {
  llvm::SmallVector<mlir::scf::ForOp> edgeLoops;
  llvm::SmallVector<llvm::SmallVector<mlir::Operation *>> combiners;
};

/// The plan for `match`, or nothing where the kernel cannot be balanced
/// (a global reduction, no loop over edges, a loop over edges nested in
/// another loop or branch, a reduction that is not one associative op of
/// its running value and the edge's term with an identity start, scratch
/// written inside an edge loop, a buffer the kernel reads and stores to
/// before its last edge loop).
std::optional<BalancedPlan> planBalanced(KernelLoop match);

/// One thread of the kernel under the balanced schedule, at `builder`:
/// `mapping` holds the kernel's arguments and prologue; `index` is the
/// thread's global id, `lane` its lane in its warp. Nodes of at most
/// kWarpDegree in-edges run in their thread as under `rows`; the warp then
/// runs its heavier nodes in turn, each loop over edges strided over the
/// lanes and its reductions combined across them by a butterfly of
/// shuffles, in a fixed order (deterministic). With `emulated` (a host
/// twin, threads run one after another), lane 0 runs its warp's heavy
/// nodes alone, computing each lane's share in turn and combining the
/// shares in the butterfly's order: the same values as the GPU's.
void emitBalancedThread(mlir::OpBuilder &builder, KernelLoop match,
                        const BalancedPlan &plan, mlir::IRMapping &mapping,
                        mlir::Value index, mlir::Value lane, bool emulated);

/// Moves the fixed-size allocas of `body` (scratch arrays cloned into
/// branches and loops) to its start, so that they are allocated once.
void hoistStaticAllocas(mlir::Block &body);

} // namespace grade::schedules

#endif // GRADE_DIALECTS_CONVERSION_KERNELSTOGPU_SCHEDULES_H
