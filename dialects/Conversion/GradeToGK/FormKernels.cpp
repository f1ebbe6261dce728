//===- FormKernels.cpp - fusion groups as gk.kernel ops ---------------------===//
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
//     buffer already. A global reduction of a field (`reduce_all`) is known
//     only after the kernel computing the field has run:
//     level(reduce_all x) = level(x) + 1, and the globals computed from it
//     take that level too. Every other operation takes the highest level of
//     its operands.
//  2. Materialisation. Walking each kernel's roots from the last kernel
//     down: a node value of a lower level becomes a root of its own kernel
//     (a result, stored); an edge value of a lower level, or a node value
//     cheaper to recompute than to store, is recomputed (cloned into the
//     kernel that reads it).
//  3. Kernels. One `gk.kernel` per level, after the globals of its level,
//     with the values it reads as captures (and how it reads them) and its
//     roots as results; the region's field computations are then replaced
//     by the kernels.
//
//===----------------------------------------------------------------------===//

#include "dialects/Conversion/Passes.h"

#include "dialects/GK/IR/GKOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

#include <numeric>

#define DEBUG_TYPE "grade-form-kernels"

namespace grade {
#define GEN_PASS_DEF_FORMKERNELS
#include "dialects/Conversion/Passes.h.inc"
} // namespace grade

using namespace mlir;
using namespace grade;

namespace {

/// Global reductions are computed per block of this many nodes (and their
/// in-edges), whatever the number of threads.
constexpr int64_t kReduceBlockRows = 1024;

/// The most reductions and roots one kernel computes (see chunksOf).
constexpr size_t kMaxReductionsPerKernel = 32, kMaxRootsPerKernel = 64;

/// How a kernel reads a value: at the rows it writes (Local), or at other
/// rows (Src: node values at edge sources over in-edges or destinations over
/// out-edges, edge arrays over out-edges).
enum class ReadMode { Local, Src };

bool isField(Value value) { return isa<FieldType>(value.getType()); }
bool isGraph(Value value) { return isa<grade::GraphType>(value.getType()); }

/// A value a kernel computes: a field it stores, or a global reduction
/// (`value` is its result) whose input it computes and reduces.
struct Root {
  Value value;
  /// The operand of the region's yield this root is, if it is a target.
  int yieldIndex = -1;

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

/// Forms the kernels of one region op.
class RegionKernels {
public:
  RegionKernels(Operation *regionOp, StringRef kernelPrefix)
      : regionOp(regionOp), kernelPrefix(kernelPrefix),
        body(regionOp->getRegion(0).front()) {}

  LogicalResult run() {
    computeDirections();
    if (failed(computeLevels()))
      return failure();
    planMaterialization();
    return formKernels();
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
               ContractOp, SymPowOp, ConcatOp, ReindexOp, DegreeOp, WeightOp,
               NonEmptyOp, GraphSizeOp>(op) &&
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
        if (isa<ContractOp>(op) ||
            (tensorResult &&
             !isa<LoadOp, ReduceAllOp, FieldComputeOpInterface, ReindexOp,
                  arith::ConstantOp>(op)))
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
      if (!isa<GatherOp, FieldComputeOpInterface, ConcatOp, ReindexOp,
               NonEmptyOp>(op))
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
    } else if (isa<FieldComputeOpInterface, ConcatOp, ReindexOp, NonEmptyOp>(
                   op)) {
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
    // A yielded global (an adaptive step's error) is evaluated by the
    // entry from the kernels' reductions; only fields are kernel roots.
    int maxLevel = 0;
    for (Value value : yield.getValues())
      if (isField(value))
        maxLevel = std::max(maxLevel, levels.lookup(value));
    for (ReduceAllOp reduce : reduceAlls)
      maxLevel = std::max(maxLevel, levels.lookup(reduce.getInput()));
    roots.resize(maxLevel + 1);
    for (auto [index, value] : llvm::enumerate(yield.getValues()))
      if (isField(value))
        roots[levels.lookup(value)].push_back(
            Root{value, static_cast<int>(index)});
    // Every global reduction is computed by the kernel of its input.
    for (ReduceAllOp reduce : reduceAlls)
      roots[levels.lookup(reduce.getInput())].push_back(
          Root{reduce.getResult()});

    for (int level = maxLevel; level >= 0; --level) {
      llvm::DenseSet<std::pair<Value, int>> visited;
      // roots[level] may grow while we walk (never at this level: a value
      // is materialised at its own, lower level), so index, don't iterate.
      for (size_t r = 0; r < roots[level].size(); ++r)
        visit(roots[level][r].getField(), ReadMode::Local, level, visited);
    }
  }

