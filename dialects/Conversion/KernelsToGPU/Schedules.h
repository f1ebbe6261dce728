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

/// A loop whose bounds are constants or the induction variables of the
/// loops around it (a triangular loop over a small matrix): the same on
/// every lane, unlike a loop over a node's edges, whose bounds are loaded
/// from the graph.
bool isLocalLoop(mlir::scf::ForOp loop);

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
  /// For each edge loop, the node's scratch arrays it accumulates into
  /// across the node's edges (a sheaf's stalk, an attention head's
  /// maximum), and the op combining each.
  llvm::SmallVector<llvm::SmallVector<mlir::Value>> accumulators;
  llvm::SmallVector<llvm::SmallVector<mlir::Operation *>> accCombiners;
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

/// A kernel computing global reductions over blocks of nodes, mapped onto a
/// warp per block (WarpReduce.cpp): its loop over the block's nodes, and
/// the block's accumulators (scratch arrays the loop only combines into,
/// each by one op: `combiners[i]` for `accumulators[i]`).
struct WarpReducePlan {
  mlir::scf::ForOp nodeLoop;
  llvm::SmallVector<mlir::Value> accumulators;
  llvm::SmallVector<mlir::Operation *> combiners;
};

/// The plan for `match`, or nothing where it is not a global reduction
/// over blocks of nodes of that form.
std::optional<WarpReducePlan> planWarpReduce(KernelLoop match);

/// One thread of a global-reduction kernel: block `index` / kWarpSize of
/// nodes on the warp, lane `lane` taking the block's nodes lane, lane + 32,
/// ...; the lanes' accumulators combined by shuffles in a fixed order
/// (each element, every lane ending with the same values), and lane 0
/// writing the block's partials. `emulated`: lane 0 runs the warp alone
/// (each lane's share in turn from the accumulators' identity, then the
/// butterfly's levels in the shuffles' order).
void emitWarpReduceThread(mlir::OpBuilder &builder, KernelLoop match,
                          const WarpReducePlan &plan, mlir::IRMapping &mapping,
                          mlir::Value index, mlir::Value lane, bool emulated);

/// Types a warp shuffle carries: f32, f64, i32, i64 (i1 and index through
/// wider integers).
bool shuffleable(mlir::Type type);

/// Whether each lane may start a reduction by `combiner` from `init`: an
/// associative and commutative op, from its identity unless idempotent.
bool startsReduction(mlir::Operation *combiner, mlir::Value init);

/// How `loop` uses the scratch array `acc` (allocated outside it): the op
/// combining into it when every store to it there is
/// store(op(load(acc[i]), term), acc[i]) and it is read there only for
/// that; null otherwise.
mlir::Operation *accumulation(mlir::Value acc, mlir::scf::ForOp loop);

/// The operand of `combiner` (from accumulation()) that is the running
/// value of `acc`.
mlir::Value runningOperand(mlir::Operation *combiner, mlir::Value acc);

/// The identity of `combiner` (add: -0.0 or 0, mul: 1) as a constant of
/// `type`; null for idempotent ops (min, max, and, or), which need none.
mlir::Value identityOf(mlir::OpBuilder &b, mlir::Location loc,
                       mlir::Operation *combiner, mlir::Type type);

/// `value` from lane `lane xor offset` of the warp (gpu.shuffle; i1 and
/// index through wider integers).
mlir::Value shuffleXor(mlir::OpBuilder &b, mlir::Location loc,
                       mlir::Value value, int64_t offset);

/// The op `combiner` (two operands, one of them `running`) applied in the
/// places of the running value and the other operand: a clone of it.
mlir::Value combineWith(mlir::OpBuilder &b, mlir::Operation *combiner,
                        mlir::Value running, mlir::Value own,
                        mlir::Value partner);

/// `body(lane)` for lane = 0 .. kWarpSize - 1 (an scf.for), for the host
/// twins standing in for a warp.
void forEachLane(mlir::OpBuilder &b, mlir::Location loc,
                 llvm::function_ref<void(mlir::OpBuilder &, mlir::Value)> body);

/// A clone of `loop` (mapped by `mapping`) from its lower bound + `lane` by
/// kWarpSize: the lane's share of its iterations.
mlir::scf::ForOp cloneStrided(mlir::OpBuilder &b, mlir::IRMapping &mapping,
                              mlir::scf::ForOp loop, mlir::Value lane);

/// Puts each store of `op` (or `op` itself) to a buffer other than scratch
/// under `if leader`: every lane computed the same value.
void storeFromLeader(mlir::Operation *op, mlir::Value leader);

/// The host twins' stand-in for a warp's accumulators: scratch arrays
/// (`accs`, as mapped in the twin, and the accumulators they clone,
/// `originals`, whose `combiners` say how to combine) that every lane
/// fills from the same start, one lane after another on one thread, and
/// that are then combined in the order of the shuffles' butterfly.
class EmulatedShares {
public:
  /// Allocates the shares and keeps the arrays' current contents as every
  /// lane's start.
  EmulatedShares(mlir::OpBuilder &b, mlir::Location loc,
                 llvm::ArrayRef<mlir::Value> accs,
                 llvm::ArrayRef<mlir::Value> originals,
                 llvm::ArrayRef<mlir::Operation *> combiners);
  /// Puts the start back into the arrays (before a lane runs).
  void start(mlir::OpBuilder &b);
  /// Keeps the arrays' contents as lane `lane`'s share.
  void save(mlir::OpBuilder &b, mlir::Value lane);
  /// Combines the shares as shuffles xor 16, 8, 4, 2, 1 would, and writes
  /// lane 0's totals into the arrays.
  void combine(mlir::OpBuilder &b);

private:
  mlir::Value element(mlir::OpBuilder &b, mlir::Value lane, size_t i,
                      int64_t e);
  int64_t size(size_t i) const;

  mlir::Location loc;
  llvm::SmallVector<mlir::Value> accs, originals, initial, shares, next;
  llvm::SmallVector<mlir::Operation *> combiners;
};

/// Moves the fixed-size allocas of `body` (scratch arrays cloned into
/// branches and loops) to its start, so that they are allocated once.
void hoistStaticAllocas(mlir::Block &body);

} // namespace grade::schedules

#endif // GRADE_DIALECTS_CONVERSION_KERNELSTOGPU_SCHEDULES_H
