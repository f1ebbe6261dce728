//===- CheckFinite.cpp - the new states of a step are checked -------------===//

#include "dialects/GK/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"

namespace grade::gk {
#define GEN_PASS_DEF_CHECKFINITE
#include "dialects/GK/Transforms/Passes.h.inc"
} // namespace grade::gk

using namespace mlir;
using namespace grade;
using namespace grade::gk;

namespace {

struct CheckFinitePass : public gk::impl::CheckFiniteBase<CheckFinitePass> {
  void runOnOperation() override {
    for (ModelOp model : getOperation().getOps<ModelOp>()) {
      StepOp step = model.getStepOp();
      if (!step)
        continue;
      // The yielded fields are the new states (and an adaptive step's
      // slopes and midpoints): results of kernels.
      llvm::MapVector<KernelOp, SmallVector<int64_t>> checked;
      for (Value value : step.getYield().getValues()) {
        if (!isa<FieldType>(value.getType()))
          continue; // an adaptive step's error
        auto kernel = value.getDefiningOp<KernelOp>();
        if (!kernel) {
          step.getYield().emitOpError(
              "yields a value no kernel computes; run grade-form-kernels "
              "before gk-check-finite");
          return signalPassFailure();
        }
        checked[kernel].push_back(cast<OpResult>(value).getResultNumber());
      }
      for (auto &[kernel, results] : checked) {
        if (std::optional<ArrayRef<int64_t>> old = kernel.getChecked())
          results.append(old->begin(), old->end());
        llvm::sort(results);
        results.erase(std::unique(results.begin(), results.end()),
                      results.end());
        kernel.setChecked(results);
      }
    }
  }
};

} // namespace
