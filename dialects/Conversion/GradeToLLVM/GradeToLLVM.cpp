//===- GradeToLLVM.cpp - slot views ---------------------------------------===//
//
// Runs right before the standard lowering to LLVM: what remains of the grade
// dialect after convert-grade-to-loops is the model's declarations (which
// grade-emit-descriptor turns into the descriptor) and `grade.slot` views.
//
//===----------------------------------------------------------------------===//

#include "dialects/Conversion/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"

#define DEBUG_TYPE "convert-grade-to-llvm"

namespace grade {
#define GEN_PASS_DEF_CONVERTGRADETOLLVM
#include "dialects/Conversion/Passes.h.inc"
} // namespace grade

using namespace mlir;
using namespace grade;

namespace {

/// grade.slot -> load the pointer, wrap it in a memref descriptor.
void lowerSlot(SlotOp slot) {
  OpBuilder builder(slot);
  Location loc = slot.getLoc();
  MLIRContext *context = slot.getContext();
  auto ptrType = LLVM::LLVMPointerType::get(context);
  Type i64 = builder.getI64Type();
  Value address = LLVM::GEPOp::create(
      builder, loc, ptrType, ptrType, slot.getSlots(),
      ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(slot.getIndex())});
  Value pointer = LLVM::LoadOp::create(builder, loc, ptrType, address);
  auto array1 = LLVM::LLVMArrayType::get(i64, 1);
  auto descType = LLVM::LLVMStructType::getLiteral(
      context, {ptrType, ptrType, i64, array1, array1});
  Value size = arith::IndexCastOp::create(builder, loc, i64, slot.getSize());
  Value zero = LLVM::ConstantOp::create(builder, loc, i64, 0);
  Value one = LLVM::ConstantOp::create(builder, loc, i64, 1);
  Value desc = LLVM::PoisonOp::create(builder, loc, descType);
  desc = LLVM::InsertValueOp::create(builder, loc, desc, pointer,
                                     ArrayRef<int64_t>{0});
  desc = LLVM::InsertValueOp::create(builder, loc, desc, pointer,
                                     ArrayRef<int64_t>{1});
  desc = LLVM::InsertValueOp::create(builder, loc, desc, zero,
                                     ArrayRef<int64_t>{2});
  desc = LLVM::InsertValueOp::create(builder, loc, desc, size,
                                     ArrayRef<int64_t>{3, 0});
  desc = LLVM::InsertValueOp::create(builder, loc, desc, one,
                                     ArrayRef<int64_t>{4, 0});
  // Resolved against the memref-to-LLVM conversion's own descriptors by
  // reconcile-unrealized-casts.
  auto cast = UnrealizedConversionCastOp::create(builder, loc, slot.getType(),
                                                 desc);
  slot.replaceAllUsesWith(cast.getResult(0));
  slot.erase();
}

struct ConvertGradeToLLVMPass
    : public grade::impl::ConvertGradeToLLVMBase<ConvertGradeToLLVMPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<SlotOp> slots;
    module.walk([&](SlotOp slot) { slots.push_back(slot); });
    for (SlotOp slot : slots)
      lowerSlot(slot);
  }
};

} // namespace
