//===- GradeToLoops.cpp - kernel formation and lowering to loops ----------===//
//
// For each region (init, rhs, step) of a model:
//
//  0. Directions. Which edge passes evaluate each edge value: passes over
//     in-edges (the node is the destination) for in-reductions, edge roots
//     and global reductions, over out-edges (the node is the source) for
//     out-reductions. It decides which gathers read the other end.
//  1. Levels. A field value's level is the kernel that computes it. Reading
//     a value at other nodes (`gather src` over in-edges, `gather dst` over
//     out-edges) needs that value complete for every node, i.e. computed by
//     an earlier kernel: level(gather x) = level(x) + 1 unless x is a
//     buffer already. A global reduction of a
//     field (`reduce_all`) is known only after the kernel computing the
//     field has run: level(reduce_all x) = level(x) + 1, and the globals
//     computed from it take that level too. Every other operation takes
//     the highest level of its operands.
//  2. Materialisation. Walking each kernel's roots from the last kernel
//     down: a node value of a lower level becomes a root of its own kernel
//     (it is written to a temporary); an edge value of a lower level is
//     recomputed (never stored per edge).
//  3. Buffers. Temporaries are reused once their last reader is done (or
//     in the very kernel that last reads them, if it reads them only at the
//     node being written). A state updated in place while a later kernel of
//     the same step, or a neighbour in the same kernel, still reads its old
//     value goes to a temporary instead, swapped in by the runtime.
//  4. Code. One private function per kernel (KernelEmitter.cpp) and an
//     entry point taking the runtime's slot array, which evaluates the
//     globals of each level before calling its kernel, and combines the
//     per-block partial results of the global reductions after it.
//
//===----------------------------------------------------------------------===//

#include "dialects/Conversion/Passes.h"

#include "dialects/Conversion/GradeToLoops/KernelEmitter.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"

#include <limits>

#define DEBUG_TYPE "convert-grade-to-loops"

namespace grade {
#define GEN_PASS_DEF_CONVERTGRADETOLOOPS
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

bool isIndexSlot(int slot) {
  return slot == kRowPtrSlot || slot == kColIdxSlot ||
         slot == kOutOffsetsSlot || slot == kOutTargetsSlot ||
         slot == kOutEdgesSlot;
}

/// Global reductions are computed per block of this many nodes (and their
/// in-edges), whatever the number of threads.
constexpr int64_t kReduceBlockRows = 1024;

int64_t numFeatures(Type type) { return getNumElements(getFeatureShape(type)); }

/// How a kernel reads a buffer: at the rows it writes (Local), or at other
/// rows (Src: node values at edge sources over in-edges or destinations over
/// out-edges, edge arrays over out-edges).
enum class ReadMode { Local, Src };

bool isField(Value value) { return isa<FieldType>(value.getType()); }
bool isGraph(Value value) { return isa<grade::GraphType>(value.getType()); }

/// Model-wide state: slot numbering and the pool of temporaries.
class ModelLowering {
public:
  explicit ModelLowering(ModelOp model) : model(model) {
    for (DeclOp decl : model.getDecls()) {
      slotOf[decl.getSymName()] = kFirstDeclSlot + slotTypes.size();
      slotTypes.push_back(decl.getType());
    }
  }

  int getSlot(StringRef decl) const { return slotOf.lookup(decl); }
  Type getSlotType(int slot) const {
    return slotTypes[slot - kFirstDeclSlot];
  }

  /// Appends a temporary declaration and returns its slot.
  int createTemp(FieldType type, StringRef prefix) {
    OpBuilder builder(model.getContext());
    builder.setInsertionPointToEnd(&model.getBody().front());
    std::string name = (prefix + Twine(numTemps++)).str();
    DeclOp::create(builder, model.getLoc(), Role::temp, name, type, false);
    int slot = kFirstDeclSlot + slotTypes.size();
    slotOf[name] = slot;
    slotTypes.push_back(type);
    return slot;
  }

  StringRef getTempName(int slot) {
    return model.getDecls()[slot - kFirstDeclSlot].getSymName();
  }

  /// Temporaries reusable across regions: slot and type.
  struct Temp {
    int slot;
    FieldType type;
  };
  SmallVector<Temp> pool;

