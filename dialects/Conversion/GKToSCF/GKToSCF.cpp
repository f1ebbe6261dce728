//===- GKToSCF.cpp - kernels and entry points as CPU loops ----------------===//
//
// Transcribes the plan of the gk dialect into functions the runtime calls:
//
//  - each `gk.entry` becomes `gradegen_entry_<kind>(slots, N, E, t, dt)`,
//    which views the runtime's slot array (`grade.slot`, one flat memref per
//    declaration, graph array or temporary), evaluates the globals in order
//    and calls one function per `gk.launch`;
//  - each launched `gk.func` becomes a private, never inlined function
//    taking the distinct buffers it reads and writes (`llvm.noalias`:
//    distinct declarations are distinct allocations), global vectors, the
//    buffers of its vector-valued global reductions, N (and E where it has
//    global reductions) and global scalars; its body, an `scf.parallel` over
//    nodes (or blocks of nodes) with the edge passes the kernel was
//    scheduled with, is written by KernelEmitter.cpp. After the loop it
//    combines the per-block partials of its global reductions in block
//    order (the same bits at any thread count) and returns the scalar ones.
//    Keeping kernels out of the entry keeps every function's size bounded
//    by the kernel caps of grade-form-kernels, so LLVM's time stays linear
//    in the size of the model.
//
// A kernel is lowered at its launch: whether a capture and a result share a
// buffer (an update in place) is a property of the launch.
//
// With `cuda`, every entry is lowered a second time for the GPU, as
// `gradegen_cuda_entry_<kind>` (attribute `grade.gpu_entry`) calling
// `<kernel>_cuda` (attribute `grade.gpu_kernel`, no prefetches): the same
// loops, which convert-kernels-to-gpu then maps onto GPU threads. These
// take one memref per slot and the partials of their global reductions,
// which the entry allocates and combines on the host after the launch.
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

/// Offsets and edge numbers: always i64.
bool isOffsetSlot(int slot) {
  return slot == kRowPtrSlot || slot == kOutOffsetsSlot ||
         slot == kOutEdgesSlot;
}

