//===- GKToSCF.cpp - kernels and entry points as CPU loops ----------------===//
//
// Transcribes the plan of the gk dialect into functions the runtime calls:
//
//  - each `gk.entry` becomes `gradegen_entry_<kind>(slots, N, E, t, dt)`,
//    which views the runtime's slot array (`grade.slot`, one flat memref per
//    declaration, graph array or temporary), evaluates the globals in order
//    and calls one function per `gk.launch`, then combines the per-block
//    partial results of the launch's global reductions in block order (the
//    same bits at any thread count);
//  - each launched `gk.func` becomes a private function taking the distinct
//    buffers it reads and writes (`llvm.noalias`: distinct declarations are
//    distinct allocations), global vectors, partials, N and global scalars;
//    its body, an `scf.parallel` over nodes (or blocks of nodes) with the
//    edge passes the kernel was scheduled with, is written by
//    KernelEmitter.cpp.
//
// A kernel is lowered at its launch: whether a capture and a result share a
// buffer (an update in place) is a property of the launch.
//
// With `cuda`, every entry is lowered a second time for the GPU, as
// `gradegen_cuda_entry_<kind>` (attribute `grade.gpu_entry`) calling
// `<kernel>_cuda` (attribute `grade.gpu_kernel`, no prefetches): the same
// loops, which convert-kernels-to-gpu then maps onto GPU threads.
//
//===----------------------------------------------------------------------===//

#include "dialects/Conversion/Passes.h"

#include "dialects/Conversion/GKToSCF/KernelEmitter.h"
#include "dialects/GK/IR/GKOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"

#define DEBUG_TYPE "convert-gk-to-scf"

namespace grade {
#define GEN_PASS_DEF_CONVERTGKTOSCF
#include "dialects/Conversion/Passes.h.inc"
} // namespace grade

using namespace mlir;
using namespace grade;
using namespace grade::detail;

namespace {

/// Slots 0..5 of the runtime's slot array hold the graph: the CSR index
/// (in-edges), the weights, and the transposed index (out-edges), which the
/// runtime builds only for a model whose kernels read it.
constexpr int kRowPtrSlot = 0, kColIdxSlot = 1, kWeightsSlot = 2,
              kOutOffsetsSlot = 3, kOutTargetsSlot = 4, kOutEdgesSlot = 5,
              kFirstDeclSlot = 6;

/// The model attribute that tells the descriptor to ask for slots 3..5.
constexpr StringLiteral kOutEdgesAttr = "grade.out_edges";

/// The model attribute that tells the descriptor to add the status slot
/// (after the declarations' slots) that checked kernels flag.
constexpr StringLiteral kStatusAttr = "grade.status_slot";

bool isIndexSlot(int slot) {
  return slot == kRowPtrSlot || slot == kColIdxSlot ||
         slot == kOutOffsetsSlot || slot == kOutTargetsSlot ||
         slot == kOutEdgesSlot;
}

int64_t numFeatures(Type type) { return getNumElements(getFeatureShape(type)); }

bool isField(Value value) { return isa<FieldType>(value.getType()); }
bool isGraph(Value value) { return isa<grade::GraphType>(value.getType()); }

/// Slot numbering of a model: graph arrays, then declarations in order.
class ModelLowering {
public:
  explicit ModelLowering(ModelOp model) : model(model) {
    for (DeclOp decl : model.getDecls()) {
      slotOf[decl.getSymName()] = kFirstDeclSlot + slotTypes.size();
      slotTypes.push_back(decl.getType());
    }
  }

  /// The slot of a declaration, or -1.
  int getSlot(StringRef decl) const {
    auto it = slotOf.find(decl);
    return it == slotOf.end() ? -1 : it->second;
  }
  Type getSlotType(int slot) const {
    return slotTypes[slot - kFirstDeclSlot];
  }
  /// The status flags of the entries: i32[1], after every declaration.
  int getStatusSlot() const {
    return kFirstDeclSlot + static_cast<int>(slotTypes.size());
  }

  ModelOp model;

private:
  llvm::StringMap<int> slotOf;
  SmallVector<Type> slotTypes;
};

/// Lowers one gk.entry and the kernels it launches.
class EntryLowering {
public:
  EntryLowering(ModelLowering &lowering, gk::EntryOp entryOp, bool prefetch,
                bool gpu)
      : lowering(lowering), entryOp(entryOp), prefetch(prefetch && !gpu),
        gpu(gpu), body(entryOp.getBody().front()) {}

