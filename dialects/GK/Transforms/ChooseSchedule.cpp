//===- ChooseSchedule.cpp - how a kernel's nodes are split among threads ---===//
//
// See gk-choose-schedule in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "dialects/GK/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace grade::gk {
#define GEN_PASS_DEF_CHOOSESCHEDULE
#include "dialects/GK/Transforms/Passes.h.inc"
} // namespace grade::gk

using namespace mlir;
using namespace grade;
using namespace grade::gk;

namespace {

struct ChooseSchedulePass
    : public gk::impl::ChooseScheduleBase<ChooseSchedulePass> {
  using Base::Base;

  void runOnOperation() override {
    if (schedule != "auto" && schedule != "nodes" && schedule != "balanced") {
      getOperation().emitError("unknown kernel schedule '")
          << schedule.getValue() << "' (expected auto, nodes or balanced)";
      return signalPassFailure();
    }
    if (chunks <= 0) {
      getOperation().emitError("a balanced schedule needs a positive number "
                               "of chunks, got ")
          << chunks.getValue();
      return signalPassFailure();
    }
    Builder builder(&getContext());
    getOperation().walk([&](KernelOp kernel) {
      // Global reductions combine fixed blocks, whatever the threads.
      if (kernel.getBlockRows())
        return;
      bool walksEdges = kernel.getNumPasses().value_or(0) > 0;
      bool balanced = schedule == "balanced" || (schedule == "auto" && walksEdges);
      if (balanced)
        kernel.setBalancedChunksAttr(builder.getI64IntegerAttr(chunks));
      else
        kernel.removeBalancedChunksAttr();
    });
  }
};

} // namespace