  /// Materialises the node values of earlier kernels that kernel `level`
  /// reads from memory.
  void visit(Value value, ReadMode mode, int level,
             llvm::DenseSet<std::pair<Value, int>> &visited) {
    walkReads(value, mode, level, visited, [&](Value external, ReadMode) {
      if (!external.getDefiningOp<LoadOp>() &&
          materialized.insert(external).second)
        roots[levels.lookup(external)].push_back(Root{external});
    });
  }

  /// Calls `onRead` for every value kernel `level` reads from memory while
  /// computing `value` (read in `mode`), and how it reads it.
  void walkReads(Value value, ReadMode mode, int level,
                 llvm::DenseSet<std::pair<Value, int>> &visited,
                 function_ref<void(Value, ReadMode)> onRead) {
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
      onRead(value, mode);
      return;
    }
    // Computed in this kernel, or recomputed here.
    Operation *op = value.getDefiningOp();
    if (auto gather = dyn_cast<GatherOp>(op)) {
      if (isRemoteGather(gather))
        walkReads(gather.getInput(), ReadMode::Src, level, visited, onRead);
      if (isLocalGather(gather))
        walkReads(gather.getInput(), ReadMode::Local, level, visited, onRead);
      return;
    }
    for (Value operand : op->getOperands())
      walkReads(operand, ReadMode::Local, level, visited, onRead);
  }

  //===--------------------------------------------------------------------===//
  // 3. Kernels
  //===--------------------------------------------------------------------===//

  /// The ops kernel `level` computes (in body order) and the values it
  /// reads instead.
  void collectCone(ArrayRef<Root> chunk, int level,
                   llvm::SetVector<Value> &externals,
                   llvm::SetVector<Operation *> &computed) {
    llvm::DenseSet<Value> visited;
    std::function<void(Value)> walk = [&](Value value) {
      if (isGraph(value) || !visited.insert(value).second)
        return;
      if (isExternalIn(value, level)) {
        externals.insert(value);
        return;
      }
      Operation *op = value.getDefiningOp();
      computed.insert(op);
      for (Value operand : op->getOperands())
        walk(operand);
    };
    for (const Root &root : chunk) {
      if (ReduceAllOp reduce = root.getReduceAll())
        computed.insert(reduce);
      walk(root.getField());
    }
  }

  /// How a kernel computing `chunk` at `level` reads each field it reads.
  llvm::DenseMap<Value, gk::Access> accessesOf(ArrayRef<Root> chunk,
                                               int level) {
    llvm::DenseMap<Value, std::pair<bool, bool>> modes; // local, remote
    llvm::DenseSet<std::pair<Value, int>> visited;
    for (const Root &root : chunk)
      walkReads(root.getField(), ReadMode::Local, level, visited,
                [&](Value value, ReadMode mode) {
                  (mode == ReadMode::Src ? modes[value].second
                                         : modes[value].first) = true;
                });
    llvm::DenseMap<Value, gk::Access> result;
    for (auto &[value, mode] : modes)
      result[value] = mode.second ? (mode.first ? gk::Access::both
                                                : gk::Access::remote)
                                  : gk::Access::local;
    return result;
  }

  /// The reductions (over edges, or global) a root's value needs at
  /// `level`: the expensive part of a kernel.
  void collectReductions(const Root &root, int level,
                         llvm::SetVector<Operation *> &reductions) {
    llvm::SetVector<Value> externals;
    llvm::SetVector<Operation *> computed;
    collectCone(root, level, externals, computed);
    for (Operation *op : computed)
      if (isa<ReduceOp, ReduceAllOp>(op))
        reductions.insert(op);
  }

