//===- ScheduleEdgePasses.cpp - passes over each node's edges -------------===//
//
// A reduction over a node's edges can only start once every reduction its
// input reads at this node is complete: the passes form the longest-path
// layering of the reductions' dependence graph inside the kernel. Values
// read from buffers (captures) are available before the first pass.
//
//===----------------------------------------------------------------------===//

#include "dialects/GK/Transforms/Passes.h"

namespace grade::gk {
#define GEN_PASS_DEF_SCHEDULEEDGEPASSES
#include "dialects/GK/Transforms/Passes.h.inc"
} // namespace grade::gk

using namespace mlir;
using namespace grade;
using namespace grade::gk;

namespace {

/// Numbers the reductions of one kernel body and returns the number of
/// passes (0 for a kernel of node work only).
int64_t schedule(Block &body) {
  Builder builder(body.getParentOp()->getContext());
  // The number of passes that must complete before each value is known.
  llvm::DenseMap<Value, int64_t> availableAfter;
  int64_t numPasses = 0;
  for (Operation &op : body.without_terminator()) {
    int64_t after = 0;
    for (Value operand : op.getOperands())
      after = std::max(after, availableAfter.lookup(operand));
    if (auto reduce = dyn_cast<ReduceOp>(op)) {
      reduce->setAttr(kPassAttr, builder.getI64IntegerAttr(after));
      ++after;
      numPasses = std::max(numPasses, after);
    }
    // Edge results and the global reductions of edge fields are produced
    // in a pass too: the last one, after everything they read.
    for (Value result : op.getResults())
      availableAfter[result] = after;
  }
  for (Value value : body.getTerminator()->getOperands())
    if (getFieldKind(value.getType()) == FieldKind::edge)
      numPasses = std::max(numPasses, availableAfter.lookup(value) + 1);
  body.walk([&](ReduceAllOp reduce) {
    if (getFieldKind(reduce.getInput().getType()) == FieldKind::edge)
      numPasses =
          std::max(numPasses, availableAfter.lookup(reduce.getInput()) + 1);
  });
  return numPasses;
}

struct ScheduleEdgePassesPass
    : public gk::impl::ScheduleEdgePassesBase<ScheduleEdgePassesPass> {
  void runOnOperation() override {
    Builder builder(&getContext());
    getOperation().walk([&](Operation *op) {
      if (auto kernel = dyn_cast<KernelOp>(op))
        kernel.setNumPassesAttr(
            builder.getI64IntegerAttr(schedule(kernel.getBody().front())));
      else if (auto func = dyn_cast<FuncOp>(op))
        func.setNumPassesAttr(
            builder.getI64IntegerAttr(schedule(func.getBody().front())));
    });
  }
};

} // namespace