  LogicalResult run() { return emitCode(); }

private:
  /// The memref type of a slot (flat, dynamic size).
  MemRefType slotMemRefType(int slot) {
    Type element;
    if (isIndexSlot(slot))
      element = IntegerType::get(entryOp->getContext(), 64);
    else if (slot == lowering.getStatusSlot())
      element = IntegerType::get(entryOp->getContext(), 32);
    else if (slot == kWeightsSlot)
      element = *lowering.model.getGraphOp().getWeightType();
    else
      element = getElementTypeOf(lowering.getSlotType(slot));
    return MemRefType::get({ShapedType::kDynamic}, element);
  }

  /// The slot's memref in the entry function (created on first use).
  Value entrySlot(int slot) {
    auto it = entrySlots.find(slot);
    if (it != entrySlots.end())
      return it->second;
    // Views are created in the entry's prologue so that they dominate every
    // global and call, whenever they are first asked for.
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointAfter(prologueTail);
    Location loc = entryOp.getLoc();
    Value size;
    auto constant = [&](int64_t v) {
      return arith::ConstantIndexOp::create(builder, loc, v).getResult();
    };
    auto times = [&](Value n, int64_t f) -> Value {
      return f == 1 ? n : arith::MulIOp::create(builder, loc, n, constant(f));
    };
    if (slot == kRowPtrSlot || slot == kOutOffsetsSlot)
      size = arith::AddIOp::create(builder, loc, numNodes, constant(1));
    else if (slot < kFirstDeclSlot)
      size = numEdges;
    else if (slot == lowering.getStatusSlot())
      size = constant(1);
    else {
      Type type = lowering.getSlotType(slot);
      int64_t features = getNumElements(getFeatureShape(type));
      std::optional<FieldKind> kind = getFieldKind(type);
      if (!kind)
        size = constant(features);
      else
        size = times(*kind == FieldKind::node ? numNodes : numEdges, features);
    }
    Value memref = SlotOp::create(builder, loc, slotMemRefType(slot),
                                  slotsArg, builder.getI64IntegerAttr(slot),
                                  size);
    prologueTail = memref.getDefiningOp();
    entrySlots[slot] = memref;
    return memref;
  }

  /// Evaluates a global (scalar) op in the entry function.
  LogicalResult emitGlobal(Operation &op) {
    Location loc = op.getLoc();
    if (auto size = dyn_cast<GraphSizeOp>(op)) {
      Value count = arith::IndexCastOp::create(
          builder, loc, builder.getI64Type(),
          size.getEdges() ? numEdges : numNodes);
      globals[size.getResult()] =
          arith::SIToFPOp::create(builder, loc, size.getType(), count);
      return success();
    }
    if (auto load = dyn_cast<LoadOp>(op)) {
      Value memref = entrySlot(lowering.getSlot(load.getDecl()));
      if (isa<RankedTensorType>(load.getType())) {
        globals[load.getResult()] = memref;
        return success();
      }
      Value zero = arith::ConstantIndexOp::create(builder, loc, 0);
      globals[load.getResult()] =
          memref::LoadOp::create(builder, loc, memref, ValueRange{zero});
      return success();
    }
    if (isa<RankedTensorType>(op.getResult(0).getType()))
      return emitGlobalTensor(op);
    if (auto compute = dyn_cast<FieldComputeOpInterface>(op)) {
      SmallVector<Value> scalars;
      for (Value operand : op.getOperands())
        scalars.push_back(globals.lookup(operand));
      globals[op.getResult(0)] = compute.emitScalar(builder, loc, scalars);
      return success();
    }
    // Upstream arith: clone with the operands mapped.
    IRMapping mapping;
    for (Value operand : op.getOperands())
      mapping.map(operand, globals.lookup(operand));
    Operation *clone = builder.clone(op, mapping);
    for (auto [from, to] : llvm::zip(op.getResults(), clone->getResults()))
      globals[from] = to;
    return success();
  }