  /// The roots of `level` in kernels of at most kMaxReductionsPerKernel
  /// reductions and kMaxRootsPerKernel roots. Roots that share a reduction
  /// stay together where they fit (splitting them computes it twice); a
  /// group that does not fit is split anyway, root by root. Reductions of
  /// graph invariants (weighted degrees), which nearly every root may read,
  /// do not group roots: each kernel recomputes them in a pass it has
  /// anyway. Huge fused loops cost compile time superlinearly (and
  /// registers at run time); a few more passes over the CSR index cost
  /// little next to them.
  SmallVector<SmallVector<Root>> chunksOf(int level) {
    ArrayRef<Root> all = roots[level];
    // Union-find over roots through the reductions they share.
    SmallVector<unsigned> parent(all.size());
    std::iota(parent.begin(), parent.end(), 0);
    auto find = [&](unsigned i) {
      while (parent[i] != i)
        i = parent[i] = parent[parent[i]];
      return i;
    };
    SmallVector<llvm::SetVector<Operation *>> rootReductions(all.size());
    llvm::DenseMap<Operation *, unsigned> owner;
    for (auto [index, root] : llvm::enumerate(all)) {
      collectReductions(root, level, rootReductions[index]);
      for (Operation *op : rootReductions[index]) {
        if (auto reduce = dyn_cast<ReduceOp>(op);
            reduce && isInvariantReduction(reduce))
          continue;
        auto [it, inserted] = owner.try_emplace(op, index);
        if (!inserted)
          parent[find(index)] = find(it->second);
      }
    }
    llvm::MapVector<unsigned, SmallVector<unsigned>> groups;
    for (unsigned i = 0; i < all.size(); ++i)
      groups[find(i)].push_back(i);

    // Greedy packing, in the order of the groups' first roots.
    SmallVector<SmallVector<Root>> chunks;
    llvm::SetVector<Operation *> chunkReductions;
    auto fits = [&](ArrayRef<unsigned> members) {
      if (chunks.empty() ||
          chunks.back().size() + members.size() > kMaxRootsPerKernel)
        return false;
      llvm::SetVector<Operation *> merged = chunkReductions;
      for (unsigned i : members)
        merged.insert(rootReductions[i].begin(), rootReductions[i].end());
      return merged.size() <= kMaxReductionsPerKernel;
    };
    auto add = [&](ArrayRef<unsigned> members) {
      if (!fits(members)) {
        chunks.emplace_back();
        chunkReductions.clear();
      }
      for (unsigned i : members) {
        chunks.back().push_back(all[i]);
        chunkReductions.insert(rootReductions[i].begin(),
                               rootReductions[i].end());
      }
    };
    for (auto &[leader, members] : groups) {
      llvm::SetVector<Operation *> groupReductions;
      for (unsigned i : members)
        groupReductions.insert(rootReductions[i].begin(),
                               rootReductions[i].end());
      if (members.size() <= kMaxRootsPerKernel &&
          groupReductions.size() <= kMaxReductionsPerKernel) {
        add(members);
        continue;
      }
      for (unsigned i : members)
        add(i);
    }
    return chunks;
  }

  bool isGlobalOp(Operation &op) {
    return op.getNumResults() && !llvm::any_of(op.getResults(), isField) &&
           !isa<ReduceAllOp>(op);
  }

  /// Creates the kernel computing `chunk` (roots of `level`) before the
  /// region's yield.
  void formKernel(OpBuilder &builder, YieldOp yield, StringRef name,
                  ArrayRef<Root> chunk, int level,
                  SmallVectorImpl<std::pair<Value, Value>> &replacements,
                  SmallVectorImpl<std::pair<int, Value>> &yielded) {
    MLIRContext *context = regionOp->getContext();
    llvm::SetVector<Value> externals;
    llvm::SetVector<Operation *> computed;
    collectCone(chunk, level, externals, computed);
    llvm::DenseMap<Value, gk::Access> accesses = accessesOf(chunk, level);
    SmallVector<Value> captures = {body.getArgument(0)};
    SmallVector<Attribute> access = {
        gk::AccessAttr::get(context, gk::Access::uniform)};
    for (Value value : externals) {
      captures.push_back(value);
      gk::Access kind = gk::Access::uniform;
      if (isField(value)) {
        auto it = accesses.find(value);
        kind = it == accesses.end() ? gk::Access::local : it->second;
      }
      access.push_back(gk::AccessAttr::get(context, kind));
    }
    SmallVector<Type> resultTypes;
    SmallVector<Location> rootLocs;
    bool anyReduceAll = false;
    for (const Root &root : chunk) {
      resultTypes.push_back(root.value.getType());
      rootLocs.push_back(root.value.getLoc());
      anyReduceAll |= static_cast<bool>(root.getReduceAll());
    }

    builder.setInsertionPoint(yield);
    auto kernel = gk::KernelOp::create(
        builder, builder.getFusedLoc(rootLocs), resultTypes, captures,
        builder.getStringAttr(name), builder.getArrayAttr(access),
        anyReduceAll ? builder.getI64IntegerAttr(kReduceBlockRows)
                     : IntegerAttr(),
        IntegerAttr(), ArrayAttr(), DenseI64ArrayAttr(), IntegerAttr(),
        IntegerAttr());
    Block *kernelBody = builder.createBlock(&kernel.getBody());
    IRMapping mapping;
    for (Value capture : captures)
      mapping.map(capture,
                  kernelBody->addArgument(capture.getType(), capture.getLoc()));
    builder.setInsertionPointToEnd(kernelBody);
    // Clone in program order.
    SmallVector<Operation *> ordered(computed.begin(), computed.end());
    llvm::sort(ordered, [&](Operation *a, Operation *b) {
      return position.lookup(a) < position.lookup(b);
    });
    for (Operation *op : ordered)
      builder.clone(*op, mapping);
    SmallVector<Value> results;
    for (const Root &root : chunk)
      results.push_back(mapping.lookup(root.value));
    gk::YieldOp::create(builder, kernel.getLoc(), results);
    for (auto [root, result] : llvm::zip(chunk, kernel.getResults())) {
      if (root.yieldIndex >= 0)
        yielded.push_back({root.yieldIndex, result});
      else
        replacements.push_back({root.value, result});
    }
  }