/// Node numbers: the graph's index type.
bool isNodeIndexSlot(int slot) {
  return slot == kColIdxSlot || slot == kOutTargetsSlot;
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
  /// The element type of the node numbers in the graph arrays.
  IntegerType getNodeIndexType() {
    GraphOp graph = model.getGraphOp();
    return graph ? graph.getNodeIndexType()
                 : IntegerType::get(model.getContext(), 64);
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
                bool cacheEdgeValues, bool gpu)
      : lowering(lowering), entryOp(entryOp), prefetch(prefetch && !gpu),
        cacheEdgeValues(cacheEdgeValues && !gpu), gpu(gpu),
        body(entryOp.getBody().front()) {}

  LogicalResult run() { return emitCode(); }

private:
  /// The memref type of a slot (flat, dynamic size).
  MemRefType slotMemRefType(int slot) {
    Type element;
    if (isOffsetSlot(slot))
      element = IntegerType::get(entryOp->getContext(), 64);
    else if (isNodeIndexSlot(slot))
      element = lowering.getNodeIndexType();
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
    Value memref = slotView(builder, slotsArg, numNodes, numEdges, slot);
    prologueTail = memref.getDefiningOp();
    entrySlots[slot] = memref;
    return memref;
  }

  /// A view of the slot `slot` of the slot array `slots` (`grade.slot`),
  /// sized from the node and edge counts.
  Value slotView(OpBuilder &builder, Value slots, Value numNodes,
                 Value numEdges, int slot) {
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
    return SlotOp::create(builder, loc, slotMemRefType(slot), slots,
                          builder.getI64IntegerAttr(slot), size);
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
    if (auto reindex = dyn_cast<ReindexOp>(op))
      return emitGlobalReindex(reindex);
    if (auto constant = dyn_cast<arith::ConstantOp>(op);
        constant && isa<RankedTensorType>(constant.getType())) {
      // A constant tensor (`eye(3)`): its elements stored into a vector.
      auto values = cast<DenseElementsAttr>(constant.getValue());
      Location loc = op.getLoc();
      Type elem = getElementTypeOf(constant.getType());
      Value vector = allocVector(
          elem, arith::ConstantIndexOp::create(builder, loc,
                                               values.getNumElements()));
      for (auto [index, value] : llvm::enumerate(values.getValues<APFloat>()))
        memref::StoreOp::create(
            builder, loc,
            arith::ConstantOp::create(builder, loc, elem,
                                      builder.getFloatAttr(elem, value)),
            vector,
            ValueRange{arith::ConstantIndexOp::create(builder, loc, index)});
      globals[constant.getResult()] = vector;
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

  /// A new vector of the global tensor `result`'s features, element k
  /// computed by `elementAt(k)` in a loop over k, recorded as its value.
  void emitGlobalVector(Value result, Location loc,
                        function_ref<Value(Value)> elementAt) {
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
    memref::StoreOp::create(builder, loc, elementAt(k), vector, k);
    globals[result] = vector;
  }

  /// Elementwise arithmetic on global tensors (`b * 2`, `mean_all(x) - b`):
  /// evaluated once, feature by feature, into a vector the kernels read.
  /// (Inlined into the kernels, a loop-invariant product could be
  /// contracted differently in vectorised and remainder iterations, whose
  /// split depends on the thread count.)
  LogicalResult emitGlobalTensor(Operation &op) {
    Location loc = op.getLoc();
    emitGlobalVector(op.getResult(0), loc, [&](Value k) {
      SmallVector<Value> scalars;
      for (Value operand : op.getOperands()) {
        Value value = globals.lookup(operand);
        scalars.push_back(isa<RankedTensorType>(operand.getType())
                              ? memref::LoadOp::create(builder, loc, value, k)
                              : value);
      }
      return cast<FieldComputeOpInterface>(op).emitScalar(builder, loc,
                                                          scalars);
    });
    return success();
  }

  /// A global's features rearranged (`take(W, floor(t))`, a bias broadcast
  /// along new axes): copied once into a vector the kernels read.
  LogicalResult emitGlobalReindex(ReindexOp op) {
    Location loc = op.getLoc();
    SmallVector<Value> symbols;
    for (Value index : op.getIndices())
      symbols.push_back(globals.lookup(index));
    Value input = globals.lookup(op.getInput());
    bool tensorInput = isa<RankedTensorType>(op.getInput().getType());
    auto elementAt = [&](Value k) -> Value {
      if (!tensorInput)
        return input;
      return memref::LoadOp::create(
          builder, loc, input, op.emitSourceIndex(builder, loc, k, symbols));
    };
    if (isa<RankedTensorType>(op.getType()))
      emitGlobalVector(op.getResult(), loc, elementAt);
    else
      globals[op.getResult()] =
          elementAt(arith::ConstantIndexOp::create(builder, loc, 0));
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

    // The distinct slots the kernel uses: graph arrays, then its fields'
    // and tensor declarations' buffers.
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

    Location loc = launch.getLoc();
    if (!reductions.empty() && !callee.getBlockRows())
      return callee.emitOpError("computes global reductions but does not "
                                "run over blocks of nodes");

    // The kernel's arguments.
    //  - CPU: the slot array, N, E, global vectors, the buffers of vector
    //    global reductions, global scalars. The kernel views the slots it
    //    uses itself, so a call passes a handful of values whatever the
    //    kernel touches (hundreds of memref descriptors per call made
    //    instruction selection of large models quadratic). It allocates
    //    the per-block partials of its global reductions, combines them
    //    after its loop and returns the scalar ones.
    //  - GPU: one memref per slot (convert-kernels-to-gpu hands buffers to
    //    the device), global vectors, the partials, N, global scalars; the
    //    entry allocates the partials and combines them after the launch.
    SmallVector<Type> argTypes;
    SmallVector<Value> callArgs;
    auto addArg = [&](Value value) {
      callArgs.push_back(value);
      argTypes.push_back(value.getType());
      return unsigned(argTypes.size() - 1);
    };
    unsigned slotsAt = 0, nodesAt = 0, edgesAt = 0, vectorsAt = 0;
    unsigned partialsAt = 0, scalarsAt = 0;
    Value numBlocks;
    SmallVector<Value> partials;
    SmallVector<unsigned> vectorResults; // argument numbers
    SmallVector<Type> resultTypes;
    if (gpu) {
      for (int slot : slots)
        addArg(entrySlot(slot));
      vectorsAt = argTypes.size();
      for (Value vector : globalVectors)
        addArg(globals.lookup(vector));
      partialsAt = argTypes.size();
      if (!reductions.empty())
        numBlocks = arith::CeilDivUIOp::create(
            builder, loc, numNodes,
            arith::ConstantIndexOp::create(builder, loc,
                                           *callee.getBlockRows()));
      for (ReduceAllOp reduce : reductions)
        addArg(allocVector(
            getElementTypeOf(reduce.getType()),
            arith::MulIOp::create(
                builder, reduce.getLoc(), numBlocks,
                arith::ConstantIndexOp::create(
                    builder, reduce.getLoc(), numFeatures(reduce.getType())))));
      nodesAt = addArg(numNodes);
      partials.assign(callArgs.begin() + partialsAt,
                      callArgs.begin() + nodesAt);
    } else {
      slotsAt = addArg(slotsArg);
      nodesAt = addArg(numNodes);
      edgesAt = addArg(numEdges);
      vectorsAt = argTypes.size();
      for (Value vector : globalVectors)
        addArg(globals.lookup(vector));
      for (ReduceAllOp reduce : reductions) {
        if (isa<FloatType>(reduce.getType())) {
          resultTypes.push_back(getElementTypeOf(reduce.getType()));
          continue;
        }
        vectorResults.push_back(addArg(allocVector(
            getElementTypeOf(reduce.getType()),
            arith::ConstantIndexOp::create(builder, reduce.getLoc(),
                                           numFeatures(reduce.getType())))));
      }
    }
    scalarsAt = argTypes.size();
    for (Value scalar : scalars)
      addArg(globals.lookup(scalar));

    auto func = func::FuncOp::create(
        callee.getLoc(),
        gpu ? (callee.getSymName() + kGpuKernelSuffix).str()
            : callee.getSymName().str(),
        builder.getFunctionType(argTypes, resultTypes));
    func.setPrivate();
    if (gpu) {
      func->setAttr(kGpuKernelAttr, builder.getUnitAttr());
    } else {
      // A kernel stays a function of its own: inlined, every kernel of a
      // step lands in one entry function whose size grows with the model,
      // and LLVM's time on that function grows faster than linearly. A call
      // per launch costs nothing beside the parallel region it opens.
      SmallVector<Attribute> passthrough = {builder.getStringAttr("noinline")};
      // The kernel's vector width (gk-choose-schedule), which the parallel
      // region outlined from the function inherits.
      if (std::optional<int64_t> bits = callee.getVectorBits())
        passthrough.push_back(builder.getArrayAttr(
            {builder.getStringAttr("prefer-vector-width"),
             builder.getStringAttr(std::to_string(*bits))}));
      func->setAttr("passthrough", builder.getArrayAttr(passthrough));
    }
    // Distinct slots and vectors are distinct allocations, except the
    // vector entries' operands: the runtime's Krylov solvers call them in
    // place (`x <- x + a y` is lincomb with out = x), so their field slots
    // may share a buffer (the GPU flavour would read x through the
    // read-only cache as a `noalias` pointer while writing it as out).
    bool inPlaceOperands = gpu && entryOp.getKind().starts_with("vector_");
    for (unsigned i = 0; i < argTypes.size(); ++i) {
      if (!isa<MemRefType>(argTypes[i]))
        continue;
      if (inPlaceOperands && i < slots.size() && slots[i] >= kFirstDeclSlot)
        continue;
      func.setArgAttr(i, "llvm.noalias", builder.getUnitAttr());
    }
    module.getBody()->getOperations().insert(Block::iterator(entry), func);

    Block *kernelBody = func.addEntryBlock();
    OpBuilder kernelBuilder = OpBuilder::atBlockEnd(kernelBody);
    KernelInputs inputs;
    inputs.numNodes = kernelBody->getArgument(nodesAt);
    DenseMap<int, Value> slotArgs;
    for (auto [index, slot] : llvm::enumerate(slots))
      slotArgs[slot] =
          gpu ? kernelBody->getArgument(index)
              : slotView(kernelBuilder, kernelBody->getArgument(slotsAt),
                         inputs.numNodes, kernelBody->getArgument(edgesAt),
                         slot);
    inputs.rowPtr = slotArgs[kRowPtrSlot];
    inputs.colIdx = slotArgs[kColIdxSlot];
    inputs.weights = usesWeights ? slotArgs[kWeightsSlot] : Value();
    if (usesOutEdges) {
      inputs.outOffsets = slotArgs[kOutOffsetsSlot];
      inputs.outTargets = slotArgs[kOutTargetsSlot];
      inputs.outEdges = slotArgs[kOutEdgesSlot];
    }
    unsigned nextScalar = scalarsAt, nextVector = vectorsAt;
    for (auto [index, arg] : llvm::enumerate(kernelBlock.getArguments())) {
      Value capture = launch.getCaptures()[index];
      if (isGraph(capture))
        continue;
      if (captureSlot[index] >= 0)
        inputs.externals[arg].memref = slotArgs[captureSlot[index]];
      else if (isa<RankedTensorType>(capture.getType()))
        inputs.externals[arg].memref = kernelBody->getArgument(nextVector++);
      else
        inputs.externals[arg].scalar = kernelBody->getArgument(nextScalar++);
    }
    SmallVector<Value> kernelPartials;
    Value kernelBlocks;
    if (gpu) {
      for (unsigned index = 0; index < reductions.size(); ++index)
        kernelPartials.push_back(kernelBody->getArgument(partialsAt + index));
    } else if (!reductions.empty()) {
      kernelBlocks = arith::CeilDivUIOp::create(
          kernelBuilder, loc, inputs.numNodes,
          arith::ConstantIndexOp::create(kernelBuilder, loc,
                                         *callee.getBlockRows()));
      for (ReduceAllOp reduce : reductions)
        kernelPartials.push_back(memref::AllocOp::create(
            kernelBuilder, reduce.getLoc(),
            MemRefType::get({ShapedType::kDynamic},
                            getElementTypeOf(reduce.getType())),
            ValueRange{arith::MulIOp::create(
                kernelBuilder, reduce.getLoc(), kernelBlocks,
                arith::ConstantIndexOp::create(
                    kernelBuilder, reduce.getLoc(),
                    numFeatures(reduce.getType())))}));
    }
    for (auto [reduce, partial] : llvm::zip(reductions, kernelPartials))
      inputs.reductions.push_back({reduce, partial});
    inputs.reduceBlockRows = callee.getBlockRows().value_or(0);
    // The GPU flavour maps nodes onto threads itself.
    inputs.balancedChunks = gpu ? 0 : callee.getBalancedChunks().value_or(0);
    inputs.numPasses = callee.getNumPasses().value_or(0);
    inputs.prefetch = prefetch;
    inputs.cacheEdgeValues = cacheEdgeValues;
    if (!checked.empty())
      inputs.status = slotArgs[lowering.getStatusSlot()];
    for (auto [index, value] : llvm::enumerate(yield.getValues()))
      if (resultSlot[index] >= 0)
        inputs.roots.push_back({value, slotArgs[resultSlot[index]],
                                llvm::is_contained(checked, int64_t(index))});

    if (failed(emitKernel(kernelBuilder, callee.getLoc(), inputs)))
      return failure();
    SmallVector<Value> kernelResults;
    if (!gpu) {
      auto vectorResult = vectorResults.begin();
      for (auto [reduce, partial] : llvm::zip(reductions, kernelPartials)) {
        bool scalar = isa<FloatType>(reduce.getType());
        Value result = combinePartials(
            kernelBuilder, reduce, partial, kernelBlocks,
            rowsOf(reduce, inputs.numNodes, kernelBody->getArgument(edgesAt)),
            scalar ? Value() : kernelBody->getArgument(*vectorResult++));
        if (scalar)
          kernelResults.push_back(result);
        memref::DeallocOp::create(kernelBuilder, reduce.getLoc(), partial);
      }
    }
    func::ReturnOp::create(kernelBuilder, callee.getLoc(), kernelResults);

    auto call = func::CallOp::create(builder, loc, func, callArgs);
    unsigned nextResult = 0;
    auto vectorResult = vectorResults.begin();
    for (auto [index, reduce] : llvm::enumerate(reductions)) {
      Value &global = globals[launch.getResult(reductionResults[index])];
      if (gpu) {
        Value vector;
        if (!isa<FloatType>(reduce.getType()))
          vector = allocVector(getElementTypeOf(reduce.getType()),
                               arith::ConstantIndexOp::create(
                                   builder, reduce.getLoc(),
                                   numFeatures(reduce.getType())));
        global = combinePartials(builder, reduce, partials[index], numBlocks,
                                 rowsOf(reduce, numNodes, numEdges), vector);
      } else {
        global = isa<FloatType>(reduce.getType())
                     ? call.getResult(nextResult++)
                     : callArgs[*vectorResult++];
      }
    }
    return success();
  }

  /// The number of rows a global reduction runs over: nodes or edges.
  static Value rowsOf(ReduceAllOp reduce, Value nodes, Value edges) {
    return getFieldKind(reduce.getInput().getType()) == FieldKind::node
               ? nodes
               : edges;
  }

  Value allocVector(Type elementType, Value size) {
    Location loc = entryOp.getLoc();
    Value memref = memref::AllocOp::create(
        builder, loc, MemRefType::get({ShapedType::kDynamic}, elementType),
        ValueRange{size});
    allocations.push_back(memref);
    return memref;
  }

  /// After the kernel's loop: the value of a global reduction from its
  /// per-block partials, combined serially in block order (the same bits at
  /// any thread count), then finalised: `mean` divides by the number of
  /// rows, and a field without rows gives 0. A vector reduction is stored
  /// into `vector`, which is returned.
  Value combinePartials(OpBuilder &builder, ReduceAllOp reduce,
                        Value partial, Value numBlocks, Value rows,
                        Value vector) {
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
    Value empty = arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::eq,
                                        rows, index(0));
    func::FuncOp combine = combineFunction(kind, type);
    // One feature: the partials b * features + k for b in order.
    auto combineFeature = [&](Value k) -> Value {
      Value result =
          func::CallOp::create(builder, loc, combine,
                               ValueRange{partial, numBlocks,
                                          index(features), k})
              .getResult(0);
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

  /// `gradegen_combine_<kind>_<type>(partials, blocks, stride, k)`: the
  /// partials `b * stride + k` combined serially for b in order, shared by
  /// every global reduction of the module of that kind and type (a loop per
  /// reduction, unrolled by LLVM, was most of the code of models with many
  /// reductions).
  func::FuncOp combineFunction(ReduceAllKind kind, Type type) {
    std::string name;
    llvm::raw_string_ostream os(name);
    os << "gradegen_combine_" << stringifyReduceAllKind(kind) << "_" << type;
    if (auto existing = module.lookupSymbol<func::FuncOp>(name))
      return existing;
    OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
    Location loc = b.getUnknownLoc();
    Type indexType = b.getIndexType();
    auto func = func::FuncOp::create(
        b, loc, name,
        b.getFunctionType({MemRefType::get({ShapedType::kDynamic}, type),
                           indexType, indexType, indexType},
                          {type}));
    func.setPrivate();
    func->setAttr("passthrough",
                  b.getArrayAttr({b.getStringAttr("noinline")}));
    Block *body = func.addEntryBlock();
    b.setInsertionPointToStart(body);
    Value partial = body->getArgument(0), stride = body->getArgument(2),
          k = body->getArgument(3);
    auto loop = scf::ForOp::create(
        b, loc, arith::ConstantIndexOp::create(b, loc, 0),
        body->getArgument(1), arith::ConstantIndexOp::create(b, loc, 1),
        ValueRange{arith::ConstantOp::create(
            b, loc, type, b.getFloatAttr(type, reduceAllInit(kind)))});
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value at = arith::AddIOp::create(
          b, loc, arith::MulIOp::create(b, loc, loop.getInductionVar(), stride),
          k);
      Value x = memref::LoadOp::create(b, loc, partial, at);
      scf::YieldOp::create(
          b, loc,
          emitReduceAllCombine(b, loc, kind, loop.getRegionIterArgs()[0], x));
    }
    func::ReturnOp::create(b, loc, loop.getResult(0));
    return func;
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
      if (isa<ReduceAllOp, FieldComputeOpInterface, ReindexOp, LoadOp,
              GraphSizeOp>(op) ||
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
  bool cacheEdgeValues;
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
      if (indexBits != 32 && indexBits != 64) {
        model.emitOpError("cannot number nodes with ")
            << indexBits.getValue() << "-bit integers; index-bits is 32 or 64";
        return signalPassFailure();
      }
      GraphOp graph = model.getGraphOp();
      if (graph && !graph.getIndexType())
        graph.setIndexTypeAttr(
            TypeAttr::get(IntegerType::get(&getContext(), indexBits)));
      ModelLowering lowering(model);
      for (auto entry : llvm::make_early_inc_range(
               model.getBody().front().getOps<gk::EntryOp>())) {
        if ((cpu && failed(EntryLowering(lowering, entry, prefetch,
                                         cacheEdgeValues, /*gpu=*/false)
                               .run())) ||
            (cuda && failed(EntryLowering(lowering, entry, prefetch,
                                          cacheEdgeValues, /*gpu=*/true)
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