  ModelOp model;

private:
  llvm::StringMap<int> slotOf;
  SmallVector<Type> slotTypes;
  unsigned numTemps = 0;
};

/// A value a kernel stores, and the slot it goes to; or a global reduction
/// (`value` is its result) whose input the kernel computes and reduces.
struct Root {
  Value value;
  int slot = -1;
  bool isTarget = false;

  ReduceAllOp getReduceAll() const {
    return value.getDefiningOp<ReduceAllOp>();
  }
  /// The field the kernel computes for this root.
  Value getField() const {
    if (ReduceAllOp reduce = getReduceAll())
      return reduce.getInput();
    return value;
  }
};

/// Lowers one region op into an entry function and its kernels.
class RegionLowering {
public:
  RegionLowering(ModelLowering &modelLowering, Operation *regionOp,
                 StringRef regionName, ArrayRef<int> targetSlots,
                 bool mayNeedSwaps)
      : lowering(modelLowering), regionOp(regionOp), regionName(regionName),
        targetSlots(targetSlots), mayNeedSwaps(mayNeedSwaps),
        body(regionOp->getRegion(0).front()) {}

  LogicalResult run(SmallVectorImpl<std::pair<int, int>> &swaps) {
    computeDirections();
    if (failed(computeLevels()))
      return failure();
    planMaterialization();
    assignBuffers(swaps);
    return emitCode();
  }

private:
  //===--------------------------------------------------------------------===//
  // 0. Directions
  //===--------------------------------------------------------------------===//

  /// Which edge passes compute an edge value: passes over in-edges (where
  /// the node is the destination) for in-reductions, edge roots and global
  /// reductions, passes over out-edges (the node is the source) for
  /// out-reductions; both when it feeds both.
  enum Direction : unsigned { kIn = 1, kOut = 2 };

  void computeDirections() {
    auto mark = [&](Value value, unsigned dirs) {
      if (isField(value) && getFieldKind(value.getType()) == FieldKind::edge)
        directions[value] |= dirs;
    };
    // Consumers come after producers: one walk backwards.
    for (Operation &op : llvm::reverse(body)) {
      if (auto reduce = dyn_cast<ReduceOp>(op)) {
        mark(reduce.getInput(), reduce.getOut() ? kOut : kIn);
        continue;
      }
      if (isa<ReduceAllOp, YieldOp>(op)) {
        for (Value operand : op.getOperands())
          mark(operand, kIn);
        continue;
      }
      unsigned dirs = 0;
      for (Value result : op.getResults())
        dirs |= directions.lookup(result);
      for (Value operand : op.getOperands())
        mark(operand, dirs);
    }
  }

  unsigned directionsOf(Value value) {
    unsigned dirs = directions.lookup(value);
    return dirs ? dirs : kIn;
  }

  /// Whether an edge pass reads the gathered node value at the other end of
  /// the edge (a random access into a buffer complete for every node):
  /// sources in passes over in-edges, destinations over out-edges.
  bool isRemoteGather(GatherOp gather) {
    unsigned dirs = directionsOf(gather.getResult());
    return gather.getEnd() == GatherEnd::src ? dirs & kIn : dirs & kOut;
  }
  /// Whether an edge pass reads it at the pass's own node.
  bool isLocalGather(GatherOp gather) {
    unsigned dirs = directionsOf(gather.getResult());
    return gather.getEnd() == GatherEnd::dst ? dirs & kIn : dirs & kOut;
  }

  //===--------------------------------------------------------------------===//
  // 1. Levels
  //===--------------------------------------------------------------------===//

