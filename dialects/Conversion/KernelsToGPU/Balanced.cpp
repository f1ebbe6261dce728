//===- Balanced.cpp - Kernels balanced over nodes' in-degrees ------------===//
//
// The `balanced` schedule of convert-kernels-to-gpu, for kernels whose
// features are too narrow for lanes (heat, wave, sheaf's small stalks, ...):
// under `rows` a node is one thread, so on a power-law graph a hub of
// 10 000 in-edges keeps its warp busy for 10 000 iterations while every
// other node of the launch is done after a few. Here a node runs in its own
// thread while it has at most kWarpDegree in-edges; the nodes above run
// afterwards one at a time on the whole warp of the thread they belong to,
// the warp found by a ballot (the thread-warp split of Merrill, Garland and
// Grimshaw's BFS, and of CSR-vector SpMV for the heavy rows):
//
//   heavy = index < N && degree(index) > kWarpDegree
//   if (index < N && !heavy) <the node's body, as under rows>
//   mask = ballot(heavy)
//   for k in 0 .. 31 where bit k of mask:          (uniform over the warp)
//     <the body of node warp + k, each loop over edges from lo + lane by 32,
//      its reductions combined by shuffles xor 16, 8, 4, 2, 1>
//
// Each lane then holds the same totals (every level adds the same two
// halves, in either order: IEEE addition is commutative), the node's
// remaining arithmetic runs on every lane alike, and lane 0 stores. The
// result depends only on the node's degree, never on timing: runs are
// bitwise repeatable. A hub's sums are reassociated (32 partial sums, then
// the tree), so they differ from the CPU's by rounding only.
//
// A kernel qualifies when its loops over edges are at the top of the node's
// body; each reduction, carried by the loop or accumulated into the node's
// scratch (store(op(load(acc[i]), term), acc[i]): a sheaf's stalk, an
// attention head's maximum), is one associative and commutative op of the
// running value and the edge's term (add and mul from their identity for
// carried values; min, max, and, or from any start; scratch starts, on the
// lanes other than 0, from the op's identity, so lane 0 alone carries what
// the node held before the loop); other scratch written inside a loop over
// edges is used only there (a temporary of each edge); per-edge outputs are
// stored at the edge; and a buffer the kernel both writes and reads is
// stored to only after the last loop over edges (lanes other than 0 could
// otherwise read what lane 0 has already stored, and pass it on through a
// shuffle).
//
//===----------------------------------------------------------------------===//

#include "dialects/Conversion/KernelsToGPU/Schedules.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;

namespace grade::schedules {

std::optional<int64_t> featureWidth(scf::ForOp loop) {
  std::optional<int64_t> lower = getConstantIntValue(loop.getLowerBound()),
                         upper = getConstantIntValue(loop.getUpperBound()),
                         step = getConstantIntValue(loop.getStep());
  if (lower != 0 || step != 1 || !upper || *upper < 2)
    return std::nullopt;
  return upper;
}

bool isLocalLoop(scf::ForOp loop) {
  SmallVector<Value> worklist = {loop.getLowerBound(), loop.getUpperBound()};
  llvm::DenseSet<Value> seen;
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    if (!seen.insert(value).second)
      continue;
    if (auto arg = dyn_cast<BlockArgument>(value)) {
      if (!isa<scf::ForOp>(arg.getOwner()->getParentOp()))
        return false; // the node, or a kernel argument
      continue;
    }
    Operation *op = value.getDefiningOp();
    if (!isMemoryEffectFree(op) || op->getNumRegions() != 0)
      return false; // a load: offsets of the graph
    llvm::append_range(worklist, op->getOperands());
  }
  return true;
}

