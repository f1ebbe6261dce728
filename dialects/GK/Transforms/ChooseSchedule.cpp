//===- ChooseSchedule.cpp - how a kernel's nodes are split among threads ---===//
//
// See gk-choose-schedule in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "dialects/GK/Transforms/Passes.h"

#include "dialects/Grade/IR/GradeOps.h"

#include "mlir/IR/Builders.h"

namespace grade::gk {
#define GEN_PASS_DEF_CHOOSESCHEDULE
#include "dialects/GK/Transforms/Passes.h.inc"
} // namespace grade::gk

using namespace mlir;
using namespace grade;
using namespace grade::gk;

namespace {

/// Whether `kernel` multiplies its rows by a global matrix whose rows are
/// at least `rowBytes` long: work bound by the multiply-adds, which wide
/// vectors halve, with enough of them per row to fill the wide registers
/// (MP-PDE's 128 x 128 layers in f64; not the 8 x 8 of EGNN or a sheaf's
/// 3 x 3 maps, where wide vectors mostly run half empty).
bool multipliesWideRows(KernelOp kernel, int64_t rowBytes) {
  bool wide = false;
  kernel.getBody().walk([&](ContractOp contract) {
    ContractSpec spec = contract.getContractSpec();
    for (auto [operand, subscript] :
         llvm::zip(contract.getInputs(), spec.inputs)) {
      auto matrix = dyn_cast<RankedTensorType>(operand.getType());
      if (!matrix || matrix.getRank() < 2)
        continue;
      int64_t bytes = matrix.getElementTypeBitWidth() / 8;
      if (spec.size(subscript.back()) * bytes >= rowBytes)
        wide = true;
    }
  });
  return wide;
}

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
    if (wideVectors != 0 && wideVectors != 512) {
      getOperation().emitError("wide vectors of 512 bits or none (0), not ")
          << wideVectors.getValue();
      return signalPassFailure();
    }
    Builder builder(&getContext());
    getOperation().walk([&](KernelOp kernel) {
      // Eight wide registers of accumulators per row or more.
      if (wideVectors && multipliesWideRows(kernel, 8 * wideVectors / 8))
        kernel.setVectorBitsAttr(builder.getI64IntegerAttr(wideVectors));
      else
        kernel.removeVectorBitsAttr();
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