  LogicalResult computeLevels() {
    for (Operation &op : body.without_terminator()) {
      if (isa<SoftmaxOp>(op))
        return op.emitError("'grade.softmax' must be expanded before "
                            "lowering (run grade-expand-softmax)");
      if (!isa<LoadOp, GatherOp, ReduceOp, ReduceAllOp, FieldComputeOpInterface,
               ContractOp, DegreeOp, WeightOp, NonEmptyOp>(op) &&
          op.getDialect()->getNamespace() != "arith")
        return op.emitError("cannot lower '")
               << op.getName() << "' inside '" << regionOp->getName() << "'";
      bool anyField = llvm::any_of(op.getResults(), isField);
      if (!anyField) {
        // A global: evaluated in the entry function, before the kernel of
        // its level.
        bool tensorResult =
            llvm::any_of(op.getResultTypes(),
                         [](Type t) { return isa<RankedTensorType>(t); });
        if (isa<ContractOp>(op))
          return op.emitError("a contraction of globals only is not "
                              "supported; one operand must be a field");
        if (tensorResult && !isa<LoadOp, ReduceAllOp, FieldComputeOpInterface>(op))
          return op.emitError("arithmetic on global tensors is not "
                              "supported; combine them with a field");
      }
      int result = 0;
      if (isa<LoadOp>(op)) {
        result = 0;
      } else if (auto gather = dyn_cast<GatherOp>(op);
                 gather && isRemoteGather(gather)) {
        Value input = gather.getInput();
        result = input.getDefiningOp<LoadOp>() ? 0 : levels[input] + 1;
      } else if (auto reduce = dyn_cast<ReduceAllOp>(op)) {
        result = levels.lookup(reduce.getInput()) + 1;
        reduceAlls.push_back(reduce);
      } else {
        for (Value operand : op.getOperands())
          result = std::max(result, levels.lookup(operand));
      }
      for (Value value : op.getResults())
        levels[value] = result;
      if (auto gather = dyn_cast<GatherOp>(op);
          gather && isRemoteGather(gather) &&
          !gather.getInput().getDefiningOp<LoadOp>())
        mustMaterialize.insert(gather.getInput());
    }
    return success();
  }

  /// A reduction whose input reads only per-edge and per-node data of buffers
  /// bound before the region runs (edge loads, weights, destination gathers
  /// of loads), e.g. a weighted degree: recomputing it costs an accumulator
  /// in an edge pass that exists anyway, while storing it costs a write and
  /// a read per node. Gathers at the other end of the edges (sources over
  /// in-edges, destinations over out-edges) are random accesses, never free.
  bool isInvariantReduction(ReduceOp reduce) {
    SmallVector<Value> worklist = {reduce.getInput()};
    llvm::DenseSet<Value> seen;
    while (!worklist.empty()) {
      Value value = worklist.pop_back_val();
      if (!seen.insert(value).second || !isField(value))
        continue;
      Operation *op = value.getDefiningOp();
      if (isa<LoadOp, WeightOp>(op))
        continue;
      if (auto gather = dyn_cast<GatherOp>(op);
          gather && isRemoteGather(gather))
        return false;
      if (!isa<GatherOp, FieldComputeOpInterface, NonEmptyOp>(op))
        return false;
      for (Value operand : op->getOperands())
        if (!isGraph(operand))
          worklist.push_back(operand);
    }
    return true;
  }

  /// Whether a node value of an earlier kernel is cheaper to recompute
  /// where it is needed than to store: graph invariants, and element-wise
  /// combinations of values that are in memory anyway.
  bool isRecomputable(Value value) {
    auto it = recomputable.find(value);
    if (it != recomputable.end())
      return it->second;
    bool result = false;
    Operation *op = value.getDefiningOp();
    if (mustMaterialize.count(value) || !op) {
      result = false;
    } else if (isa<DegreeOp>(op)) {
      result = true;
    } else if (auto reduce = dyn_cast<ReduceOp>(op)) {
      result = isInvariantReduction(reduce);
    } else if (isa<FieldComputeOpInterface, NonEmptyOp>(op)) {
      result = llvm::all_of(op->getOperands(), [&](Value operand) {
        return !isField(operand) || operand.getDefiningOp<LoadOp>() ||
               mustMaterialize.count(operand) || isRecomputable(operand);
      });
    }
    recomputable[value] = result;
    return result;
  }

  /// Whether kernel `level` reads `value` (from memory, or as an argument)
  /// instead of computing it.
  bool isExternalIn(Value value, int level) {
    if (!isField(value) || value.getDefiningOp<LoadOp>())
      return true;
    if (levels.lookup(value) >= level ||
        getFieldKind(value.getType()) == FieldKind::edge)
      return false; // computed here; edge values are always recomputed
    return mustMaterialize.count(value) || !isRecomputable(value);
  }

  //===--------------------------------------------------------------------===//
  // 2. Materialisation
  //===--------------------------------------------------------------------===//