namespace {

/// What a reduction may start from without changing its result when each
/// lane starts from it: anything for idempotent ops, else their identity.
enum class Start { Any, Zero, One };

std::optional<Start> combinerStart(Operation *op) {
  if (isa<arith::MaxNumFOp, arith::MinNumFOp, arith::MaximumFOp,
          arith::MinimumFOp, arith::MaxSIOp, arith::MinSIOp, arith::MaxUIOp,
          arith::MinUIOp, arith::AndIOp, arith::OrIOp>(op))
    return Start::Any;
  if (isa<arith::AddFOp, arith::AddIOp, arith::XOrIOp>(op))
    return Start::Zero;
  if (isa<arith::MulFOp, arith::MulIOp>(op))
    return Start::One;
  return std::nullopt;
}

bool startsAs(Value init, Start start) {
  switch (start) {
  case Start::Any:
    return true;
  case Start::Zero:
    return matchPattern(init, m_AnyZeroFloat()) || matchPattern(init, m_Zero());
  case Start::One:
    return matchPattern(init, m_OneFloat()) || matchPattern(init, m_One());
  }
  return false;
}

/// The op combining the reduction `arg` of a loop over edges: the yielded
/// `op(arg, term)` (or `op(term, arg)`), `arg` used nowhere else.
Operation *combinerOf(BlockArgument arg, Value init, Value yielded) {
  Operation *op = yielded.getDefiningOp();
  if (!op || op->getBlock() != arg.getOwner() || op->getNumOperands() != 2 ||
      op->getNumResults() != 1 || !arg.hasOneUse() ||
      (op->getOperand(0) == arg) == (op->getOperand(1) == arg))
    return nullptr;
  std::optional<Start> start = combinerStart(op);
  if (!start || !startsAs(init, *start) || !shuffleable(arg.getType()))
    return nullptr;
  return op;
}

/// Adds to `slice` the ops of `body` that `value` is computed from, and
/// sorts it in their order; false when
/// one of them is neither free of memory effects nor a load of a buffer
/// (a node's degree must be computable without running its body).
bool boundSlice(Value value, Block *body, SmallVectorImpl<Operation *> &slice) {
  llvm::SetVector<Operation *> found;
  SmallVector<Value> worklist = {value};
  while (!worklist.empty()) {
    Operation *op = worklist.pop_back_val().getDefiningOp();
    if (!op || op->getBlock() != body || !found.insert(op))
      continue;
    if (op->getNumRegions() != 0)
      return false;
    if (auto load = dyn_cast<memref::LoadOp>(op)) {
      if (load.getMemRef().getDefiningOp<memref::AllocaOp>())
        return false;
    } else if (!isMemoryEffectFree(op)) {
      return false;
    }
    llvm::append_range(worklist, op->getOperands());
  }
  for (Operation *op : found)
    if (!llvm::is_contained(slice, op))
      slice.push_back(op);
  llvm::sort(slice,
             [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
  return true;
}

} // namespace

std::optional<BalancedPlan> planBalanced(KernelLoop match) {
  // Global reductions run over blocks of nodes.
  if (!isa<BlockArgument>(match.loop.getUpperBound()[0]))
    return std::nullopt;
  Block *body = match.loop.getBody();
  BalancedPlan plan;
  for (Operation &op : body->without_terminator()) {
    auto loop = dyn_cast<scf::ForOp>(op);
    if (!loop || featureWidth(loop) || isLocalLoop(loop))
      continue;
    SmallVector<Operation *> slice;
    if (getConstantIntValue(loop.getStep()) != 1 ||
        !boundSlice(loop.getLowerBound(), body, slice) ||
        !boundSlice(loop.getUpperBound(), body, slice))
      return std::nullopt;
    auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
    SmallVector<Operation *> combiners;
    for (auto [arg, init, yielded] :
         llvm::zip(loop.getRegionIterArgs(), loop.getInitArgs(),
                   yield.getOperands())) {
      Operation *combiner = combinerOf(arg, init, yielded);
      if (!combiner)
        return std::nullopt;
      combiners.push_back(combiner);
    }
    plan.edgeLoops.push_back(loop);
    plan.combiners.push_back(std::move(combiners));
  }
  if (plan.edgeLoops.empty())
    return std::nullopt;

  // Everything else: loops over edges only at the top, writes where a lane
  // may make them, and no buffer read where lane 0 may already have written
  // it. Lanes other than 0 matter until the last shuffle (after the last
  // loop over edges): a buffer the node stores to after that point may be
  // read anywhere (an rk4 stage accumulating in place), one stored to
  // before it, or per edge, nowhere.
  Operation *lastEdgeLoop = plan.edgeLoops.back();
  llvm::DenseSet<Value> written, read;
  WalkResult walk = body->walk([&](Operation *op) {
    auto edgeLoop = op->getParentOfType<scf::ForOp>();
    while (edgeLoop && (featureWidth(edgeLoop) || isLocalLoop(edgeLoop)))
      edgeLoop = edgeLoop->getParentOfType<scf::ForOp>();
    if (auto loop = dyn_cast<scf::ForOp>(op))
      if (!featureWidth(loop) && !isLocalLoop(loop) && loop->getBlock() != body)
        return WalkResult::interrupt();
    if (auto load = dyn_cast<memref::LoadOp>(op)) {
      read.insert(load.getMemRef());
      return WalkResult::advance();
    }
    if (auto store = dyn_cast<memref::StoreOp>(op)) {
      Value memref = store.getMemRef();
      if (auto alloca = memref.getDefiningOp<memref::AllocaOp>()) {
        // Scratch of the node written across its edges: an accumulation
        // (each lane accumulates its share, combined after the loop), or
        // a temporary of each edge, used nowhere else (each lane has its
        // own). Anything else would need the other lanes' writes.
        if (!edgeLoop || edgeLoop->isAncestor(alloca) ||
            accumulation(alloca, edgeLoop))
          return WalkResult::advance();
        bool local = llvm::all_of(alloca->getUsers(), [&](Operation *user) {
          return edgeLoop->isAncestor(user);
        });
        return local ? WalkResult::advance() : WalkResult::interrupt();
      }
      if (edgeLoop && (store.getIndices().empty() ||
                       store.getIndices()[0] != edgeLoop.getInductionVar()))
        return WalkResult::interrupt();
      if (edgeLoop ||
          !lastEdgeLoop->isBeforeInBlock(body->findAncestorOpInBlock(*op)))
        written.insert(memref);
      return WalkResult::advance();
    }
    if (isa<memref::AllocaOp, memref::DimOp, scf::ForOp, scf::IfOp,
            scf::YieldOp>(op) ||
        isMemoryEffectFree(op))
      return WalkResult::advance();
    return WalkResult::interrupt();
  });
  if (walk.wasInterrupted() ||
      llvm::any_of(written, [&](Value v) { return read.contains(v); }))
    return std::nullopt;
  // Each loop's accumulators: fixed-size arrays of shuffleable elements.
  for (scf::ForOp loop : plan.edgeLoops) {
    llvm::SetVector<Value> found;
    loop.walk([&](memref::StoreOp store) {
      auto alloca = store.getMemRef().getDefiningOp<memref::AllocaOp>();
      if (alloca && !loop->isAncestor(alloca) && accumulation(alloca, loop))
        found.insert(alloca);
    });
    SmallVector<Value> accumulators;
    SmallVector<Operation *> combiners;
    for (Value acc : found) {
      auto type = cast<MemRefType>(acc.getType());
      if (type.getRank() != 1 || !type.hasStaticShape() ||
          !shuffleable(type.getElementType()))
        return std::nullopt;
      accumulators.push_back(acc);
      combiners.push_back(accumulation(acc, loop));
    }
    plan.accumulators.push_back(std::move(accumulators));
    plan.accCombiners.push_back(std::move(combiners));
  }
  return plan;
}

namespace {

Value constant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

} // namespace

void forEachLane(OpBuilder &b, Location loc,
                 function_ref<void(OpBuilder &, Value)> body) {
  scf::ForOp::create(b, loc, constant(b, loc, 0), constant(b, loc, kWarpSize),
                     constant(b, loc, 1), ValueRange{},
                     [&](OpBuilder &nb, Location, Value k, ValueRange) {
                       body(nb, k);
                       scf::YieldOp::create(nb, loc);
                     });
}

scf::ForOp cloneStrided(OpBuilder &b, IRMapping &mapping, scf::ForOp loop,
                        Value lane) {
  Location loc = loop.getLoc();
  Value lower = arith::AddIOp::create(
      b, loc, mapping.lookupOrDefault(loop.getLowerBound()), lane);
  Value step = constant(b, loc, kWarpSize);
  auto split = cast<scf::ForOp>(b.clone(*loop, mapping));
  split.getLowerBoundMutable().assign(lower);
  split.getStepMutable().assign(step);
  return split;
}

void storeFromLeader(Operation *op, Value leader) {
  SmallVector<memref::StoreOp> stores;
  op->walk([&](memref::StoreOp store) {
    if (!store.getMemRef().getDefiningOp<memref::AllocaOp>())
      stores.push_back(store);
  });
  for (memref::StoreOp store : stores) {
    OpBuilder b(store);
    auto branch = scf::IfOp::create(b, store.getLoc(), leader,
                                    /*withElseRegion=*/false);
    store->moveBefore(branch.thenBlock()->getTerminator());
  }
}

bool shuffleable(Type type) {
  return type.isF32() || type.isF64() || type.isInteger(1) ||
         type.isInteger(32) || type.isInteger(64) || type.isIndex();
}

Value identityOf(OpBuilder &b, Location loc, Operation *combiner, Type type) {
  std::optional<Start> start = combinerStart(combiner);
  if (!start || *start == Start::Any)
    return Value();
  if (auto floatType = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(
        b, loc, FloatAttr::get(floatType, *start == Start::Zero ? -0.0 : 1.0));
  return arith::ConstantOp::create(
      b, loc, IntegerAttr::get(type, *start == Start::Zero ? 0 : 1));
}

bool startsReduction(Operation *combiner, Value init) {
  std::optional<Start> start = combinerStart(combiner);
  return start && startsAs(init, *start);
}

Value shuffleXor(OpBuilder &b, Location loc, Value value, int64_t offset) {
  Type type = value.getType();
  Value carried = value;
  if (type.isIndex())
    carried = arith::IndexCastOp::create(b, loc, b.getI64Type(), value);
  else if (type.isInteger(1))
    carried = arith::ExtUIOp::create(b, loc, b.getI32Type(), value);
  Value shuffled =
      gpu::ShuffleOp::create(b, loc, carried, int32_t(offset),
                             int32_t(kWarpSize), gpu::ShuffleMode::XOR)
          .getShuffleResult();
  if (type.isIndex())
    return arith::IndexCastOp::create(b, loc, type, shuffled);
  if (type.isInteger(1))
    return arith::TruncIOp::create(b, loc, type, shuffled);
  return shuffled;
}

Value combineWith(OpBuilder &b, Operation *combiner, Value running, Value own,
                  Value partner) {
  IRMapping operands;
  for (Value operand : combiner->getOperands())
    operands.map(operand, operand == running ? own : partner);
  return b.clone(*combiner, operands)->getResult(0);
}

namespace {

/// Emits one thread's part of the balanced schedule (see the file comment).
class Emitter {
public:
  Emitter(KernelLoop match, const BalancedPlan &plan, bool emulated)
      : match(match), plan(plan), emulated(emulated), loc(match.loop.getLoc()) {
  }

  void thread(OpBuilder &b, IRMapping &mapping, Value index, Value lane) {
    Value bound = mapping.lookup(match.loop.getUpperBound()[0]);
    Value inRange =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, index, bound);
    Value heavy =
        scf::IfOp::create(
            b, loc, inRange,
            [&](OpBuilder &nb, Location) {
              IRMapping inner = mapping;
              scf::YieldOp::create(nb, loc, isHeavy(nb, inner, index));
            },
            [&](OpBuilder &nb, Location) {
              scf::YieldOp::create(
                  nb, loc, Value(arith::ConstantIntOp::create(nb, loc, 0, 1)));
            })
            .getResult(0);
    Value notHeavy = arith::XOrIOp::create(
        b, loc, heavy, arith::ConstantIntOp::create(b, loc, 1, 1));
    Value light = arith::AndIOp::create(b, loc, inRange, notHeavy);
    inBranch(b, light, [&](OpBuilder &nb) {
      IRMapping inner = mapping;
      inner.map(match.loop.getInductionVars()[0], index);
      for (Operation &op : match.loop.getBody()->without_terminator())
        nb.clone(op, inner);
    });

    Value warp = arith::SubIOp::create(b, loc, index, lane);
    if (emulated) {
      // Lane 0 runs its warp's heavy nodes, standing in for every lane.
      Value leader = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                           lane, constant(b, loc, 0));
      inBranch(b, leader, [&](OpBuilder &nb) {
        forEachLane(nb, loc, [&](OpBuilder &lb, Value k) {
          Value node = arith::AddIOp::create(lb, loc, warp, k);
          Value exists = arith::CmpIOp::create(
              lb, loc, arith::CmpIPredicate::ult, node, bound);
          inBranch(lb, exists, [&](OpBuilder &eb) {
            IRMapping inner = mapping;
            Value isHeavyNode = isHeavy(eb, inner, node);
            inBranch(eb, isHeavyNode, [&](OpBuilder &hb) {
              IRMapping nodeMapping = mapping;
              heavyNode(hb, nodeMapping, node, Value());
            });
          });
        });
      });
      return;
    }
    Value all = arith::ConstantIntOp::create(b, loc, -1, 32);
    Value mask = NVVM::VoteSyncOp::create(
        b, loc, b.getI32Type(), all, heavy,
        NVVM::VoteSyncKindAttr::get(b.getContext(),
                                    NVVM::VoteSyncKind::ballot));
    Value any =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, mask,
                              arith::ConstantIntOp::create(b, loc, 0, 32));
    inBranch(b, any, [&](OpBuilder &nb) {
      forEachLane(nb, loc, [&](OpBuilder &lb, Value k) {
        Value shift = arith::IndexCastOp::create(lb, loc, lb.getI32Type(), k);
        Value bit = arith::AndIOp::create(
            lb, loc, arith::ShRUIOp::create(lb, loc, mask, shift),
            arith::ConstantIntOp::create(lb, loc, 1, 32));
        Value set =
            arith::CmpIOp::create(lb, loc, arith::CmpIPredicate::ne, bit,
                                  arith::ConstantIntOp::create(lb, loc, 0, 32));
        inBranch(lb, set, [&](OpBuilder &hb) {
          IRMapping nodeMapping = mapping;
          heavyNode(hb, nodeMapping, arith::AddIOp::create(hb, loc, warp, k),
                    lane);
        });
      });
    });
  }

private:
  /// `body` at the start of a new `scf.if cond`.
  void inBranch(OpBuilder &b, Value cond,
                function_ref<void(OpBuilder &)> body) {
    auto branch = scf::IfOp::create(b, loc, cond, /*withElseRegion=*/false);
    OpBuilder inner(branch.thenBlock()->getTerminator());
    body(inner);
  }


  /// Whether `node` has more than kWarpDegree edges in one of the loops.
  Value isHeavy(OpBuilder &b, IRMapping &mapping, Value node) {
    Block *body = match.loop.getBody();
    mapping.map(match.loop.getInductionVars()[0], node);
    Value heavy = arith::ConstantIntOp::create(b, loc, 0, 1);
    for (scf::ForOp loop : plan.edgeLoops) {
      SmallVector<Operation *> slice;
      (void)boundSlice(loop.getLowerBound(), body, slice);
      (void)boundSlice(loop.getUpperBound(), body, slice);
      for (Operation *op : slice)
        if (!mapping.contains(op->getResult(0)))
          b.clone(*op, mapping);
      Value degree = arith::SubIOp::create(
          b, loc, mapping.lookupOrDefault(loop.getUpperBound()),
          mapping.lookupOrDefault(loop.getLowerBound()));
      Value above =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, degree,
                                constant(b, loc, kWarpDegree));
      heavy = arith::OrIOp::create(b, loc, heavy, above);
    }
    return heavy;
  }

