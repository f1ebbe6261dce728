//===- WarpReduce.cpp - Global reductions on a warp per block of nodes ---===//
//
// A kernel computing global reductions (an adaptive scheme's error norm
// fused into its last stage, GRAND-nl's attention normaliser, a readout's
// sum) runs over blocks of 1024 nodes, each block accumulating the
// partial results of the reductions over its nodes in order and writing
// them for the host to combine (convert-gk-to-scf). One thread per block,
// as under `rows`, leaves a 10^6-node graph 977 threads; here the block is
// a warp's:
//
//   block = thread / 32, lane = thread % 32      (the whole warp agrees)
//   <the block's accumulators from their identity, on every lane>
//   for node = first + lane; node < last; node += 32:  <the node's body>
//   <each accumulator element combined over the lanes by shuffles xor 16,
//    8, 4, 2, 1: every lane ends with the block's totals>
//   <the partials stored, by lane 0>
//
// The order of the additions is fixed (lane by lane, then the tree), so
// runs are bitwise repeatable; it differs from the CPU's block order by
// reassociation. The host twin (emulation) runs the warp on lane 0: each
// lane's share in turn, from the accumulators' initial values, then the
// tree's levels in the shuffles' order.
//
// A kernel qualifies when its block's body has one loop over nodes, and
// each scratch array of the block that the loop writes is either reset at
// every node (per-node scratch) or only combined into, element by element,
// by one associative and commutative op from its identity (or any start,
// for min and max): store(op(load(acc[i]), term), acc[i]).
//
//===----------------------------------------------------------------------===//

#include "dialects/Conversion/KernelsToGPU/Schedules.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;

namespace grade::schedules {

namespace {

/// The load of `acc` at `indices` that `value` is, used only once.
bool isRunningValue(Value value, Value acc, ValueRange indices) {
  auto load = value.getDefiningOp<memref::LoadOp>();
  return load && load.getMemRef() == acc && load.getIndices() == indices &&
         value.hasOneUse();
}

} // namespace

Operation *accumulation(Value acc, scf::ForOp loop) {
  Operation *combiner = nullptr;
  int64_t loads = 0, accumulations = 0;
  for (Operation *user : acc.getUsers()) {
    if (!loop->isAncestor(user))
      continue;
    if (isa<memref::LoadOp>(user)) {
      ++loads;
      continue;
    }
    auto store = dyn_cast<memref::StoreOp>(user);
    if (!store || store.getMemRef() != acc)
      return nullptr;
    Operation *op = store.getValue().getDefiningOp();
    if (!op || op->getNumOperands() != 2 || op->getNumResults() != 1 ||
        isRunningValue(op->getOperand(0), acc, store.getIndices()) ==
            isRunningValue(op->getOperand(1), acc, store.getIndices()))
      return nullptr;
    if (combiner && combiner->getName() != op->getName())
      return nullptr;
    combiner = op;
    ++accumulations;
  }
  // Each load is an accumulation's running value.
  return loads == accumulations ? combiner : nullptr;
}

Value runningOperand(Operation *combiner, Value acc) {
  Value first = combiner->getOperand(0);
  auto load = first.getDefiningOp<memref::LoadOp>();
  return load && load.getMemRef() == acc ? first : combiner->getOperand(1);
}

namespace {

Value constant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

} // namespace

std::optional<WarpReducePlan> planWarpReduce(KernelLoop match) {
  // Node kernels iterate over nodes (the bound is N itself).
  if (isa<BlockArgument>(match.loop.getUpperBound()[0]))
    return std::nullopt;
  Block *body = match.loop.getBody();
  WarpReducePlan plan;
  for (Operation &op : body->without_terminator()) {
    auto loop = dyn_cast<scf::ForOp>(op);
    if (!loop || featureWidth(loop))
      continue;
    if (plan.nodeLoop)
      return std::nullopt;
    plan.nodeLoop = loop;
  }
  if (!plan.nodeLoop || getConstantIntValue(plan.nodeLoop.getStep()) != 1 ||
      !plan.nodeLoop.getInitArgs().empty())
    return std::nullopt;
  for (auto alloca : body->getOps<memref::AllocaOp>()) {
    Operation *combiner = accumulation(alloca, plan.nodeLoop);
    auto inLoop = [&](Operation *user) {
      return plan.nodeLoop->isAncestor(user);
    };
    if (!combiner) {
      // Scratch of each node: written in the loop, then used only there
      // (each lane keeps its own).
      bool written = llvm::any_of(alloca->getUsers(), [&](Operation *user) {
        return isa<memref::StoreOp>(user) && inLoop(user);
      });
      if (written && !llvm::all_of(alloca->getUsers(), inLoop))
        return std::nullopt;
      continue;
    }
    MemRefType type = alloca.getType();
    if (type.getRank() != 1 || !type.hasStaticShape() ||
        !shuffleable(type.getElementType()))
      return std::nullopt;
    // Initialised before the loop, with the identity: one value for every
    // element, stored nowhere after it.
    for (Operation *user : alloca->getUsers()) {
      auto store = dyn_cast<memref::StoreOp>(user);
      if (!store || plan.nodeLoop->isAncestor(store))
        continue;
      if (!body->findAncestorOpInBlock(*store)->isBeforeInBlock(
              plan.nodeLoop) ||
          !startsReduction(combiner, store.getValue()))
        return std::nullopt;
    }
    plan.accumulators.push_back(alloca);
    plan.combiners.push_back(combiner);
  }
  if (plan.accumulators.empty())
    return std::nullopt;
  return plan;
}

namespace {

class WarpReduceEmitter {
public:
  WarpReduceEmitter(KernelLoop match, const WarpReducePlan &plan, bool emulated)
      : match(match), plan(plan), emulated(emulated), loc(match.loop.getLoc()) {
  }