  void planMaterialization() {
    auto yield = cast<YieldOp>(body.getTerminator());
    int maxLevel = 0;
    for (Value value : yield.getValues())
      maxLevel = std::max(maxLevel, levels.lookup(value));
    for (ReduceAllOp reduce : reduceAlls)
      maxLevel = std::max(maxLevel, levels.lookup(reduce.getInput()));
    roots.resize(maxLevel + 1);
    for (auto [value, slot] : llvm::zip(yield.getValues(), targetSlots))
      roots[levels.lookup(value)].push_back(Root{value, slot, true});
    // Every global reduction is computed by the kernel of its input.
    for (ReduceAllOp reduce : reduceAlls)
      roots[levels.lookup(reduce.getInput())].push_back(
          Root{reduce.getResult(), -1, false});

    for (int level = maxLevel; level >= 0; --level) {
      llvm::DenseSet<std::pair<Value, int>> visited;
      // roots[level] may grow while we walk (never at this level: a value
      // is materialised at its own, lower level), so index, don't iterate.
      for (size_t r = 0; r < roots[level].size(); ++r)
        visit(roots[level][r].getField(), ReadMode::Local, level, visited);
    }
  }

  void visit(Value value, ReadMode mode, int level,
             llvm::DenseSet<std::pair<Value, int>> &visited) {
    if (!visited.insert({value, static_cast<int>(mode)}).second)
      return;
    if (!isField(value) || isGraph(value))
      return;
    if (isExternalIn(value, level)) {
      // An edge array read over out-edges is read at edges of other nodes'
      // rows: like a node value at a source, it must not be overwritten in
      // place by the kernel that reads it.
      if (getFieldKind(value.getType()) == FieldKind::edge &&
          (directionsOf(value) & kOut))
        mode = ReadMode::Src;
      reads[value].push_back({level, mode});
      if (!value.getDefiningOp<LoadOp>() && materialized.insert(value).second)
        roots[levels.lookup(value)].push_back(Root{value, -1, false});
      return;
    }
    // Computed in this kernel, or recomputed here.
    Operation *op = value.getDefiningOp();
    if (auto gather = dyn_cast<GatherOp>(op)) {
      if (isRemoteGather(gather))
        visit(gather.getInput(), ReadMode::Src, level, visited);
      if (isLocalGather(gather))
        visit(gather.getInput(), ReadMode::Local, level, visited);
      return;
    }
    for (Value operand : op->getOperands())
      visit(operand, ReadMode::Local, level, visited);
  }

  //===--------------------------------------------------------------------===//
  // 3. Buffers
  //===--------------------------------------------------------------------===//

  /// A temporary of `type` free for a value written by kernel `level`.
  int allocateTemp(FieldType type, int level, int busyUntil, bool localOnly) {
    for (auto [temp, state] : llvm::zip(lowering.pool, tempStates)) {
      if (temp.type != type)
        continue;
      if (state.busyUntil < level ||
          (state.busyUntil == level && state.localOnly)) {
        state = {busyUntil, localOnly};
        return temp.slot;
      }
    }
    int slot = lowering.createTemp(type, "tmp");
    lowering.pool.push_back({slot, type});
    tempStates.push_back({busyUntil, localOnly});
    return slot;
  }

  void assignBuffers(SmallVectorImpl<std::pair<int, int>> &swaps) {
    tempStates.assign(lowering.pool.size(), TempState{-1, true});
    for (Operation &op : body.without_terminator())
      if (auto load = dyn_cast<LoadOp>(op))
        bufferOf[load.getResult()] = lowering.getSlot(load.getDecl());

    for (int level = 0; level < static_cast<int>(roots.size()); ++level) {
      for (Root &root : roots[level]) {
        if (root.getReduceAll())
          continue; // reduced into per-block partials (see emitCode)
        auto type = cast<FieldType>(root.value.getType());
        if (root.isTarget) {
          if (mayNeedSwaps && !safeInPlace(root.slot, level)) {
            int temp = allocateTemp(type, level,
                                    std::numeric_limits<int>::max(), false);
            swaps.push_back({root.slot, temp});
            root.slot = temp;
          }
          continue;
        }
        int lastRead = 0;
        for (auto [reader, mode] : reads[root.value])
          lastRead = std::max(lastRead, reader);
        bool localOnly = llvm::all_of(reads[root.value], [&](auto read) {
          return read.first != lastRead || read.second == ReadMode::Local;
        });
        root.slot = allocateTemp(type, level, lastRead, localOnly);
        bufferOf[root.value] = root.slot;
      }
    }
  }