  /// The body of `node` on the whole warp (`lane`; NULL when emulated).
  void heavyNode(OpBuilder &b, IRMapping &mapping, Value node, Value lane) {
    mapping.map(match.loop.getInductionVars()[0], node);
    Value leader;
    if (lane)
      leader = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane,
                                     constant(b, loc, 0));
    for (Operation &op : match.loop.getBody()->without_terminator()) {
      auto loop = dyn_cast<scf::ForOp>(op);
      auto *position =
          loop ? llvm::find(plan.edgeLoops, loop) : plan.edgeLoops.end();
      if (position != plan.edgeLoops.end()) {
        size_t at = position - plan.edgeLoops.begin();
        if (lane)
          splitOverLanes(b, mapping, at, lane);
        else
          emulateLanes(b, mapping, at);
        continue;
      }
      Operation *clone = b.clone(op, mapping);
      if (lane)
        storeFromLeader(clone, leader);
    }
  }

  /// `loop` from lo + lane by kWarpSize, its results combined over the warp.
  void splitOverLanes(OpBuilder &b, IRMapping &mapping, size_t at, Value lane) {
    scf::ForOp loop = plan.edgeLoops[at];
    ArrayRef<Operation *> combiners = plan.combiners[at];
    Value notFirst = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne,
                                           lane, constant(b, loc, 0));
    resetAccumulators(b, mapping, at, notFirst);
    auto split = strided(b, mapping, loop, lane);
    SmallVector<Value> values(split.getResults());
    for (int64_t offset = kWarpSize / 2; offset >= 1; offset /= 2)
      for (size_t k = 0; k < values.size(); ++k)
        values[k] = combine(b, loop, k, combiners[k], values[k],
                            shuffleXor(b, loc, values[k], offset));
    mapping.map(loop.getResults(), values);
    for (auto [acc, combiner] :
         llvm::zip(plan.accumulators[at], plan.accCombiners[at])) {
      Value local = mapping.lookupOrDefault(acc);
      for (int64_t e = 0; e < size(acc); ++e) {
        Value element = constant(b, loc, e);
        Value value = memref::LoadOp::create(b, loc, local, element);
        for (int64_t offset = kWarpSize / 2; offset >= 1; offset /= 2)
          value = combineWith(b, combiner, runningOperand(combiner, acc), value,
                              shuffleXor(b, loc, value, offset));
        memref::StoreOp::create(b, loc, value, local, element);
      }
    }
  }

  static int64_t size(Value acc) {
    return cast<MemRefType>(acc.getType()).getDimSize(0);
  }

  /// Under `cond` (every lane but the first), the accumulators of edge
  /// loop `at` whose op needs one set to its identity: lane 0 carries the
  /// node's value from before the loop, the others add to it only their
  /// shares.
  void resetAccumulators(OpBuilder &b, IRMapping &mapping, size_t at,
                         Value cond) {
    SmallVector<std::pair<Value, Operation *>> reset;
    for (auto [acc, combiner] :
         llvm::zip(plan.accumulators[at], plan.accCombiners[at]))
      if (combinerStart(combiner) != Start::Any)
        reset.push_back({acc, combiner});
    if (reset.empty())
      return;
    inBranch(b, cond, [&](OpBuilder &rb) {
      for (auto [acc, combiner] : reset) {
        Value local = mapping.lookupOrDefault(acc);
        Value identity =
            identityOf(rb, loc, combiner,
                       cast<MemRefType>(acc.getType()).getElementType());
        for (int64_t e = 0; e < size(acc); ++e)
          memref::StoreOp::create(rb, loc, identity, local,
                                  constant(rb, loc, e));
      }
    });
  }

  /// What splitOverLanes computes, on one thread: each lane's share in
  /// turn into an array, then the butterfly's levels over the arrays.
  void emulateLanes(OpBuilder &b, IRMapping &mapping, size_t at) {
    scf::ForOp loop = plan.edgeLoops[at];
    ArrayRef<Operation *> combiners = plan.combiners[at];
    SmallVector<Value> shares, next, local;
    for (Value result : loop.getResults()) {
      auto type = MemRefType::get({kWarpSize}, result.getType());
      shares.push_back(memref::AllocaOp::create(b, loc, type));
      next.push_back(memref::AllocaOp::create(b, loc, type));
    }
    // Each lane starts from the accumulators as the node left them.
    for (Value acc : plan.accumulators[at])
      local.push_back(mapping.lookupOrDefault(acc));
    EmulatedShares accs(b, loc, local, plan.accumulators[at],
                        plan.accCombiners[at]);
    forEachLane(b, loc, [&](OpBuilder &lb, Value lane) {
      IRMapping inner = mapping;
      accs.start(lb);
      resetAccumulators(lb, inner, at,
                        arith::CmpIOp::create(lb, loc, arith::CmpIPredicate::ne,
                                              lane, constant(lb, loc, 0)));
      auto split = strided(lb, inner, loop, lane);
      for (auto [value, share] : llvm::zip(split.getResults(), shares))
        memref::StoreOp::create(lb, loc, value, share, lane);
      accs.save(lb, lane);
    });
    for (int64_t offset = kWarpSize / 2; offset >= 1; offset /= 2) {
      forEachLane(b, loc, [&](OpBuilder &lb, Value lane) {
        Value partner =
            arith::XOrIOp::create(lb, loc, lane, constant(lb, loc, offset));
        for (auto [k, from, to] : llvm::enumerate(shares, next)) {
          Value own = memref::LoadOp::create(lb, loc, from, lane);
          Value other = memref::LoadOp::create(lb, loc, from, partner);
          memref::StoreOp::create(
              lb, loc, combine(lb, loop, k, combiners[k], own, other), to,
              lane);
        }
      });
      std::swap(shares, next);
    }
    accs.combine(b);
    SmallVector<Value> values;
    for (Value share : shares)
      values.push_back(
          memref::LoadOp::create(b, loc, share, constant(b, loc, 0)));
    mapping.map(loop.getResults(), values);
  }

  scf::ForOp strided(OpBuilder &b, IRMapping &mapping, scf::ForOp loop,
                     Value lane) {
    return cloneStrided(b, mapping, loop, lane);
  }

  /// `combiner` (of `loop`'s k-th reduction) applied to this lane's value
  /// and its partner's, in the places of the running value and the term.
  Value combine(OpBuilder &b, scf::ForOp loop, size_t k, Operation *combiner,
                Value own, Value partner) {
    return combineWith(b, combiner, loop.getRegionIterArgs()[k], own, partner);
  }

  KernelLoop match;
  const BalancedPlan &plan;
  bool emulated;
  Location loc;
};

} // namespace

