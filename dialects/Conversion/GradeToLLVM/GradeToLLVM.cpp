//===- GradeToLLVM.cpp - descriptor, ABI alias and slot views -------------===//
//
// Runs right before the standard lowering to LLVM: what remains of the grade
// dialect after convert-grade-to-loops is the model's declarations (which
// become the descriptor blob) and `grade.slot` views.
//
//===----------------------------------------------------------------------===//

#include "dialects/Conversion/Passes.h"

#include "dialects/Conversion/GradeToLLVM/Descriptor.h"

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

/// The support library's entry point, exported by every generated library.
constexpr StringLiteral kApiSymbol = "grade_model_api";

LogicalResult lowerModelToDescriptor(ModelOp model, ModuleOp module) {
  FailureOr<std::string> blob = buildDescriptorBlob(model);
  if (failed(blob))
    return failure();
  // The support library calls all three entry points.
  for (StringRef region : {"init", "rhs", "step"}) {
    std::string entry = ("gradegen_entry_" + region).str();
    if (!module.lookupSymbol(entry))
      return model.emitOpError("has no '")
             << entry << "' entry point; a library needs 'grade.init', "
             << "'grade.rhs' and 'grade.step' lowered by "
             << "convert-grade-to-loops (grade-expand-scheme builds the step)";
  }
  MLIRContext *context = module.getContext();
  OpBuilder builder(context);
  builder.setInsertionPointToEnd(module.getBody());
  Location loc = model.getLoc();

  // The blob, NUL-terminated, as an external constant the support code
  // references (made hidden with every other internal symbol at emission).
  std::string text = *blob;
  text.push_back('\0');
  auto arrayType = LLVM::LLVMArrayType::get(IntegerType::get(context, 8),
                                            text.size());
  LLVM::GlobalOp::create(builder, loc, arrayType, /*isConstant=*/true,
                         LLVM::Linkage::External, "gradegen_descriptor_blob",
                         builder.getStringAttr(text));

  // grade_<model>_model_api(): the entry point under a model-specific name,
  // so that several models can be linked into one program.
  auto ptrType = LLVM::LLVMPointerType::get(context);
  auto fnType = LLVM::LLVMFunctionType::get(ptrType, {});
  auto api = module.lookupSymbol<LLVM::LLVMFuncOp>(kApiSymbol);
  if (!api)
    api = LLVM::LLVMFuncOp::create(builder, loc, kApiSymbol, fnType);
  auto alias = LLVM::LLVMFuncOp::create(
      builder, loc, ("grade_" + model.getSymName() + "_model_api").str(),
      fnType);
  Block *body = alias.addEntryBlock(builder);
  builder.setInsertionPointToStart(body);
  auto call = LLVM::CallOp::create(builder, loc, api, ValueRange{});
  LLVM::ReturnOp::create(builder, loc, call.getResult());
  model.erase();
  return success();
}

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
    for (ModelOp model : llvm::make_early_inc_range(module.getOps<ModelOp>()))
      if (failed(lowerModelToDescriptor(model, module)))
        return signalPassFailure();
    SmallVector<SlotOp> slots;
    module.walk([&](SlotOp slot) { slots.push_back(slot); });
    for (SlotOp slot : slots)
      lowerSlot(slot);
  }
};

} // namespace