  /// Elementwise arithmetic on global tensors (`b * 2`, `mean_all(x) - b`):
  /// evaluated once, feature by feature, into a vector the kernels read.
  /// (Inlined into the kernels, a loop-invariant product could be
  /// contracted differently in vectorised and remainder iterations, whose
  /// split depends on the thread count.)
  LogicalResult emitGlobalTensor(Operation &op) {
    Location loc = op.getLoc();
    Value result = op.getResult(0);
    int64_t features = numFeatures(result.getType());
    Value vector =
        allocVector(getElementTypeOf(result.getType()),
                    arith::ConstantIndexOp::create(builder, loc, features));
    auto loop = scf::ForOp::create(
        builder, loc, arith::ConstantIndexOp::create(builder, loc, 0),
        arith::ConstantIndexOp::create(builder, loc, features),
        arith::ConstantIndexOp::create(builder, loc, 1));
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPoint(loop.getBody()->getTerminator());
    Value k = loop.getInductionVar();
    auto elementAt = [&](Value operand) -> Value {
      Value value = globals.lookup(operand);
      if (!isa<RankedTensorType>(operand.getType()))
        return value;
      return memref::LoadOp::create(builder, loc, value, k);
    };
    SmallVector<Value> scalars;
    for (Value operand : op.getOperands())
      scalars.push_back(elementAt(operand));
    Value element = cast<FieldComputeOpInterface>(op).emitScalar(builder, loc,
                                                                 scalars);
    memref::StoreOp::create(builder, loc, element, vector, k);
    globals[result] = vector;
    return success();
  }

  /// What kernel `level` reads: the externals of its roots' expressions.

  /// The slot of the buffer holding the field `value` of the entry.
  FailureOr<int> bufferSlot(Value value, Operation *user) {
    FlatSymbolRefAttr buffer = gk::getBuffer(value);
    int slot = buffer ? lowering.getSlot(buffer.getValue()) : -1;
    if (slot < 0)
      return user->emitOpError("reads a field without a buffer (run "
                               "gk-allocate-buffers)");
    return slot;
  }