void emitBalancedThread(OpBuilder &builder, KernelLoop match,
                        const BalancedPlan &plan, IRMapping &mapping,
                        Value index, Value lane, bool emulated) {
  Emitter(match, plan, emulated).thread(builder, mapping, index, lane);
}

namespace {

/// Stores `from[e]` into `to[e]` for e < size.
void copyElements(OpBuilder &b, Location loc, Value from, Value to,
                  int64_t size) {
  for (int64_t e = 0; e < size; ++e) {
    Value at = constant(b, loc, e);
    memref::StoreOp::create(b, loc, memref::LoadOp::create(b, loc, from, at),
                            to, at);
  }
}

} // namespace

EmulatedShares::EmulatedShares(OpBuilder &b, Location loc, ArrayRef<Value> accs,
                               ArrayRef<Value> originals,
                               ArrayRef<Operation *> combiners)
    : loc(loc), accs(accs), originals(originals), combiners(combiners) {
  for (size_t i = 0; i < accs.size(); ++i) {
    auto type = cast<MemRefType>(accs[i].getType());
    auto all = MemRefType::get({kWarpSize * size(i)}, type.getElementType());
    shares.push_back(memref::AllocaOp::create(b, loc, all));
    next.push_back(memref::AllocaOp::create(b, loc, all));
    initial.push_back(memref::AllocaOp::create(b, loc, type));
    copyElements(b, loc, accs[i], initial.back(), size(i));
  }
}

