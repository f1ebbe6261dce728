//===- LowerEntryPoints.cpp - kernels outlined, regions scheduled ---------===//

#include "dialects/GK/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace grade::gk {
#define GEN_PASS_DEF_LOWERENTRYPOINTS
#include "dialects/GK/Transforms/Passes.h.inc"
} // namespace grade::gk

using namespace mlir;
using namespace grade;
using namespace grade::gk;

namespace {

/// Replaces `regionOp` by a `gk.entry` of the same body whose kernels are
/// launches of module-level functions.
LogicalResult lowerRegion(ModelOp model, Operation *regionOp, StringRef kind,
                          SymbolTable &symbols) {
  Block &body = regionOp->getRegion(0).front();
  for (Operation &op : body)
    if (isa<KernelOp>(op) && !cast<KernelOp>(op).getBuffersAttr())
      return op.emitOpError("has no buffers: run gk-allocate-buffers before "
                            "gk-lower-entry-points");
  OpBuilder builder(regionOp);
  auto entry = EntryOp::create(builder, regionOp->getLoc(), kind);
  entry.getBody().takeBody(regionOp->getRegion(0));
  Block &entryBody = entry.getBody().front();
  // The targets' fields are in their buffers (or swapped in); a yielded
  // global (an adaptive step's error) is stored to its declaration.
  Operation *terminator = entryBody.getTerminator();
  auto targets = regionOp->getAttrOfType<ArrayAttr>("targets");
  builder.setInsertionPoint(terminator);
  for (auto [value, target] : llvm::zip(terminator->getOperands(), targets))
    if (!isa<FieldType>(value.getType()))
      StoreOp::create(builder, terminator->getLoc(), value,
                      cast<FlatSymbolRefAttr>(target));
  terminator->erase();

  for (KernelOp kernel :
       llvm::make_early_inc_range(entryBody.getOps<KernelOp>())) {
    builder.setInsertionPoint(model);
    auto func =
        FuncOp::create(builder, kernel.getLoc(), kernel.getKernelName(),
                       builder.getFunctionType(kernel.getCaptures().getTypes(),
                                               kernel.getResultTypes()),
                       kernel.getAccess(), kernel.getBlockRowsAttr(),
                       kernel.getNumPassesAttr(), kernel.getBuffersAttr(),
                       kernel.getCheckedAttr(), kernel.getBalancedChunksAttr(),
                       kernel.getVectorBitsAttr());
    func.getBody().takeBody(kernel.getBody());
    symbols.insert(func); // renames on a clash
    builder.setInsertionPoint(kernel);
    auto launch =
        LaunchOp::create(builder, kernel.getLoc(), kernel.getResultTypes(),
                         func.getSymName(), kernel.getCaptures());
    kernel.replaceAllUsesWith(launch.getResults());
    kernel.erase();
  }
  regionOp->erase();
  return success();
}

struct LowerEntryPointsPass
    : public gk::impl::LowerEntryPointsBase<LowerEntryPointsPass> {
  void runOnOperation() override {
    SymbolTable symbols(getOperation());
    for (ModelOp model :
         llvm::make_early_inc_range(getOperation().getOps<ModelOp>()))
      for (Operation *op : model.getEntryRegions())
        if (failed(lowerRegion(model, op, getEntryName(op), symbols)))
          return signalPassFailure();
  }
};

} // namespace