  LogicalResult emitLaunch(gk::LaunchOp launch) {
    gk::FuncOp callee = gk::lookupCallee(launch);
    if (!callee)
      return launch.emitOpError("launches an unknown kernel");
    if (!lowered.insert(callee).second)
      return launch.emitOpError("launches '")
             << launch.getCallee()
             << "' a second time; a kernel is lowered at its only launch";
    Block &kernelBlock = callee.getBody().front();
    bool usesWeights = false, usesOutEdges = false;
    kernelBlock.walk([&](Operation *op) {
      usesWeights |= isa<WeightOp>(op);
      if (auto reduce = dyn_cast<ReduceOp>(op))
        usesOutEdges |= reduce.getOut();
    });

    // Arguments: graph arrays, one memref per distinct slot, the global
    // vectors computed by the entry and the partials of the kernel's global
    // reductions, the node count, then global scalars.
    llvm::SetVector<int> slots;
    slots.insert(kRowPtrSlot);
    slots.insert(kColIdxSlot);
    if (usesWeights)
      slots.insert(kWeightsSlot);
    if (usesOutEdges) {
      slots.insert(kOutOffsetsSlot);
      slots.insert(kOutTargetsSlot);
      slots.insert(kOutEdgesSlot);
      lowering.model->setAttr(kOutEdgesAttr, builder.getUnitAttr());
    }
    // Per capture: its slot (fields, tensor declarations) or its place
    // among the global vectors or scalars.
    SmallVector<int> captureSlot(launch.getCaptures().size(), -1);
    SmallVector<Value> scalars, globalVectors;
    for (auto [index, capture] : llvm::enumerate(launch.getCaptures())) {
      if (isGraph(capture))
        continue;
      if (isField(capture)) {
        FailureOr<int> slot = bufferSlot(capture, launch);
        if (failed(slot))
          return failure();
        captureSlot[index] = *slot;
        slots.insert(*slot);
      } else if (auto load = capture.getDefiningOp<LoadOp>();
                 load && isa<RankedTensorType>(capture.getType())) {
        captureSlot[index] = lowering.getSlot(load.getDecl());
        slots.insert(captureSlot[index]);
      } else if (isa<RankedTensorType>(capture.getType())) {
        globalVectors.push_back(capture);
      } else {
        scalars.push_back(capture);
      }
    }
    auto yield = cast<gk::YieldOp>(kernelBlock.getTerminator());
    ArrayAttr buffers = callee.getBuffersAttr();
    if (!buffers)
      return launch.emitOpError("launches '")
             << launch.getCallee() << "', which has no buffers";
    SmallVector<int> resultSlot(yield.getValues().size(), -1);
    ArrayRef<int64_t> checked = callee.getChecked().value_or(ArrayRef<int64_t>());
    if (!checked.empty()) {
      slots.insert(lowering.getStatusSlot());
      lowering.model->setAttr(kStatusAttr, builder.getUnitAttr());
    }
    SmallVector<ReduceAllOp> reductions;
    SmallVector<unsigned> reductionResults;
    for (auto [index, value] : llvm::enumerate(yield.getValues())) {
      if (isField(value)) {
        int slot = lowering.getSlot(
            cast<FlatSymbolRefAttr>(buffers[index]).getValue());
        if (slot < 0)
          return launch.emitOpError("result #")
                 << index << " goes to an undeclared buffer";
        resultSlot[index] = slot;
        slots.insert(slot);
        continue;
      }
      auto reduce = value.getDefiningOp<ReduceAllOp>();
      if (!reduce)
        return callee.emitOpError("result #")
               << index << " is a global that is not a 'grade.reduce_all'";
      reductions.push_back(reduce);
      reductionResults.push_back(index);
    }

    SmallVector<Type> argTypes;
    SmallVector<Value> callArgs;
    for (int slot : slots) {
      argTypes.push_back(slotMemRefType(slot));
      callArgs.push_back(entrySlot(slot));
    }
    for (Value vector : globalVectors) {
      callArgs.push_back(globals.lookup(vector));
      argTypes.push_back(callArgs.back().getType());
    }
    Location loc = launch.getLoc();
    Value numBlocks;
    SmallVector<Value> partials;
    if (!reductions.empty()) {
      if (!callee.getBlockRows())
        return callee.emitOpError("computes global reductions but does not "
                                  "run over blocks of nodes");
      numBlocks = arith::CeilDivUIOp::create(
          builder, loc, numNodes,
          arith::ConstantIndexOp::create(builder, loc, *callee.getBlockRows()));
      for (ReduceAllOp reduce : reductions) {
        partials.push_back(allocVector(
            getElementTypeOf(reduce.getType()),
            arith::MulIOp::create(
                builder, reduce.getLoc(), numBlocks,
                arith::ConstantIndexOp::create(
                    builder, reduce.getLoc(), numFeatures(reduce.getType())))));
        callArgs.push_back(partials.back());
        argTypes.push_back(partials.back().getType());
      }
    }
    unsigned numMemRefs = argTypes.size();
    argTypes.push_back(builder.getIndexType());
    callArgs.push_back(numNodes);
    for (Value scalar : scalars) {
      argTypes.push_back(scalar.getType());
      callArgs.push_back(globals.lookup(scalar));
    }

    auto func = func::FuncOp::create(
        callee.getLoc(),
        gpu ? (callee.getSymName() + kGpuKernelSuffix).str()
            : callee.getSymName().str(),
        builder.getFunctionType(argTypes, {}));
    func.setPrivate();
    if (gpu)
      func->setAttr(kGpuKernelAttr, builder.getUnitAttr());
    // Distinct slots and vectors are distinct allocations.
    for (unsigned i = 0; i < numMemRefs; ++i)
      func.setArgAttr(i, "llvm.noalias", builder.getUnitAttr());
    module.getBody()->getOperations().insert(Block::iterator(entry), func);

    Block *kernelBody = func.addEntryBlock();
    KernelInputs inputs;
    DenseMap<int, Value> slotArgs;
    for (auto [index, slot] : llvm::enumerate(slots))
      slotArgs[slot] = kernelBody->getArgument(index);
    inputs.rowPtr = slotArgs[kRowPtrSlot];
    inputs.colIdx = slotArgs[kColIdxSlot];
    inputs.weights = usesWeights ? slotArgs[kWeightsSlot] : Value();
    if (usesOutEdges) {
      inputs.outOffsets = slotArgs[kOutOffsetsSlot];
      inputs.outTargets = slotArgs[kOutTargetsSlot];
      inputs.outEdges = slotArgs[kOutEdgesSlot];
    }
    inputs.numNodes = kernelBody->getArgument(numMemRefs);
    unsigned nextScalar = 0, nextVector = 0;
    for (auto [index, arg] : llvm::enumerate(kernelBlock.getArguments())) {
      Value capture = launch.getCaptures()[index];
      if (isGraph(capture))
        continue;
      if (captureSlot[index] >= 0)
        inputs.externals[arg].memref = slotArgs[captureSlot[index]];
      else if (isa<RankedTensorType>(capture.getType()))
        inputs.externals[arg].memref =
            kernelBody->getArgument(slots.size() + nextVector++);
      else
        inputs.externals[arg].scalar =
            kernelBody->getArgument(numMemRefs + 1 + nextScalar++);
    }
    for (auto [index, reduce] : llvm::enumerate(reductions))
      inputs.reductions.push_back(
          {reduce, kernelBody->getArgument(slots.size() +
                                           globalVectors.size() + index)});
    inputs.reduceBlockRows = callee.getBlockRows().value_or(0);
    inputs.numPasses = callee.getNumPasses().value_or(0);
    inputs.prefetch = prefetch;
    if (!checked.empty())
      inputs.status = slotArgs[lowering.getStatusSlot()];
    for (auto [index, value] : llvm::enumerate(yield.getValues()))
      if (resultSlot[index] >= 0)
        inputs.roots.push_back({value, slotArgs[resultSlot[index]],
                                llvm::is_contained(checked, int64_t(index))});

    OpBuilder kernelBuilder = OpBuilder::atBlockEnd(kernelBody);
    if (failed(emitKernel(kernelBuilder, callee.getLoc(), inputs)))
      return failure();
    func::ReturnOp::create(kernelBuilder, callee.getLoc());

    func::CallOp::create(builder, loc, func, callArgs);
    for (auto [reduce, partial, result] :
         llvm::zip(reductions, partials, reductionResults))
      globals[launch.getResult(result)] =
          combinePartials(reduce, partial, numBlocks);
    return success();
  }