int64_t EmulatedShares::size(size_t i) const {
  return cast<MemRefType>(accs[i].getType()).getDimSize(0);
}

Value EmulatedShares::element(OpBuilder &b, Value lane, size_t i, int64_t e) {
  return arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, lane, constant(b, loc, size(i))),
      constant(b, loc, e));
}

void EmulatedShares::start(OpBuilder &b) {
  for (size_t i = 0; i < accs.size(); ++i)
    copyElements(b, loc, initial[i], accs[i], size(i));
}

void EmulatedShares::save(OpBuilder &b, Value lane) {
  for (size_t i = 0; i < accs.size(); ++i)
    for (int64_t e = 0; e < size(i); ++e)
      memref::StoreOp::create(
          b, loc, memref::LoadOp::create(b, loc, accs[i], constant(b, loc, e)),
          shares[i], element(b, lane, i, e));
}

void EmulatedShares::combine(OpBuilder &b) {
  for (int64_t offset = kWarpSize / 2; offset >= 1; offset /= 2) {
    forEachLane(b, loc, [&](OpBuilder &lb, Value lane) {
      Value partner =
          arith::XOrIOp::create(lb, loc, lane, constant(lb, loc, offset));
      for (size_t i = 0; i < accs.size(); ++i)
        for (int64_t e = 0; e < size(i); ++e) {
          Value own = memref::LoadOp::create(lb, loc, shares[i],
                                             element(lb, lane, i, e));
          Value other = memref::LoadOp::create(lb, loc, shares[i],
                                               element(lb, partner, i, e));
          memref::StoreOp::create(
              lb, loc,
              combineWith(lb, combiners[i],
                          runningOperand(combiners[i], originals[i]), own,
                          other),
              next[i], element(lb, lane, i, e));
        }
    });
    std::swap(shares, next);
  }
  // Lane 0's totals.
  for (size_t i = 0; i < accs.size(); ++i)
    copyElements(b, loc, shares[i], accs[i], size(i));
}

void hoistStaticAllocas(Block &body) {
  SmallVector<memref::AllocaOp> allocas;
  body.walk([&](memref::AllocaOp alloca) {
    if (alloca->getNumOperands() == 0 && alloca->getBlock() != &body)
      allocas.push_back(alloca);
  });
  for (memref::AllocaOp alloca : llvm::reverse(allocas))
    alloca->moveBefore(&body, body.begin());
}

} // namespace grade::schedules