  void thread(OpBuilder &b, IRMapping &mapping, Value index, Value lane) {
    Value block =
        arith::DivUIOp::create(b, loc, index, constant(b, loc, kWarpSize));
    Value leader = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane,
                                         constant(b, loc, 0));
    // Uniform over the warp (blocks are whole warps).
    Value inRange =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, block,
                              mapping.lookup(match.loop.getUpperBound()[0]));
    if (emulated)
      inRange = arith::AndIOp::create(b, loc, inRange, leader);
    auto branch = scf::IfOp::create(b, loc, inRange, /*withElseRegion=*/false);
    OpBuilder inner(branch.thenBlock()->getTerminator());
    mapping.map(match.loop.getInductionVars()[0], block);
    bool afterNodes = false;
    for (Operation &op : match.loop.getBody()->without_terminator()) {
      if (&op == scf::ForOp(plan.nodeLoop).getOperation()) {
        if (emulated)
          emulateWarp(inner, mapping);
        else
          overLanes(inner, mapping, lane);
        afterNodes = true;
        continue;
      }
      Operation *clone = inner.clone(op, mapping);
      if (afterNodes && !emulated)
        storeFromLeader(clone, leader);
    }
  }

private:
  /// The nodes first + lane, first + lane + 32, ... of the block.
  scf::ForOp strided(OpBuilder &b, IRMapping &mapping, Value lane) {
    return cloneStrided(b, mapping, plan.nodeLoop, lane);
  }

  int64_t size(size_t i) {
    return cast<MemRefType>(plan.accumulators[i].getType()).getDimSize(0);
  }

  Value combine(OpBuilder &b, size_t i, Value own, Value partner) {
    Operation *combiner = plan.combiners[i];
    return combineWith(b, combiner,
                       runningOperand(combiner, plan.accumulators[i]), own,
                       partner);
  }

  void overLanes(OpBuilder &b, IRMapping &mapping, Value lane) {
    strided(b, mapping, lane);
    for (size_t i = 0; i < plan.accumulators.size(); ++i) {
      Value acc = mapping.lookup(plan.accumulators[i]);
      for (int64_t k = 0; k < size(i); ++k) {
        Value at = constant(b, loc, k);
        Value value = memref::LoadOp::create(b, loc, acc, at);
        for (int64_t offset = kWarpSize / 2; offset >= 1; offset /= 2)
          value = combine(b, i, value, shuffleXor(b, loc, value, offset));
        memref::StoreOp::create(b, loc, value, acc, at);
      }
    }
  }

  void emulateWarp(OpBuilder &b, IRMapping &mapping) {
    // Each lane starts from the accumulators as the block's prologue left
    // them.
    SmallVector<Value> accs;
    for (Value acc : plan.accumulators)
      accs.push_back(mapping.lookup(acc));
    EmulatedShares shares(b, loc, accs, plan.accumulators, plan.combiners);
    forEachLane(b, loc, [&](OpBuilder &lb, Value lane) {
      shares.start(lb);
      IRMapping inner = mapping;
      strided(lb, inner, lane);
      shares.save(lb, lane);
    });
    shares.combine(b);
  }


  KernelLoop match;
  const WarpReducePlan &plan;
  bool emulated;
  Location loc;
};

} // namespace

void emitWarpReduceThread(OpBuilder &builder, KernelLoop match,
                          const WarpReducePlan &plan, IRMapping &mapping,
                          Value index, Value lane, bool emulated) {
  WarpReduceEmitter(match, plan, emulated)
      .thread(builder, mapping, index, lane);
}

} // namespace grade::schedules