  Value allocVector(Type elementType, Value size) {
    Location loc = entryOp.getLoc();
    Value memref = memref::AllocOp::create(
        builder, loc, MemRefType::get({ShapedType::kDynamic}, elementType),
        ValueRange{size});
    allocations.push_back(memref);
    return memref;
  }

  /// After the kernel: the value of a global reduction from its per-block
  /// partials, combined serially in block order (the same bits at any
  /// thread count), then finalised: `mean` divides by the number of rows,
  /// and a field without rows gives 0.
  Value combinePartials(ReduceAllOp reduce, Value partial, Value numBlocks) {
    Location loc = reduce.getLoc();
    Type type = getElementTypeOf(reduce.getType());
    int64_t features = numFeatures(reduce.getType());
    ReduceAllKind kind = reduce.getKind();
    auto constant = [&](double value) -> Value {
      return arith::ConstantOp::create(builder, loc, type,
                                       builder.getFloatAttr(type, value));
    };
    auto index = [&](int64_t value) -> Value {
      return arith::ConstantIndexOp::create(builder, loc, value);
    };
    Value rows = getFieldKind(reduce.getInput().getType()) == FieldKind::node
                     ? numNodes
                     : numEdges;
    Value empty = arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::eq,
                                        rows, index(0));
    // One feature: the partials b * features + k for b in order.
    auto combineFeature = [&](Value k) -> Value {
      auto loop =
          scf::ForOp::create(builder, loc, index(0), numBlocks, index(1),
                             ValueRange{constant(reduceAllInit(kind))});
      {
        OpBuilder::InsertionGuard guard(builder);
        builder.setInsertionPointToStart(loop.getBody());
        Value at = arith::AddIOp::create(
            builder, loc,
            arith::MulIOp::create(builder, loc, loop.getInductionVar(),
                                  index(features)),
            k);
        Value x = memref::LoadOp::create(builder, loc, partial, at);
        scf::YieldOp::create(builder, loc,
                             emitReduceAllCombine(builder, loc, kind,
                                                  loop.getRegionIterArgs()[0],
                                                  x));
      }
      Value result = loop.getResult(0);
      if (kind == ReduceAllKind::mean) {
        Value count = arith::UIToFPOp::create(
            builder, loc, type,
            arith::IndexCastOp::create(
                builder, loc, builder.getI64Type(),
                arith::MaxUIOp::create(builder, loc, rows, index(1))));
        result = arith::DivFOp::create(builder, loc, result, count);
      }
      return arith::SelectOp::create(builder, loc, empty, constant(0.0),
                                     result);
    };
    if (isa<FloatType>(reduce.getType()))
      return combineFeature(index(0));
    Value vector = allocVector(type, index(features));
    auto loop =
        scf::ForOp::create(builder, loc, index(0), index(features), index(1));
    {
      OpBuilder::InsertionGuard guard(builder);
      builder.setInsertionPoint(loop.getBody()->getTerminator());
      Value k = loop.getInductionVar();
      memref::StoreOp::create(builder, loc, combineFeature(k), vector, k);
    }
    return vector;
  }