  /// Whether kernel `level` may overwrite `slot` while computing its new
  /// value: nobody reads the old value afterwards or at another node.
  bool safeInPlace(int slot, int level) {
    for (auto &[value, valueReads] : reads) {
      auto load = value.getDefiningOp<LoadOp>();
      if (!load || lowering.getSlot(load.getDecl()) != slot)
        continue;
      for (auto [reader, mode] : valueReads)
        if (reader > level || (reader == level && mode == ReadMode::Src))
          return false;
    }
    return true;
  }

  //===--------------------------------------------------------------------===//
  // 4. Code
  //===--------------------------------------------------------------------===//

  /// The memref type of a slot (flat, dynamic size).
  MemRefType slotMemRefType(int slot) {
    Type element;
    if (isIndexSlot(slot))
      element = IntegerType::get(regionOp->getContext(), 64);
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
    Location loc = regionOp->getLoc();
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
  void collectExternals(int level, llvm::SetVector<Value> &externals,
                        bool &usesWeights, bool &usesOutEdges) {
    llvm::DenseSet<Value> visited;
    std::function<void(Value)> walk = [&](Value value) {
      if (isGraph(value) || !visited.insert(value).second)
        return;
      if (isExternalIn(value, level)) {
        externals.insert(value);
        return;
      }
      Operation *op = value.getDefiningOp();
      usesWeights |= isa<WeightOp>(op);
      if (auto reduce = dyn_cast<ReduceOp>(op))
        usesOutEdges |= reduce.getOut();
      for (Value operand : op->getOperands())
        walk(operand);
    };
    for (const Root &root : roots[level])
      walk(root.getField());
  }

  LogicalResult emitKernelFunction(int level) {
    llvm::SetVector<Value> externals;
    bool usesWeights = false, usesOutEdges = false;
    collectExternals(level, externals, usesWeights, usesOutEdges);

    // Arguments: graph arrays, one memref per distinct slot, the global
    // vectors computed by the entry (global reductions) and the partials of
    // the kernel's global reductions, the node count, then global scalars.
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
    SmallVector<Value> scalars;
    llvm::SetVector<Value> globalVectors;
    for (Value value : externals) {
      if (isField(value))
        slots.insert(bufferOf.lookup(value));
      else if (auto load = value.getDefiningOp<LoadOp>();
               load && isa<RankedTensorType>(value.getType()))
        slots.insert(lowering.getSlot(load.getDecl()));
      else if (isa<RankedTensorType>(value.getType()))
        globalVectors.insert(value);
      else
        scalars.push_back(value);
    }
    SmallVector<ReduceAllOp> reductions;
    for (const Root &root : roots[level]) {
      if (ReduceAllOp reduce = root.getReduceAll())
        reductions.push_back(reduce);
      else
        slots.insert(root.slot);
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
    Value numBlocks;
    SmallVector<Value> partials;
    if (!reductions.empty()) {
      numBlocks = arith::CeilDivUIOp::create(
          builder, regionOp->getLoc(), numNodes,
          arith::ConstantIndexOp::create(builder, regionOp->getLoc(),
                                         kReduceBlockRows));
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

    SmallVector<Location> rootLocs;
    for (const Root &root : roots[level])
      rootLocs.push_back(root.value.getLoc());
    Location loc = builder.getFusedLoc(rootLocs);
    std::string name = (lowering.model.getSymName() + "_" + regionName +
                        "_kernel" + Twine(level))
                           .str();
    auto func = func::FuncOp::create(
        loc, name, builder.getFunctionType(argTypes, {}));
    func.setPrivate();
    // Distinct slots and vectors are distinct allocations.
    for (unsigned i = 0; i < numMemRefs; ++i)
      func.setArgAttr(i, "llvm.noalias", builder.getUnitAttr());
    SymbolTable(module).insert(func, Block::iterator(entry));

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
    for (auto [index, scalar] : llvm::enumerate(scalars))
      inputs.externals[scalar].scalar =
          kernelBody->getArgument(numMemRefs + 1 + index);
    for (Value value : externals) {
      if (isField(value))
        inputs.externals[value].memref = slotArgs[bufferOf.lookup(value)];
      else if (auto load = value.getDefiningOp<LoadOp>();
               load && isa<RankedTensorType>(value.getType()))
        inputs.externals[value].memref =
            slotArgs[lowering.getSlot(load.getDecl())];
    }
    for (auto [index, vector] : llvm::enumerate(globalVectors))
      inputs.externals[vector].memref =
          kernelBody->getArgument(slots.size() + index);
    for (auto [index, reduce] : llvm::enumerate(reductions))
      inputs.reductions.push_back(
          {reduce, kernelBody->getArgument(slots.size() + globalVectors.size() +
                                           index)});
    inputs.reduceBlockRows = kReduceBlockRows;
    for (const Root &root : roots[level])
      if (!root.getReduceAll())
        inputs.roots.push_back({root.value, slotArgs[root.slot]});

    OpBuilder kernelBuilder = OpBuilder::atBlockEnd(kernelBody);
    if (failed(emitKernel(kernelBuilder, loc, inputs)))
      return failure();
    func::ReturnOp::create(kernelBuilder, loc);

    func::CallOp::create(builder, loc, func, callArgs);
    for (auto [reduce, partial] : llvm::zip(reductions, partials))
      combinePartials(reduce, partial, numBlocks);
    return success();
  }

  /// A new flat memref of `size` elements, freed when the entry returns.
  Value allocVector(Type elementType, Value size) {
    Location loc = regionOp->getLoc();
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
  void combinePartials(ReduceAllOp reduce, Value partial, Value numBlocks) {
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
    if (isa<FloatType>(reduce.getType())) {
      globals[reduce.getResult()] = combineFeature(index(0));
      return;
    }
    Value vector = allocVector(type, index(features));
    auto loop =
        scf::ForOp::create(builder, loc, index(0), index(features), index(1));
    {
      OpBuilder::InsertionGuard guard(builder);
      builder.setInsertionPoint(loop.getBody()->getTerminator());
      Value k = loop.getInductionVar();
      memref::StoreOp::create(builder, loc, combineFeature(k), vector, k);
    }
    globals[reduce.getResult()] = vector;
  }

  LogicalResult emitCode() {
    module = regionOp->getParentOfType<ModuleOp>();
    MLIRContext *context = regionOp->getContext();
    Location loc = regionOp->getLoc();
    builder = OpBuilder(context);
    builder.setInsertionPointToEnd(module.getBody());
    Type i64 = builder.getI64Type(), f64 = builder.getF64Type();
    auto type = builder.getFunctionType(
        {LLVM::LLVMPointerType::get(context), i64, i64, f64, f64}, {});
    entry = func::FuncOp::create(builder, loc,
                                 ("gradegen_entry_" + regionName).str(), type);
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

    // Time arguments, then every global of the region.
    unsigned numArgs = body.getNumArguments();
    if (numArgs > 1)
      globals[body.getArgument(1)] = entryBody->getArgument(3);
    if (numArgs > 2)
      globals[body.getArgument(2)] = entryBody->getArgument(4);
    // Level by level: the globals of the level (those computed from global
    // reductions of earlier kernels have a level above 0), then its kernel,
    // which also produces the global reductions of the next level.
    int maxLevel = static_cast<int>(roots.size()) - 1;
    for (Operation &op : body.without_terminator())
      for (Value result : op.getResults())
        maxLevel = std::max(maxLevel, levels.lookup(result));
    for (int level = 0; level <= maxLevel; ++level) {
      for (Operation &op : body.without_terminator())
        if (!llvm::any_of(op.getResults(), isField) && op.getNumResults() &&
            !isa<ReduceAllOp>(op) && levels.lookup(op.getResult(0)) == level &&
            failed(emitGlobal(op)))
          return failure();
      if (level < static_cast<int>(roots.size()) && !roots[level].empty() &&
          failed(emitKernelFunction(level)))
        return failure();
    }
    for (Value memref : allocations)
      memref::DeallocOp::create(builder, loc, memref);
    return success();
  }

  ModelLowering &lowering;
  Operation *regionOp;
  StringRef regionName;
  ArrayRef<int> targetSlots;
  bool mayNeedSwaps;
  Block &body;

  llvm::DenseMap<Value, unsigned> directions;
  llvm::DenseMap<Value, int> levels;
  SmallVector<ReduceAllOp> reduceAlls;
  SmallVector<SmallVector<Root>> roots;
  llvm::DenseMap<Value, SmallVector<std::pair<int, ReadMode>>> reads;
  llvm::DenseSet<Value> materialized;
  /// Node values read at other nodes: they must be in memory.
  llvm::DenseSet<Value> mustMaterialize;
  llvm::DenseMap<Value, bool> recomputable;
  llvm::DenseMap<Value, int> bufferOf;
  struct TempState {
    int busyUntil;
    bool localOnly;
  };
  SmallVector<TempState> tempStates;

  ModuleOp module;
  OpBuilder builder{regionOp->getContext()};
  func::FuncOp entry;
  Operation *prologueTail = nullptr; ///< slot views are inserted after it
  Value slotsArg, numNodes, numEdges;
  llvm::DenseMap<int, Value> entrySlots;
  llvm::DenseMap<Value, Value> globals;
  /// Partials and global vectors, freed before the entry returns.
  SmallVector<Value> allocations;
};

LogicalResult lowerModel(ModelOp model) {
  ModelLowering lowering(model);
  MLIRContext *context = model.getContext();
  SmallVector<std::pair<int, int>> swaps;

  if (InitOp init = model.getInitOp()) {
    SmallVector<int> targets;
    for (Attribute target : init.getTargets())
      targets.push_back(
          lowering.getSlot(cast<FlatSymbolRefAttr>(target).getValue()));
    SmallVector<std::pair<int, int>> none;
    if (failed(RegionLowering(lowering, init, "init", targets, false).run(none)))
      return failure();
  }
  if (RhsOp rhs = model.getRhsOp()) {
    // Derivatives go to slots the runtime points at the caller's buffers;
    // `rhs_outputs` lists them in the order the states are declared.
    llvm::StringMap<int> derivativeSlot;
    for (DeclOp state : model.getStates())
      derivativeSlot[state.getSymName()] =
          lowering.createTemp(cast<FieldType>(state.getType()),
                              ("d_" + state.getSymName() + "_").str());
    SmallVector<int> targets;
    for (Attribute target : rhs.getTargets())
      targets.push_back(
          derivativeSlot.lookup(cast<FlatSymbolRefAttr>(target).getValue()));
    SmallVector<Attribute> outputs;
    for (DeclOp state : model.getStates())
      outputs.push_back(FlatSymbolRefAttr::get(
          context,
          lowering.getTempName(derivativeSlot.lookup(state.getSymName()))));
    SmallVector<std::pair<int, int>> none;
    if (failed(RegionLowering(lowering, rhs, "rhs", targets, false).run(none)))
      return failure();
    model.setRhsOutputsAttr(ArrayAttr::get(context, outputs));
  }
  if (StepOp step = model.getStepOp()) {
    SmallVector<int> targets;
    for (Attribute target : step.getTargets())
      targets.push_back(
          lowering.getSlot(cast<FlatSymbolRefAttr>(target).getValue()));
    if (failed(RegionLowering(lowering, step, "step", targets, true)
                   .run(swaps)))
      return failure();
  }
  SmallVector<Attribute> swapAttrs;
  for (auto [a, b] : swaps)
    swapAttrs.push_back(ArrayAttr::get(
        context, {FlatSymbolRefAttr::get(context, lowering.getTempName(a)),
                  FlatSymbolRefAttr::get(context, lowering.getTempName(b))}));
  model.setSwapsAttr(ArrayAttr::get(context, swapAttrs));

  for (Operation *op : {static_cast<Operation *>(model.getInitOp()),
                        static_cast<Operation *>(model.getRhsOp()),
                        static_cast<Operation *>(model.getStepOp())})
    if (op)
      op->erase();
  return success();
}

struct ConvertGradeToLoopsPass
    : public grade::impl::ConvertGradeToLoopsBase<ConvertGradeToLoopsPass> {
  void runOnOperation() override {
    for (ModelOp model :
         llvm::make_early_inc_range(getOperation().getOps<ModelOp>()))
      if (failed(lowerModel(model)))
        return signalPassFailure();
  }
};

} // namespace