  LogicalResult formKernels() {
    for (auto [index, op] : llvm::enumerate(body))
      position[&op] = index;
    auto yield = cast<YieldOp>(body.getTerminator());
    OpBuilder builder(regionOp->getContext());
    SmallVector<Operation *> globalOps;
    for (Operation &op : body.without_terminator())
      if (isGlobalOp(op))
        globalOps.push_back(&op);
    int maxLevel = static_cast<int>(roots.size()) - 1;
    for (Operation *op : globalOps)
      maxLevel = std::max(maxLevel, levels.lookup(op->getResult(0)));

    SmallVector<std::pair<Value, Value>> replacements;
    SmallVector<std::pair<int, Value>> yielded;
    for (int level = 0; level <= maxLevel; ++level) {
      // The globals of the level, then its kernel.
      for (Operation *op : globalOps)
        if (levels.lookup(op->getResult(0)) == level)
          op->moveBefore(yield);
      if (level >= static_cast<int>(roots.size()) || roots[level].empty())
        continue;

      SmallVector<SmallVector<Root>> chunks = chunksOf(level);
      for (auto [chunkIndex, chunk] : llvm::enumerate(chunks)) {
        std::string name = (kernelPrefix + "_kernel" + Twine(level)).str();
        if (chunks.size() > 1)
          name += "_" + std::to_string(chunkIndex);
        formKernel(builder, yield, name, chunk, level, replacements, yielded);
      }
    }

    // Later kernels read the results of earlier ones, and the yield the
    // results computed for it (a value yielded to two targets is two
    // results, one per target; a yielded value that later kernels also read
    // is a third); the field computations are then dead.
    // A global reduction yielded as it is (an adaptive step's error) is
    // the kernel's result in the yield too.
    for (auto [from, to] : replacements) {
      bool global = !isField(from);
      from.replaceUsesWithIf(to, [&](OpOperand &use) {
        return use.getOwner()->getBlock() == &body &&
               (use.getOwner() != yield || global);
      });
    }
    for (auto [index, result] : yielded)
      yield->setOperand(index, result);
    SmallVector<Operation *> dead;
    for (Operation &op : body.without_terminator())
      if (!isa<gk::KernelOp, LoadOp>(op) && !isGlobalOp(op))
        dead.push_back(&op);
    for (Operation *op : llvm::reverse(dead)) {
      if (!op->use_empty())
        return op->emitError("internal error: '")
               << op->getName() << "' is still used after kernel formation";
      op->erase();
    }
    return success();
  }

  Operation *regionOp;
  std::string kernelPrefix;
  Block &body;

  llvm::DenseMap<Value, unsigned> directions;
  llvm::DenseMap<Value, int> levels;
  SmallVector<ReduceAllOp> reduceAlls;
  SmallVector<SmallVector<Root>> roots;
  /// Program order of the region's ops.
  llvm::DenseMap<Operation *, unsigned> position;
  llvm::DenseSet<Value> materialized;
  /// Node values read at other nodes: they must be in memory.
  llvm::DenseSet<Value> mustMaterialize;
  llvm::DenseMap<Value, bool> recomputable;
};

struct FormKernelsPass
    : public grade::impl::FormKernelsBase<FormKernelsPass> {
  void runOnOperation() override {
    for (ModelOp model : getOperation().getOps<ModelOp>()) {
      for (Operation *op : model.getEntryRegions()) {
        std::string prefix =
            (model.getSymName() + "_" + getEntryName(op)).str();
        if (failed(RegionKernels(op, prefix).run()))
          return signalPassFailure();
      }
    }
  }
};

} // namespace