  LogicalResult emitCode() {
    module = entryOp->getParentOfType<ModuleOp>();
    MLIRContext *context = entryOp->getContext();
    Location loc = entryOp.getLoc();
    builder = OpBuilder(context);
    builder.setInsertionPointToEnd(module.getBody());
    Type i64 = builder.getI64Type(), f64 = builder.getF64Type();
    auto type = builder.getFunctionType(
        {LLVM::LLVMPointerType::get(context), i64, i64, f64, f64}, {});
    entry = func::FuncOp::create(
        builder, loc,
        ((gpu ? kGpuEntryPrefix : kEntryPrefix) + entryOp.getKind()).str(),
        type);
    if (gpu)
      entry->setAttr(kGpuEntryAttr, builder.getUnitAttr());
    Block *entryBody = entry.addEntryBlock();
    builder.setInsertionPointToEnd(entryBody);
    slotsArg = entryBody->getArgument(0);
    numNodes = arith::IndexCastOp::create(builder, loc, builder.getIndexType(),
                                          entryBody->getArgument(1));
    numEdges = arith::IndexCastOp::create(builder, loc, builder.getIndexType(),
                                          entryBody->getArgument(2));
    prologueTail = numEdges.getDefiningOp();
    auto returnOp = func::ReturnOp::create(builder, loc);
    builder.setInsertionPoint(returnOp);

    // Time arguments, then the globals and launches in order.
    unsigned numArgs = body.getNumArguments();
    if (numArgs > 1)
      globals[body.getArgument(1)] = entryBody->getArgument(3);
    if (numArgs > 2)
      globals[body.getArgument(2)] = entryBody->getArgument(4);
    for (Operation &op : body) {
      if (auto launch = dyn_cast<gk::LaunchOp>(op)) {
        if (failed(emitLaunch(launch)))
          return failure();
        continue;
      }
      if (auto store = dyn_cast<gk::StoreOp>(op)) {
        Value zero = arith::ConstantIndexOp::create(builder, store.getLoc(), 0);
        memref::StoreOp::create(builder, store.getLoc(),
                                globals.lookup(store.getValue()),
                                entrySlot(lowering.getSlot(store.getDecl())),
                                ValueRange{zero});
        continue;
      }
      if (llvm::any_of(op.getResults(), isField))
        continue; // a load: the runtime binds its buffer
      if (isa<ReduceAllOp, FieldComputeOpInterface, LoadOp, GraphSizeOp>(op) ||
          op.getDialect()->getNamespace() == "arith") {
        if (failed(emitGlobal(op)))
          return failure();
        continue;
      }
      return op.emitError("cannot evaluate '")
             << op.getName() << "' in an entry point";
    }
    for (Value memref : allocations)
      memref::DeallocOp::create(builder, loc, memref);
    return success();
  }

  ModelLowering &lowering;
  gk::EntryOp entryOp;
  bool prefetch;
  bool gpu; ///< lowering for convert-kernels-to-gpu
  Block &body;
  /// Kernels lowered so far (each at its only launch).
  llvm::SmallPtrSet<Operation *, 8> lowered;

  ModuleOp module;
  OpBuilder builder{entryOp->getContext()};
  func::FuncOp entry;
  Operation *prologueTail = nullptr; ///< slot views are inserted after it
  Value slotsArg, numNodes, numEdges;
  llvm::DenseMap<int, Value> entrySlots;
  llvm::DenseMap<Value, Value> globals;
  /// Partials and global vectors, freed before the entry returns.
  SmallVector<Value> allocations;
};

struct ConvertGKToSCFPass
    : public grade::impl::ConvertGKToSCFBase<ConvertGKToSCFPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (ModelOp model : module.getOps<ModelOp>()) {
      if (!model.getEntryRegions().empty()) {
        model.emitOpError("has regions that are not entry points; run "
                          "grade-form-kernels, gk-schedule-edge-passes, "
                          "gk-allocate-buffers and gk-lower-entry-points "
                          "first");
        return signalPassFailure();
      }
      ModelLowering lowering(model);
      for (auto entry : llvm::make_early_inc_range(
               model.getBody().front().getOps<gk::EntryOp>())) {
        if ((cpu && failed(EntryLowering(lowering, entry, prefetch,
                                         /*gpu=*/false)
                               .run())) ||
            (cuda && failed(EntryLowering(lowering, entry, prefetch,
                                          /*gpu=*/true)
                                .run())))
          return signalPassFailure();
        entry.erase();
      }
    }
    for (auto func :
         llvm::make_early_inc_range(module.getOps<gk::FuncOp>()))
      func.erase();
  }
};

} // namespace
