//===- KernelEmitter.cpp - one fused CSR loop nest ------------------------===//
//
// Structure of an emitted kernel (N nodes, in-edges of i in
// [row_ptr[i], row_ptr[i+1])):
//
//   scf.parallel %i = 0 to N {
//     <per-node scratch arrays>
//     <node values needed by pass 0>
//     scf.for %e = row_ptr[i] to row_ptr[i+1]   // pass 0: reductions whose
//       ...                                     // inputs depend on no other
//     <finalise pass-0 reductions>              // reduction of this node
//     <node values needed by pass 1>
//     scf.for %e ...                            // pass 1 (e.g. softmax sum)
//     ...
//     <epilogue: node roots, e.g. y + dt*k written to the next stage>
//   }
//
// A phase with reductions over out-edges has a second loop after its pass
// over in-edges:
//
//     scf.for %k = out_offsets[i] to out_offsets[i+1]
//       %e = out_edges[%k]        // CSR index: edge fields and weights
//       %j = out_targets[%k]      // the other end of the edge
//
// In a pass over in-edges the node is the destination (`x[dst]` is the
// node's own value, `x[src]` a read of a buffer at row col_idx[e]); over
// out-edges it is the source (`x[src]` its own value, `x[dst]` a read at
// row %j).
//
// Inside any of these, a value of feature shape [d] is produced by an
// `scf.for %k = 0 to d` loop whose body evaluates the whole element-wise
// expression for feature k.
//
//===----------------------------------------------------------------------===//

#include "dialects/Conversion/GKToSCF/KernelEmitter.h"
#include "dialects/Conversion/Passes.h"

#include "dialects/GK/IR/GKOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/TypeSwitch.h"

#include <functional>
#include <limits>
#include <limits>

using namespace mlir;
using namespace grade;
using namespace grade::detail;

namespace {

bool isScalarValue(Value value) { return getFeatureShape(value.getType()).empty(); }

int64_t numFeatures(Value value) {
  return getNumElements(getFeatureShape(value.getType()));
}

bool isNodeValue(Value value) {
  return getFieldKind(value.getType()) == FieldKind::node;
}

bool isEdgeValue(Value value) {
  return getFieldKind(value.getType()) == FieldKind::edge;
}

class Emitter {
public:
  Emitter(OpBuilder &builder, Location loc, const KernelInputs &inputs)
      : builder(builder), loc(loc), in(inputs) {
    for (const auto &entry : in.externals)
      if (entry.second.memref)
        externalMemrefs.insert(entry.second.memref);
  }

  LogicalResult run() {
    // Classify the roots and find the reductions the kernel computes.
    for (const KernelRoot &root : in.roots) {
      (isEdgeValue(root.value) ? edgeRoots : nodeRoots).push_back(root);
      collectReductions(root.value);
    }
    for (const KernelReduction &reduction : in.reductions) {
      Value input = reduction.op.getInput();
      (isEdgeValue(input) ? edgeReductions : nodeReductions)
          .push_back(reduction);
      collectReductions(input);
    }
    numPasses = static_cast<unsigned>(in.numPasses);
    for (ReduceOp reduce : reductions)
      numPasses = std::max(numPasses, passOf(reduce) + 1);
    for (const KernelRoot &root : edgeRoots)
      numPasses = std::max(numPasses, phase(root.value) + 1);
    for (const KernelReduction &reduction : edgeReductions)
      numPasses = std::max(numPasses, phase(reduction.op.getInput()) + 1);
    // Chunks of nodes (balanced, or blocks of the global reductions) hold
    // the buffers of cached edge values; one node per parallel iteration
    // would allocate per node.
    if (in.cacheEdgeValues && (in.balancedChunks > 0 || !in.reductions.empty()))
      chooseCachedEdgeValues();

    Value c0 = constantIndex(0), c1 = constantIndex(1);
    OpBuilder::InsertionGuard guard(builder);
    if (in.reductions.empty() && in.balancedChunks > 0) {
      // Chunks of consecutive nodes with about equal in-edges plus nodes,
      // in parallel; in a chunk, its nodes in order. A small graph has
      // fewer chunks, one per kMinChunkWork edges plus nodes: a chunk costs
      // two bisections, which on 8 nodes would outweigh the kernel.
      Type i64 = builder.getI64Type();
      Value total = arith::AddIOp::create(
          builder, loc,
          memref::LoadOp::create(builder, loc, in.rowPtr, in.numNodes),
          arith::IndexCastUIOp::create(builder, loc, i64, in.numNodes));
      Value wanted = arith::AddIOp::create(
          builder, loc,
          arith::DivUIOp::create(
              builder, loc, total,
              arith::ConstantIntOp::create(builder, loc, i64, kMinChunkWork)),
          arith::ConstantIntOp::create(builder, loc, i64, 1));
      Value numChunks = arith::MinUIOp::create(
          builder, loc,
          arith::IndexCastUIOp::create(builder, loc, builder.getIndexType(),
                                       wanted),
          constantIndex(in.balancedChunks));
      auto parallel = scf::ParallelOp::create(
          builder, loc, ValueRange{c0}, ValueRange{numChunks}, ValueRange{c1});
      scratchBlock = parallel.getBody();
      builder.setInsertionPoint(scratchBlock->getTerminator());
      Value chunk = parallel.getInductionVars()[0];
      Value first = chunkStart(chunk, numChunks, total);
      Value last = chunkStart(arith::AddIOp::create(builder, loc, chunk, c1),
                              numChunks, total);
      return emitChunk(first, last);
    }
    if (in.reductions.empty()) {
      auto parallel =
          scf::ParallelOp::create(builder, loc, ValueRange{c0},
                                  ValueRange{in.numNodes}, ValueRange{c1});
      body = scratchBlock = parallel.getBody();
      builder.setInsertionPoint(body->getTerminator());
      node = parallel.getInductionVars()[0];
      return emitNode();
    }

    // Blocks of reduceBlockRows nodes, in parallel; in a block, its nodes in
    // order, accumulating the partial results of the global reductions.
    Value blockRows = constantIndex(in.reduceBlockRows);
    Value numBlocks =
        arith::CeilDivUIOp::create(builder, loc, in.numNodes, blockRows);
    auto parallel = scf::ParallelOp::create(
        builder, loc, ValueRange{c0}, ValueRange{numBlocks}, ValueRange{c1});
    parallel->setAttr(kReductionBlocksAttr, builder.getUnitAttr());
    scratchBlock = parallel.getBody();
    builder.setInsertionPoint(scratchBlock->getTerminator());
    Value block = parallel.getInductionVars()[0];
    for (const KernelReduction &reduction : in.reductions) {
      Type type = getElementTypeOf(reduction.op.getType());
      int64_t features = numFeatures(reduction.op.getInput());
      Value acc = allocScratch(type, features);
      Value init = constantFloat(type, reduceAllInit(reduction.op.getKind()));
      forFeatures(features, [&](Value k) {
        memref::StoreOp::create(builder, loc, init, acc, k);
      });
      accumulators[reduction.op] = acc;
    }
    Value first = arith::MulIOp::create(builder, loc, block, blockRows);
    Value last = arith::MinUIOp::create(
        builder, loc, arith::AddIOp::create(builder, loc, first, blockRows),
        in.numNodes);
    if (failed(emitChunk(first, last)))
      return failure();
    for (const KernelReduction &reduction : in.reductions) {
      int64_t features = numFeatures(reduction.op.getInput());
      Value acc = accumulators[reduction.op];
      forFeatures(features, [&](Value k) {
        Value at = elementIndex(block, features, k);
        memref::StoreOp::create(builder, loc,
                                memref::LoadOp::create(builder, loc, acc, k),
                                reduction.partials, at);
      });
    }
    return success();
  }

private:
  /// The nodes [first, last) of a chunk (or block) in order, with the
  /// chunk's buffers of the edge values kept between passes.
  LogicalResult emitChunk(Value first, Value last) {
    allocateEdgeCache(first, last);
    auto nodes =
        scf::ForOp::create(builder, loc, first, last, constantIndex(1));
    {
      OpBuilder::InsertionGuard nodeGuard(builder);
      body = nodes.getBody();
      builder.setInsertionPoint(body->getTerminator());
      node = nodes.getInductionVar();
      if (failed(emitNode()))
        return failure();
    }
    freeEdgeCache();
    return success();
  }

  /// Edges plus nodes per chunk of a balanced kernel, at least.
  static constexpr int64_t kMinChunkWork = 4096;

  /// The first node of chunk `chunk` of `numChunks` (chunk numChunks: N):
  /// the smallest i with row_ptr[i] + i >= total * chunk / numChunks,
  /// total = E + N, by bisection over [0, N] (row_ptr[i] + i increases
  /// strictly). The weight counts a node's in-edges and the node itself,
  /// so that a chunk of edgeless nodes is not unbounded.
  Value chunkStart(Value chunk, Value numChunks, Value total) {
    Type i64 = builder.getI64Type();
    auto toI64 = [&](Value index) {
      return arith::IndexCastUIOp::create(builder, loc, i64, index);
    };
    Value n = toI64(in.numNodes);
    // total * chunk / numChunks without overflow for any graph that fits
    // in memory: total < 2^40, chunk <= 2^20.
    Value target = arith::DivUIOp::create(
        builder, loc,
        arith::MulIOp::create(builder, loc, total, toI64(chunk)),
        toI64(numChunks));
    // Invariant: weight(lo - 1) < target <= weight(hi), weight(-1) = -inf.
    Value zero = arith::ConstantIntOp::create(builder, loc, i64, 0);
    auto loop = scf::WhileOp::create(
        builder, loc, TypeRange{i64, i64}, ValueRange{zero, n},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value more = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult,
                                             args[0], args[1]);
          scf::ConditionOp::create(b, l, more, args);
        },
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value lo = args[0], hi = args[1];
          Value one = arith::ConstantIntOp::create(b, l, i64, 1);
          Value mid = arith::AddIOp::create(
              b, l, lo,
              arith::ShRUIOp::create(b, l,
                                     arith::SubIOp::create(b, l, hi, lo),
                                     one));
          Value midIndex =
              arith::IndexCastUIOp::create(b, l, b.getIndexType(), mid);
          Value weight = arith::AddIOp::create(
              b, l, memref::LoadOp::create(b, l, in.rowPtr, midIndex), mid);
          Value below = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt,
                                              weight, target);
          Value newLo = arith::SelectOp::create(
              b, l, below, arith::AddIOp::create(b, l, mid, one), lo);
          Value newHi = arith::SelectOp::create(b, l, below, hi, mid);
          scf::YieldOp::create(b, l, ValueRange{newLo, newHi});
        });
    return arith::IndexCastUIOp::create(builder, loc, builder.getIndexType(),
                                        loop.getResult(0));
  }

  /// The body for the current node: edge passes, the node's share of the
  /// global reductions, then the node roots (after every read of the values
  /// they may overwrite).
  LogicalResult emitNode() {
    if (anyChecked()) {
      // Whether this node stored a NaN or Inf; promoted to a register.
      if (!finiteFlag) {
        finiteFlag = allocScratch(builder.getI8Type(), 1);
        // Any thread computing part of the node may raise it for its part
        // (a GPU schedule splitting the features over lanes).
        finiteFlag.getDefiningOp()->setAttr(kAnyPartFlagAttr,
                                            builder.getUnitAttr());
      }
      memref::StoreOp::create(
          builder, loc,
          arith::ConstantIntOp::create(builder, loc, builder.getI8Type(), 0),
          finiteFlag, constantIndex(0));
    }
    rowBegin = loadIndex(in.rowPtr, node);
    rowEnd = loadIndex(
        in.rowPtr, arith::AddIOp::create(builder, loc, node, constantIndex(1)));
    if (in.outOffsets) {
      outBegin = loadIndex(in.outOffsets, node);
      outEnd = loadIndex(in.outOffsets, arith::AddIOp::create(
                                            builder, loc, node,
                                            constantIndex(1)));
    }
    for (unsigned pass = 0; pass < numPasses; ++pass) {
      currentPass = pass;
      SmallVector<ReduceOp> inReductions, outReductions;
      for (ReduceOp reduce : reductions)
        if (passOf(reduce) == pass)
          (reduce.getOut() ? outReductions : inReductions).push_back(reduce);
      // Edge roots are stored in the last pass: a root may overwrite an edge
      // array (an edge state updated in place) that an earlier pass reads.
      bool last = pass + 1 == numPasses;
      SmallVector<KernelRoot> passRoots;
      if (last)
        passRoots.assign(edgeRoots.begin(), edgeRoots.end());
      if ((!inReductions.empty() || !passRoots.empty() ||
           (last && !edgeReductions.empty()) || outReductions.empty()) &&
          failed(emitEdgePass(inReductions, passRoots,
                              /*accumulateGlobal=*/last, /*out=*/false)))
        return failure();
      if (!outReductions.empty() &&
          failed(emitEdgePass(outReductions, {}, /*accumulateGlobal=*/false,
                              /*out=*/true)))
        return failure();
    }
    for (const KernelReduction &reduction : nodeReductions) {
      if (failed(prepareNode(reduction.op.getInput(), /*forEdgePass=*/false)))
        return failure();
      accumulate(reduction);
    }
    for (const KernelRoot &root : nodeRoots)
      if (failed(prepareNode(root.value, /*forEdgePass=*/false)))
        return failure();
    storeRoots(nodeRoots, node);
    if (finiteFlag) {
      // One branch per node, almost never taken: raise the entry's flag.
      Value flag =
          memref::LoadOp::create(builder, loc, finiteFlag, constantIndex(0));
      Value raised = arith::CmpIOp::create(
          builder, loc, arith::CmpIPredicate::ne, flag,
          arith::ConstantIntOp::create(builder, loc, builder.getI8Type(), 0));
      auto ifOp = scf::IfOp::create(builder, loc, raised);
      OpBuilder::InsertionGuard guard(builder);
      builder.setInsertionPoint(ifOp.thenBlock()->getTerminator());
      memref::StoreOp::create(
          builder, loc,
          arith::ConstantIntOp::create(builder, loc, builder.getI32Type(), 1),
          in.status, constantIndex(0));
    }
    return success();
  }

  bool anyChecked() const {
    return in.status && llvm::any_of(in.roots, [](const KernelRoot &root) {
             return root.checked;
           });
  }

  /// flag |= (value is NaN or +-Inf): value - value is NaN exactly then.
  void accumulateNonFinite(Value value) {
    Value difference = arith::SubFOp::create(builder, loc, value, value);
    Value bad = arith::CmpFOp::create(builder, loc, arith::CmpFPredicate::UNO,
                                      difference, difference);
    Value flag =
        memref::LoadOp::create(builder, loc, finiteFlag, constantIndex(0));
    Value updated = arith::OrIOp::create(
        builder, loc, flag,
        arith::ExtUIOp::create(builder, loc, builder.getI8Type(), bad));
    memref::StoreOp::create(builder, loc, updated, finiteFlag,
                            constantIndex(0));
  }

  /// acc[k] = acc[k] (+) input[k] at the current node or edge.
  void accumulate(const KernelReduction &reduction) {
    Value input = reduction.op.getInput();
    Value acc = accumulators.lookup(reduction.op);
    ReduceAllKind kind = reduction.op.getKind();
    auto update = [&](Value k, Value at) {
      Value current = memref::LoadOp::create(builder, loc, acc, at);
      memref::StoreOp::create(
          builder, loc,
          emitReduceAllCombine(builder, loc, kind, current, element(input, k)),
          acc, at);
    };
    if (isScalarValue(input))
      update(Value(), constantIndex(0));
    else
      forFeatures(numFeatures(input), [&](Value k) { update(k, k); });
  }

  //===--------------------------------------------------------------------===//
  // Analysis
  //===--------------------------------------------------------------------===//

  bool isExternal(Value value) const { return in.externals.count(value); }

  /// Collects the reductions computed by this kernel, in dependency order.
  void collectReductions(Value value) {
    if (isExternal(value) || !visitedForReductions.insert(value).second)
      return;
    Operation *op = value.getDefiningOp();
    if (!op)
      return;
    for (Value operand : op->getOperands())
      if (!isa<grade::GraphType>(operand.getType()))
        collectReductions(operand);
    if (auto reduce = dyn_cast<ReduceOp>(op))
      reductions.insert(reduce);
  }

  /// The edge pass that accumulates `reduce`: as scheduled by
  /// gk-schedule-edge-passes, or the first after its input is available.
  unsigned passOf(ReduceOp reduce) {
    if (std::optional<int64_t> pass = gk::getEdgePass(reduce))
      return static_cast<unsigned>(*pass);
    return phase(reduce.getInput());
  }

  /// The pass over in-edges after which `value` is available (0: before
  /// the first pass).
  unsigned phase(Value value) {
    if (isExternal(value))
      return 0;
    auto it = phases.find(value);
    if (it != phases.end())
      return it->second;
    unsigned result = 0;
    Operation *op = value.getDefiningOp();
    if (auto gather = dyn_cast_or_null<GatherOp>(op)) {
      // A gather at the other end of an edge reads a buffer (phase 0).
      result = phase(gather.getInput());
    } else if (auto reduce = dyn_cast_or_null<ReduceOp>(op)) {
      result = passOf(reduce) + 1;
    } else if (op) {
      for (Value operand : op->getOperands())
        if (isa<FieldType>(operand.getType()))
          result = std::max(result, phase(operand));
    }
    phases[value] = result;
    return result;
  }

  //===--------------------------------------------------------------------===//
  // Small builders
  //===--------------------------------------------------------------------===//

  Value constantIndex(int64_t value) {
    return arith::ConstantIndexOp::create(builder, loc, value);
  }

  Value constantFloat(Type type, double value) {
    return arith::ConstantOp::create(builder, loc, type,
                                     builder.getFloatAttr(type, value));
  }

  /// memref<?xi64>[index] or memref<?xi32>[index] (node numbers) as an
  /// index; offsets and node numbers are never negative.
  Value loadIndex(Value memref, Value index) {
    Value value = memref::LoadOp::create(builder, loc, memref, index);
    return arith::IndexCastUIOp::create(builder, loc, builder.getIndexType(),
                                        value);
  }

  /// row * features + k (k null: row * features, features == 1).
  Value elementIndex(Value row, int64_t features, Value k) {
    if (features == 1)
      return row;
    Value base = arith::MulIOp::create(builder, loc, row,
                                       constantIndex(features));
    return k ? arith::AddIOp::create(builder, loc, base, k).getResult() : base;
  }

  /// Emits `for k in [0, features)` calling `bodyFn(k)` inside.
  void forFeatures(int64_t features, function_ref<void(Value)> bodyFn) {
    auto loop = scf::ForOp::create(builder, loc, constantIndex(0),
                                   constantIndex(features), constantIndex(1));
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPoint(loop.getBody()->getTerminator());
    bodyFn(loop.getInductionVar());
  }

  /// A per-node scratch array, allocated once at the top of the body of
  /// the parallel loop (and reused by the nodes of a block).
  Value allocScratch(Type elementType, int64_t features) {
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(scratchBlock);
    return memref::AllocaOp::create(
        builder, loc, MemRefType::get({features}, elementType));
  }

  arith::FastMathFlagsAttr contract() {
    return arith::FastMathFlagsAttr::get(builder.getContext(),
                                         arith::FastMathFlags::contract);
  }

  //===--------------------------------------------------------------------===//
  // Element access
  //===--------------------------------------------------------------------===//

  /// Feature `k` of `value` at the current node (and edge, for edge
  /// values); `k` is ignored for scalar values. Everything not inlinable
  /// must have been prepared.
  Value element(Value value, Value k) {
    // Inside a loop over features storing several roots, each element is
    // computed once per iteration.
    if (featureCache && k == cacheIndex) {
      auto cached = featureCache->find(value);
      if (cached != featureCache->end())
        return cached->second;
      Value result = computeElement(value, k);
      (*featureCache)[value] = result;
      return result;
    }
    return computeElement(value, k);
  }

  Value computeElement(Value value, Value k) {
    Value kk = isScalarValue(value) ? Value() : k;
    auto external = in.externals.find(value);
    if (external != in.externals.end()) {
      const ExternalValue &ext = external->second;
      if (ext.scalar)
        return ext.scalar;
      if (!isa<FieldType>(value.getType()))
        return memref::LoadOp::create(builder, loc, ext.memref,
                                      kk ? kk : constantIndex(0));
      Value row = isNodeValue(value) ? node : edge;
      return memref::LoadOp::create(
          builder, loc, ext.memref,
          elementIndex(row, numFeatures(value), kk));
    }
    if (isNodeValue(value)) {
      if (Value scalar = nodeScalars.lookup(value))
        return scalar;
      if (Value scratch = nodeScratch.lookup(value))
        return memref::LoadOp::create(builder, loc, scratch, kk);
    } else if (isEdgeValue(value)) {
      if (Value base = edgeCacheBase.lookup(value))
        return memref::LoadOp::create(
            builder, loc, cachedEdges.find(value)->second.buffer,
            kk ? arith::AddIOp::create(builder, loc, base, kk).getResult()
               : base);
      if (Value scalar = edgeScalars.lookup(value))
        return scalar;
      if (Value scratch = edgeScratch.lookup(value))
        return memref::LoadOp::create(builder, loc, scratch, kk);
    }
    Operation *op = value.getDefiningOp();
    if (auto gather = dyn_cast<GatherOp>(op)) {
      if (isLocal(gather))
        return element(gather.getInput(), k);
      // The other end is read from a buffer written by an earlier kernel.
      const ExternalValue &ext = in.externals.find(gather.getInput())->second;
      return memref::LoadOp::create(
          builder, loc, ext.memref,
          elementIndex(remote, numFeatures(value), kk));
    }
    if (auto compute = dyn_cast<FieldComputeOpInterface>(op)) {
      SmallVector<Value> scalars;
      for (Value operand : op->getOperands())
        scalars.push_back(element(operand, k));
      return compute.emitScalar(builder, loc, scalars);
    }
    if (auto concat = dyn_cast<ConcatOp>(op)) {
      // Feature k comes from the operand whose range holds it: every
      // operand's element is read at k - offset clamped into its range
      // (in bounds whatever k), and a chain of selects keeps the right one.
      Value result;
      int64_t offset = 0;
      for (Value operand : concat.getInputs()) {
        int64_t features = isScalarValue(operand) ? 1 : numFeatures(operand);
        Value local;
        if (!isScalarValue(operand)) {
          local = arith::SubIOp::create(builder, loc, k,
                                        constantIndex(offset));
          local = arith::MaxSIOp::create(builder, loc, local,
                                         constantIndex(0));
          local = arith::MinSIOp::create(builder, loc, local,
                                         constantIndex(features - 1));
        }
        Value part = element(operand, local);
        if (!result) {
          result = part;
        } else {
          Value inRange = arith::CmpIOp::create(
              builder, loc, arith::CmpIPredicate::sge, k,
              constantIndex(offset));
          result = arith::SelectOp::create(builder, loc, inRange, part, result);
        }
        offset += features;
      }
      return result;
    }
    if (auto reindex = dyn_cast<ReindexOp>(op)) {
      SmallVector<Value> symbols;
      for (Value index : reindex.getIndices())
        symbols.push_back(element(index, Value()));
      return element(reindex.getInput(),
                     reindex.emitSourceIndex(builder, loc, k, symbols));
    }
    if (auto nonEmpty = dyn_cast<NonEmptyOp>(op)) {
      Value value = element(nonEmpty.getInput(), k);
      Value empty = arith::CmpIOp::create(
          builder, loc, arith::CmpIPredicate::eq, rowBegin, rowEnd);
      return arith::SelectOp::create(
          builder, loc, empty, constantFloat(value.getType(), 0.0), value);
    }
    llvm_unreachable("checked by prepareEdge/prepareNode");
  }

  /// Stores several roots at `row`. Roots of the same feature count share
  /// one loop, so that common subexpressions are computed once per feature.
  /// When a root's destination is also read by this kernel (a state updated
  /// in place, a temporary reused) and there are several groups, every root
  /// is computed, into scratch for vectors, before anything is stored: a
  /// group may read what another one overwrites, always at this same row.
  void storeRoots(ArrayRef<KernelRoot> roots, Value row) {
    llvm::MapVector<int64_t, SmallVector<KernelRoot>> byFeatures;
    bool overwritesInputs = false;
    for (const KernelRoot &root : roots) {
      byFeatures[numFeatures(root.value)].push_back(root);
      overwritesInputs |= externalMemrefs.contains(root.memref);
    }
    // Computes a group's values at feature k (k null for scalars) with
    // shared subexpressions.
    auto computeGroup = [&](ArrayRef<KernelRoot> group, Value k) {
      llvm::DenseMap<Value, Value> cache;
      featureCache = &cache;
      cacheIndex = k;
      SmallVector<Value> values;
      for (const KernelRoot &root : group)
        values.push_back(element(root.value, k));
      featureCache = nullptr;
      return values;
    };
    auto storeAt = [&](Value value, const KernelRoot &root, int64_t features,
                       Value k) {
      memref::StoreOp::create(builder, loc, value, root.memref,
                              elementIndex(row, features, k));
      if (root.checked && finiteFlag)
        accumulateNonFinite(value);
    };

    // Within a group every value is computed before the group's stores;
    // only a later group can see an earlier group's stores.
    if (!overwritesInputs || byFeatures.size() == 1) {
      for (auto &[features, group] : byFeatures) {
        auto storeGroup = [&, features = features,
                           &group = group](Value k) {
          for (auto [root, value] : llvm::zip(group, computeGroup(group, k)))
            storeAt(value, root, features, k);
        };
        if (isScalarValue(group.front().value))
          storeGroup(Value());
        else
          forFeatures(features, storeGroup);
      }
      return;
    }

    // Compute everything first: scalars into registers, vectors into
    // per-node scratch; then store.
    SmallVector<std::pair<const KernelRoot *, Value>> scalars, vectors;
    for (auto &[features, group] : byFeatures) {
      if (isScalarValue(group.front().value)) {
        for (auto [root, value] : llvm::zip(group, computeGroup(group, {})))
          scalars.push_back({&root, value});
        continue;
      }
      SmallVector<Value> scratch;
      for (const KernelRoot &root : group)
        scratch.push_back(allocScratch(getElementTypeOf(root.value.getType()),
                                       features));
      forFeatures(features, [&, &group = group](Value k) {
        for (auto [value, buffer] : llvm::zip(computeGroup(group, k), scratch))
          memref::StoreOp::create(builder, loc, value, buffer, k);
      });
      for (auto [root, buffer] : llvm::zip(group, scratch))
        vectors.push_back({&root, buffer});
    }
    for (auto [root, value] : scalars)
      storeAt(value, *root, 1, Value());
    for (auto [root, buffer] : vectors) {
      int64_t features = numFeatures(root->value);
      forFeatures(features, [&, root = root, buffer = buffer](Value k) {
        Value value = memref::LoadOp::create(builder, loc, buffer, k);
        storeAt(value, *root, features, k);
      });
    }
  }

  /// Evaluates all features of `value` into a new scratch array.
  Value materialize(Value value) {
    Value scratch = allocScratch(getElementTypeOf(value.getType()),
                                 numFeatures(value));
    forFeatures(numFeatures(value), [&](Value k) {
      memref::StoreOp::create(builder, loc, element(value, k), scratch, k);
    });
    return scratch;
  }

  /// The contraction `op` at the current node or edge: a scalar for an
  /// empty output, else a new scratch array of the output's features.
  ///
  /// One loop per index letter. The innermost loop runs over the letter
  /// that most subscripts (the output's included) end with, so that it
  /// walks their rows contiguously and vectorises. If that letter is summed
  /// over, every output element is a reduction carried in a register, with
  /// reassociation allowed so that the vectoriser splits it into lanes
  /// (`i,i->`, `hd,hd->h`, `ij,j->i`); otherwise the output's row is
  /// accumulated in scratch, the summed letters outside (`i,ij->j`: the
  /// rows of W scaled by x[i]; `i,j->ij` just stores the products). Each
  /// operand's element is read in the loop of its last bound letter.
  Value contraction(ContractOp op) {
    ContractSpec spec = op.getContractSpec();
    Type type = getElementTypeOf(op.getType());
    SmallVector<Value> inputs(op.getInputs());

    // The innermost letter; a summed letter wins ties (no scratch traffic).
    auto score = [&](char letter) {
      int count = !spec.output.empty() && spec.output.back() == letter;
      for (const std::string &subscript : spec.inputs)
        count += !subscript.empty() && subscript.back() == letter;
      return count;
    };
    char inner = 0;
    for (char letter : spec.reduced + spec.output)
      if (!inner || score(letter) > score(inner))
        inner = letter;
    bool reduceInner = spec.reduced.find(inner) != std::string::npos;

    // Loop order. Inner letter summed: the kept letters (`outer`), then the
    // summed ones in a reduction nest (`summed`), the inner one last. Inner
    // letter kept: the other kept letters, the summed ones, the inner one,
    // all in `outer`, accumulating into the output. (No letters at all: a
    // product of scalars.)
    std::string outer, summed;
    for (char letter : spec.output)
      if (letter != inner)
        outer.push_back(letter);
    for (char letter : spec.reduced)
      if (letter != inner)
        (reduceInner ? summed : outer).push_back(letter);
    if (inner)
      (reduceInner ? summed : outer).push_back(inner);

    llvm::DenseMap<char, Value> ivs;
    // The flat index of `subscript` (row-major) under the bound letters.
    auto flatIndex = [&](StringRef subscript) -> Value {
      if (subscript.empty())
        return Value();
      Value index;
      for (char letter : subscript) {
        Value iv = ivs.lookup(letter);
        index = index ? arith::AddIOp::create(
                            builder, loc,
                            arith::MulIOp::create(
                                builder, loc, index,
                                constantIndex(spec.size(letter))),
                            iv)
                      : iv;
      }
      return index;
    };
    // Operand elements, read as soon as their letters are bound.
    SmallVector<Value> elements(inputs.size());
    auto readBound = [&]() {
      for (auto [index, input] : llvm::enumerate(inputs))
        if (!elements[index] &&
            llvm::all_of(spec.inputs[index],
                         [&](char letter) { return ivs.count(letter); }))
          elements[index] = element(input, flatIndex(spec.inputs[index]));
    };
    auto product = [&]() {
      Value result = elements[0];
      for (Value factor : ArrayRef(elements).drop_front())
        result =
            arith::MulFOp::create(builder, loc, result, factor, contract());
      return result;
    };
    auto clearFrom = [&](StringRef letters) {
      for (auto [index, subscript] : llvm::enumerate(spec.inputs))
        if (llvm::any_of(subscript, [&](char letter) {
              return letters.contains(letter);
            }))
          elements[index] = Value();
      for (char letter : letters)
        ivs.erase(letter);
    };

    // The combination of the products (sum, max or min) and its identity.
    // Sums reassociate, so that the vectoriser splits them into lanes; max
    // and min propagate NaN (arith.maximumf, as max_all does).
    ContractKind kind = op.getKind();
    auto combine = [&](Value acc, Value next) -> Value {
      switch (kind) {
      case ContractKind::max:
        return arith::MaximumFOp::create(builder, loc, acc, next);
      case ContractKind::min:
        return arith::MinimumFOp::create(builder, loc, acc, next);
      case ContractKind::sum:
        break;
      }
      auto flags = arith::FastMathFlagsAttr::get(
          builder.getContext(),
          arith::FastMathFlags::contract | arith::FastMathFlags::reassoc);
      return arith::AddFOp::create(builder, loc, acc, next, flags);
    };
    double identity = kind == ContractKind::max
                          ? -std::numeric_limits<double>::infinity()
                      : kind == ContractKind::min
                          ? std::numeric_limits<double>::infinity()
                          : 0.0;

    // The combination over the letters of `summed` of the product, a
    // scalar: nested loops carrying the accumulator.
    auto emitSum = [&]() -> Value {
      std::function<Value(size_t, Value)> level = [&](size_t depth,
                                                      Value acc) -> Value {
        if (depth == summed.size())
          return combine(acc, product());
        char letter = summed[depth];
        auto loop = scf::ForOp::create(
            builder, loc, constantIndex(0), constantIndex(spec.size(letter)),
            constantIndex(1), ValueRange{acc});
        OpBuilder::InsertionGuard guard(builder);
        builder.setInsertionPointToStart(loop.getBody());
        ivs[letter] = loop.getInductionVar();
        readBound();
        Value next = level(depth + 1, loop.getRegionIterArgs()[0]);
        scf::YieldOp::create(builder, loc, next);
        clearFrom(StringRef(summed).drop_front(depth));
        return loop.getResult(0);
      };
      readBound();
      return level(0, constantFloat(type, identity));
    };

    if (spec.output.empty())
      return emitSum();

    Value out = allocScratch(type, numFeatures(op.getResult()));
    if (!reduceInner && !spec.reduced.empty())
      forFeatures(numFeatures(op.getResult()), [&](Value k) {
        memref::StoreOp::create(builder, loc, constantFloat(type, identity),
                                out, k);
      });
    std::function<void(size_t)> level = [&](size_t depth) {
      if (depth == outer.size()) {
        Value at = flatIndex(spec.output);
        if (reduceInner) {
          memref::StoreOp::create(builder, loc, emitSum(), out, at);
        } else if (spec.reduced.empty()) {
          memref::StoreOp::create(builder, loc, product(), out, at);
        } else {
          Value acc = memref::LoadOp::create(builder, loc, out, at);
          Value next = kind == ContractKind::sum
                           ? arith::AddFOp::create(builder, loc, acc,
                                                   product(), contract())
                                 .getResult()
                           : combine(acc, product());
          memref::StoreOp::create(builder, loc, next, out, at);
        }
        return;
      }
      char letter = outer[depth];
      forFeatures(spec.size(letter), [&](Value iv) {
        ivs[letter] = iv;
        readBound();
        level(depth + 1);
        clearFrom(StringRef(outer).drop_front(depth));
      });
    };
    readBound();
    level(0);
    return out;
  }

  /// Whether a contraction reads each element of operand `index` more than
  /// once: its subscript misses some letter of the loop nest.
  static bool rereads(const ContractSpec &spec, unsigned index) {
    for (const std::string &subscript : spec.inputs)
      for (char letter : subscript)
        if (spec.inputs[index].find(letter) == std::string::npos)
          return true;
    return false;
  }

  /// Prepares the operands of a contraction at the current node (or edge,
  /// with `edge`). A computed operand read more than once is evaluated
  /// into scratch first, so that its expression is not recomputed per
  /// read; globals and gathers are plain loads.
  LogicalResult prepareContraction(ContractOp op, bool edge) {
    ContractSpec spec = op.getContractSpec();
    for (auto [index, input] : llvm::enumerate(op.getInputs())) {
      if (!isa<FieldType>(input.getType()))
        continue;
      if (failed(edge ? prepareEdge(input) : prepareNode(input, false)))
        return failure();
      if (isExternal(input) || isPrepared(input) ||
          input.getDefiningOp<GatherOp>() || !rereads(spec, index))
        continue;
      (edge ? edgeScratch : nodeScratch)[input] = materialize(input);
    }
    Value result = contraction(op);
    if (isScalarValue(op.getResult()))
      (edge ? edgeScalars : nodeScalars)[op.getResult()] = result;
    else
      (edge ? edgeScratch : nodeScratch)[op.getResult()] = result;
    return success();
  }

  /// M^p at the current node (or edge) into new scratch: cyclic Jacobi
  /// sweeps diagonalise a copy A of M (A <- J^T A J for the rotation J of
  /// each pair p < q that zeroes A[p][q]; V <- V J accumulates the
  /// eigenvectors), then M^p = V diag(f(A[i][i])) V^T.
  LogicalResult prepareSymPow(SymPowOp op, bool edge) {
    Value input = op.getInput();
    if (failed(edge ? prepareEdge(input) : prepareNode(input, false)))
      return failure();
    Type type = getElementTypeOf(op.getType());
    int64_t d = getFeatureShape(op.getType())[0];
    Value a = allocScratch(type, d * d), v = allocScratch(type, d * d),
          f = allocScratch(type, d), result = allocScratch(type, d * d);
    Value zero = constantFloat(type, 0.0), one = constantFloat(type, 1.0);
    Value dim = constantIndex(d);
    auto at = [&](Value row, Value col) {
      return arith::AddIOp::create(
          builder, loc, arith::MulIOp::create(builder, loc, row, dim), col)
          .getResult();
    };
    auto load = [&](Value buffer, Value row, Value col) {
      return memref::LoadOp::create(builder, loc, buffer, at(row, col))
          .getResult();
    };
    auto store = [&](Value value, Value buffer, Value row, Value col) {
      memref::StoreOp::create(builder, loc, value, buffer, at(row, col));
    };
    auto loop = [&](Value lower, Value upper,
                    function_ref<void(Value)> bodyFn) {
      auto forOp = scf::ForOp::create(builder, loc, lower, upper,
                                      constantIndex(1));
      OpBuilder::InsertionGuard guard(builder);
      builder.setInsertionPoint(forOp.getBody()->getTerminator());
      bodyFn(forOp.getInductionVar());
    };
    auto fadd = [&](Value x, Value y) {
      return arith::AddFOp::create(builder, loc, x, y).getResult();
    };
    auto fsub = [&](Value x, Value y) {
      return arith::SubFOp::create(builder, loc, x, y).getResult();
    };
    auto fmul = [&](Value x, Value y) {
      return arith::MulFOp::create(builder, loc, x, y).getResult();
    };
    auto fdiv = [&](Value x, Value y) {
      return arith::DivFOp::create(builder, loc, x, y).getResult();
    };
    // A = M, V = I.
    forFeatures(d * d, [&](Value k) {
      memref::StoreOp::create(builder, loc, element(input, k), a, k);
      Value row = arith::DivUIOp::create(builder, loc, k, dim);
      Value col = arith::RemUIOp::create(builder, loc, k, dim);
      Value diagonal = arith::CmpIOp::create(
          builder, loc, arith::CmpIPredicate::eq, row, col);
      memref::StoreOp::create(
          builder, loc,
          arith::SelectOp::create(builder, loc, diagonal, one, zero), v, k);
    });
    // Jacobi converges quadratically once the off-diagonal part is small;
    // 10 sweeps reach rounding for the matrices of a few rows this is for.
    constexpr int64_t kSweeps = 10;
    loop(constantIndex(0), constantIndex(kSweeps), [&](Value) {
      loop(constantIndex(0), constantIndex(d - 1), [&](Value p) {
        Value q0 = arith::AddIOp::create(builder, loc, p, constantIndex(1));
        loop(q0, dim, [&](Value q) {
          Value apq = load(a, p, q);
          Value app = load(a, p, p), aqq = load(a, q, q);
          // theta = (aqq - app) / (2 apq), t = sign(theta) / (|theta| +
          // sqrt(theta^2 + 1)); no rotation where apq is 0.
          Value theta = fdiv(fsub(aqq, app), fmul(constantFloat(type, 2.0), apq));
          Value absTheta = math::AbsFOp::create(builder, loc, theta);
          Value root = math::SqrtOp::create(
              builder, loc, fadd(fmul(theta, theta), one));
          Value t = fdiv(one, fadd(absTheta, root));
          Value negative = arith::CmpFOp::create(
              builder, loc, arith::CmpFPredicate::OLT, theta, zero);
          t = arith::SelectOp::create(builder, loc, negative,
                                      arith::NegFOp::create(builder, loc, t),
                                      t);
          Value isZero = arith::CmpFOp::create(
              builder, loc, arith::CmpFPredicate::UEQ, apq, zero);
          Value finite = arith::CmpFOp::create(
              builder, loc, arith::CmpFPredicate::ORD, t, t);
          Value skip = arith::OrIOp::create(
              builder, loc, isZero,
              arith::XOrIOp::create(
                  builder, loc, finite,
                  arith::ConstantIntOp::create(builder, loc, 1, 1)));
          t = arith::SelectOp::create(builder, loc, skip, zero, t);
          Value c = fdiv(one, math::SqrtOp::create(builder, loc,
                                                   fadd(fmul(t, t), one)));
          Value sn = fmul(t, c);
          auto rotate = [&](Value buffer, bool columns) {
            loop(constantIndex(0), dim, [&](Value k) {
              Value xp = columns ? load(buffer, k, p) : load(buffer, p, k);
              Value xq = columns ? load(buffer, k, q) : load(buffer, q, k);
              Value newP = fsub(fmul(c, xp), fmul(sn, xq));
              Value newQ = fadd(fmul(sn, xp), fmul(c, xq));
              if (columns) {
                store(newP, buffer, k, p);
                store(newQ, buffer, k, q);
              } else {
                store(newP, buffer, p, k);
                store(newQ, buffer, q, k);
              }
            });
          };
          rotate(a, /*columns=*/true);
          rotate(a, /*columns=*/false);
          rotate(v, /*columns=*/true);
        });
      });
    });
    // f(l) = max(l, 0)^p; for p < 0, 0 for l <= max(l) d eps.
    double exponent = op.getExponent().convertToDouble();
    Value largest = zero;
    for (int64_t i = 0; i < d; ++i)
      largest = arith::MaximumFOp::create(
          builder, loc, largest, load(a, constantIndex(i), constantIndex(i)));
    double epsilon = type.isF32() ? std::numeric_limits<float>::epsilon()
                                  : std::numeric_limits<double>::epsilon();
    Value cutoff =
        fmul(largest, constantFloat(type, double(d) * epsilon));
    loop(constantIndex(0), dim, [&](Value i) {
      Value lambda = arith::MaximumFOp::create(builder, loc, load(a, i, i),
                                               zero);
      Value power = math::PowFOp::create(builder, loc, lambda,
                                         constantFloat(type, exponent));
      if (exponent < 0) {
        Value small = arith::CmpFOp::create(
            builder, loc, arith::CmpFPredicate::OLE, lambda, cutoff);
        power = arith::SelectOp::create(builder, loc, small, zero, power);
      }
      memref::StoreOp::create(builder, loc, power, f, i);
    });
    // result[r][s] = sum_i V[r][i] f_i V[s][i]
    loop(constantIndex(0), dim, [&](Value r) {
      loop(constantIndex(0), dim, [&](Value col) {
        auto sum = scf::ForOp::create(builder, loc, constantIndex(0), dim,
                                      constantIndex(1), ValueRange{zero});
        {
          OpBuilder::InsertionGuard guard(builder);
          builder.setInsertionPointToStart(sum.getBody());
          Value i = sum.getInductionVar();
          Value term = fmul(fmul(load(v, r, i),
                                 memref::LoadOp::create(builder, loc, f, i)),
                            load(v, col, i));
          scf::YieldOp::create(builder, loc,
                               fadd(sum.getRegionIterArgs()[0], term));
        }
        store(sum.getResult(0), result, r, col);
      });
    });
    (edge ? edgeScratch : nodeScratch)[op.getResult()] = result;
    return success();
  }

  //===--------------------------------------------------------------------===//
  // Preparation: values computed once per node or per edge
  //===--------------------------------------------------------------------===//

  bool isPrepared(Value value) const {
    return nodeScalars.count(value) || nodeScratch.count(value) ||
           edgeScalars.count(value) || edgeScratch.count(value) ||
           edgeCacheBase.count(value);
  }

  /// Makes a node value usable at the current point of the node body. With
  /// `forEdgePass`, non-trivial vectors are evaluated into scratch so that
  /// an edge pass reads them instead of recomputing them per edge.
  LogicalResult prepareNode(Value value, bool forEdgePass) {
    if (isExternal(value) || isPrepared(value))
      return success();
    Operation *op = value.getDefiningOp();
    return TypeSwitch<Operation *, LogicalResult>(op)
        .Case<DegreeOp>([&](DegreeOp) {
          Value count = arith::SubIOp::create(builder, loc, rowEnd, rowBegin);
          Value asInt = arith::IndexCastOp::create(
              builder, loc, builder.getI64Type(), count);
          nodeScalars[value] = arith::SIToFPOp::create(
              builder, loc, getElementTypeOf(value.getType()), asInt);
          return success();
        })
        .Case<ContractOp>([&](ContractOp contract) {
          return prepareContraction(contract, /*edge=*/false);
        })
        .Case<SymPowOp>([&](SymPowOp power) {
          return prepareSymPow(power, /*edge=*/false);
        })
        .Case<FieldComputeOpInterface, ConcatOp, ReindexOp, NonEmptyOp>(
            [&](Operation *) -> LogicalResult {
          for (Value operand : op->getOperands())
            if (isa<FieldType>(operand.getType()) &&
                failed(prepareNode(operand, false)))
              return failure();
          if (isScalarValue(value))
            nodeScalars[value] = element(value, Value());
          else if (forEdgePass)
            nodeScratch[value] = materialize(value);
          return success();
        })
        .Default([&](Operation *other) {
          return other->emitError("cannot compute '")
                 << other->getName() << "' per node here";
        });
  }

  /// Makes an edge value usable at the current point of an edge pass body.
  LogicalResult prepareEdge(Value value) {
    if (isExternal(value) || isPrepared(value) || isNodeValue(value))
      return success();
    Operation *op = value.getDefiningOp();
    return TypeSwitch<Operation *, LogicalResult>(op)
        .Case<GatherOp>([&](GatherOp) { return success(); })
        .Case<WeightOp>([&](WeightOp) {
          edgeScalars[value] =
              memref::LoadOp::create(builder, loc, in.weights, edge);
          return success();
        })
        .Case<ContractOp>([&](ContractOp contract) {
          return prepareContraction(contract, /*edge=*/true);
        })
        .Case<SymPowOp>([&](SymPowOp power) {
          return prepareSymPow(power, /*edge=*/true);
        })
        .Case<FieldComputeOpInterface, ConcatOp, ReindexOp>(
            [&](Operation *) -> LogicalResult {
          for (Value operand : op->getOperands())
            if (isEdgeValue(operand) && failed(prepareEdge(operand)))
              return failure();
          if (isScalarValue(value))
            edgeScalars[value] = element(value, Value());
          return success();
        })
        .Default([&](Operation *other) {
          return other->emitError("cannot compute '")
                 << other->getName() << "' per edge here";
        });
  }

  //===--------------------------------------------------------------------===//
  // Edge values kept between passes
  //===--------------------------------------------------------------------===//
  //
  // A kernel of several passes over a node's in-edges evaluates an edge
  // value in every pass that reads it: GRAND-nl's attention score
  // q_i . k_j (a row of k gathered from node j) in the pass of its maximum,
  // again in the pass of the softmax's sum and again, under its exp, in the
  // pass of the weighted sum. Where such a value is costly (a row read at
  // the other end of the edge, a transcendental function, a contraction)
  // and at most kMaxCachedFeatures wide, the first pass that computes it
  // stores it per edge of the node, in a buffer of the chunk's largest
  // in-degree rows, and the later passes read it there: the rows the node
  // just wrote, still in the L1 cache, instead of a random row each. The
  // values agree to rounding: a stored value is rounded to its type where
  // the recomputed one might have fused into a later multiply-add.

  /// A chunk's buffer holds its largest in-degree times this many elements:
  /// a hub of a million in-edges costs 128 MB of f64 per thread and value.
  static constexpr int64_t kMaxCachedFeatures = 16;

  /// Whether evaluating the edge value `value` reads a row at the other end
  /// of the edge or does more than arithmetic: worth a store and a load.
  bool isCostlyEdgeValue(Value value, llvm::DenseSet<Value> &visited) {
    if (!isEdgeValue(value) || isExternal(value) || cachedEdges.count(value) ||
        !visited.insert(value).second)
      return false;
    Operation *op = value.getDefiningOp();
    if (auto gather = dyn_cast<GatherOp>(op))
      return !isLocal(gather);
    if (isa<ContractOp, SymPowOp>(op))
      return true;
    if (auto unary = dyn_cast<UnaryOp>(op);
        unary && unary.getFn() != UnaryFn::neg && unary.getFn() != UnaryFn::abs)
      return true;
    return llvm::any_of(op->getOperands(), [&](Value operand) {
      return isCostlyEdgeValue(operand, visited);
    });
  }

  /// Walks the edge values pass `pass` evaluates from `value`: one computed
  /// by an earlier pass and costly becomes cached (and is not descended
  /// into); the others are recorded as computed by their first pass.
  void findCachedEdgeValues(Value value, unsigned pass,
                            llvm::DenseMap<Value, unsigned> &computedIn,
                            llvm::DenseSet<Value> &visited) {
    if (!isEdgeValue(value) || isExternal(value) || cachedEdges.count(value) ||
        !visited.insert(value).second)
      return;
    auto [it, inserted] = computedIn.try_emplace(value, pass);
    if (!inserted && it->second < pass &&
        numFeatures(value) <= kMaxCachedFeatures) {
      llvm::DenseSet<Value> costVisited;
      if (isCostlyEdgeValue(value, costVisited)) {
        cachedEdges[value] = {it->second, Value()};
        return;
      }
    }
    Operation *op = value.getDefiningOp();
    if (isa<GatherOp>(op))
      return;
    for (Value operand : op->getOperands())
      findCachedEdgeValues(operand, pass, computedIn, visited);
  }

  /// Chooses cachedEdges: the edge values that in-edge passes after the
  /// first that computes them would evaluate again.
  void chooseCachedEdgeValues() {
    if (numPasses < 2)
      return;
    llvm::DenseMap<Value, unsigned> computedIn;
    for (unsigned pass = 0; pass < numPasses; ++pass) {
      // isLocal reads outPass: the walk is of in-edge passes.
      outPass = false;
      llvm::DenseSet<Value> visited;
      for (ReduceOp reduce : reductions)
        if (!reduce.getOut() && passOf(reduce) == pass)
          findCachedEdgeValues(reduce.getInput(), pass, computedIn, visited);
      if (pass + 1 == numPasses) {
        for (const KernelRoot &root : edgeRoots)
          findCachedEdgeValues(root.value, pass, computedIn, visited);
        for (const KernelReduction &reduction : edgeReductions)
          findCachedEdgeValues(reduction.op.getInput(), pass, computedIn,
                               visited);
      }
    }
  }

  /// Allocates, for a chunk of nodes [first, last), one buffer per cached
  /// edge value of its largest in-degree rows.
  void allocateEdgeCache(Value first, Value last) {
    if (cachedEdges.empty())
      return;
    auto scan = scf::ForOp::create(builder, loc, first, last, constantIndex(1),
                                   ValueRange{constantIndex(0)});
    {
      OpBuilder::InsertionGuard guard(builder);
      builder.setInsertionPointToStart(scan.getBody());
      Value i = scan.getInductionVar();
      Value degree = arith::SubIOp::create(
          builder, loc,
          loadIndex(in.rowPtr,
                    arith::AddIOp::create(builder, loc, i, constantIndex(1))),
          loadIndex(in.rowPtr, i));
      scf::YieldOp::create(
          builder, loc,
          ValueRange{arith::MaxUIOp::create(builder, loc, degree,
                                            scan.getRegionIterArgs()[0])});
    }
    Value maxDegree = scan.getResult(0);
    for (auto &[value, cached] : cachedEdges) {
      Value size = arith::MulIOp::create(
          builder, loc, maxDegree,
          constantIndex(isScalarValue(value) ? 1 : numFeatures(value)));
      cached.buffer = memref::AllocOp::create(
          builder, loc,
          MemRefType::get({ShapedType::kDynamic},
                          getElementTypeOf(value.getType())),
          ValueRange{size});
    }
  }

  void freeEdgeCache() {
    for (auto &[value, cached] : cachedEdges)
      memref::DeallocOp::create(builder, loc, cached.buffer);
  }

  /// At the current edge of an in-edge pass: the cached values earlier
  /// passes stored are read from their buffers; those this pass computes
  /// first are evaluated and stored, then read back from there too.
  LogicalResult bindEdgeCache() {
    if (cachedEdges.empty())
      return success();
    Value local = arith::SubIOp::create(builder, loc, edge, rowBegin);
    auto rowOf = [&](Value value) -> Value {
      int64_t features = isScalarValue(value) ? 1 : numFeatures(value);
      return elementIndex(local, features, Value());
    };
    for (auto &[value, cached] : cachedEdges)
      if (cached.pass < currentPass)
        edgeCacheBase[value] = rowOf(value);
    for (auto &[value, cached] : cachedEdges) {
      if (cached.pass != currentPass)
        continue;
      if (failed(prepareEdge(value)))
        return failure();
      Value base = rowOf(value);
      if (isScalarValue(value)) {
        memref::StoreOp::create(builder, loc, element(value, Value()),
                                cached.buffer, base);
      } else {
        forFeatures(numFeatures(value), [&, buffer = cached.buffer,
                                         value = value](Value k) {
          memref::StoreOp::create(
              builder, loc, element(value, k), buffer,
              arith::AddIOp::create(builder, loc, base, k).getResult());
        });
      }
      edgeCacheBase[value] = base;
    }
    return success();
  }

  /// Whether the current edge pass reads a gathered value at its own node
  /// (destinations over in-edges, sources over out-edges).
  bool isLocal(GatherOp gather) const {
    return (gather.getEnd() == GatherEnd::dst) != outPass;
  }

  /// Prepares, in the node body, every node value an edge pass reads at
  /// its own node.
  LogicalResult prepareNodeOperands(Value value,
                                    llvm::DenseSet<Value> &visited) {
    if (isExternal(value) || !visited.insert(value).second)
      return success();
    Operation *op = value.getDefiningOp();
    if (auto gather = dyn_cast<GatherOp>(op)) {
      if (isLocal(gather))
        return prepareNode(gather.getInput(), /*forEdgePass=*/true);
      return success();
    }
    for (Value operand : op->getOperands())
      if (isEdgeValue(operand) &&
          failed(prepareNodeOperands(operand, visited)))
        return failure();
    return success();
  }

  //===--------------------------------------------------------------------===//
  // Edge passes
  //===--------------------------------------------------------------------===//

  /// Node buffers the pass reads at the other end of its edges, with their
  /// row widths.
  void collectSourceBuffers(Value value, llvm::DenseSet<Value> &visited,
                            llvm::MapVector<Value, int64_t> &buffers) {
    if (isExternal(value) || !visited.insert(value).second)
      return;
    // A value an earlier pass cached is read from its buffer here.
    if (auto cached = cachedEdges.find(value);
        !outPass && cached != cachedEdges.end() &&
        cached->second.pass < currentPass)
      return;
    Operation *op = value.getDefiningOp();
    if (auto gather = dyn_cast<GatherOp>(op)) {
      if (!isLocal(gather))
        buffers[in.externals.find(gather.getInput())->second.memref] =
            numFeatures(gather.getInput());
      return;
    }
    for (Value operand : op->getOperands())
      if (isEdgeValue(operand))
        collectSourceBuffers(operand, visited, buffers);
  }

  /// Rows at the other end are random accesses the hardware cannot predict:
  /// for rows of a cache line or more, prefetch the row of the edge
  /// kPrefetchDistance ahead (the next node's edges once this node's run
  /// out, which is the order a thread visits them in).
  void prefetchSources(ArrayRef<ReduceOp> passReductions,
                       ArrayRef<KernelRoot> passRoots) {
    if (!in.prefetch)
      return;
    llvm::DenseSet<Value> visited;
    llvm::MapVector<Value, int64_t> buffers;
    for (ReduceOp reduce : passReductions)
      collectSourceBuffers(const_cast<ReduceOp &>(reduce).getInput(), visited,
                           buffers);
    for (const KernelRoot &root : passRoots)
      collectSourceBuffers(root.value, visited, buffers);
    constexpr int64_t kPrefetchDistance = 8, kLineBytes = 64,
                      kMaxPrefetchLines = 8;
    Value ahead = nullptr;
    for (auto [memref, features] : buffers) {
      int64_t elementBytes =
          cast<MemRefType>(memref.getType()).getElementTypeBitWidth() / 8;
      int64_t rowBytes = features * elementBytes;
      if (rowBytes < kLineBytes)
        continue;
      if (!ahead) {
        Value numEdges = memref::DimOp::create(builder, loc, in.colIdx, 0);
        Value last = arith::SubIOp::create(builder, loc, numEdges,
                                           constantIndex(1));
        Value next = arith::AddIOp::create(builder, loc, position,
                                           constantIndex(kPrefetchDistance));
        ahead = loadIndex(outPass ? in.outTargets : in.colIdx,
                          arith::MinSIOp::create(builder, loc, next, last));
      }
      // The first lines only: the hardware's stream prefetcher follows a
      // long row once it is being read, and one prefetch per line of a huge
      // row would bloat the loop (and its compilation).
      Value row = elementIndex(ahead, features, constantIndex(0));
      int64_t prefetchBytes = std::min(rowBytes, kMaxPrefetchLines * kLineBytes);
      for (int64_t offset = 0; offset < prefetchBytes; offset += kLineBytes) {
        Value at = arith::AddIOp::create(
            builder, loc, row, constantIndex(offset / elementBytes));
        memref::PrefetchOp::create(builder, loc, memref, ValueRange{at},
                                   /*isWrite=*/false, /*localityHint=*/3,
                                   /*isDataCache=*/true);
      }
    }
  }

  /// One loop over the node's in-edges, or its out-edges with `out`
  /// (reductions only: edge roots and global reductions are in-edge work).
  LogicalResult emitEdgePass(MutableArrayRef<ReduceOp> passReductions,
                             ArrayRef<KernelRoot> passRoots,
                             bool accumulateGlobal, bool out) {
    outPass = out;
    assert((!out || (passRoots.empty() && !accumulateGlobal)) &&
           "out-edge passes compute reductions only");
    Value begin = out ? outBegin : rowBegin, end = out ? outEnd : rowEnd;
    ArrayRef<KernelReduction> passGlobals;
    if (accumulateGlobal)
      passGlobals = edgeReductions;
    llvm::DenseSet<Value> visited;
    for (ReduceOp reduce : passReductions)
      if (failed(prepareNodeOperands(reduce.getInput(), visited)))
        return failure();
    for (const KernelRoot &root : passRoots)
      if (failed(prepareNodeOperands(root.value, visited)))
        return failure();
    for (const KernelReduction &reduction : passGlobals)
      if (failed(prepareNodeOperands(reduction.op.getInput(), visited)))
        return failure();

    // Accumulators: scalars travel as loop-carried values, vectors live in
    // per-node scratch.
    SmallVector<Value> inits;
    SmallVector<int> carriedIndex(passReductions.size(), -1);
    SmallVector<Value> vectorAcc(passReductions.size());
    for (auto [index, reduceRef] : llvm::enumerate(passReductions)) {
      ReduceOp reduce = reduceRef;
      Type type = getElementTypeOf(reduce.getType());
      double init = reduce.getKind() == ReduceKind::max
                        ? -std::numeric_limits<double>::infinity()
                        : 0.0;
      if (isScalarValue(reduce.getResult())) {
        carriedIndex[index] = inits.size();
        inits.push_back(constantFloat(type, init));
        continue;
      }
      Value acc = allocScratch(type, numFeatures(reduce.getResult()));
      forFeatures(numFeatures(reduce.getResult()), [&](Value k) {
        memref::StoreOp::create(builder, loc, constantFloat(type, init), acc,
                                k);
      });
      vectorAcc[index] = acc;
    }

    auto loop =
        scf::ForOp::create(builder, loc, begin, end, constantIndex(1), inits);
    LogicalResult result = success();
    {
      OpBuilder::InsertionGuard guard(builder);
      Block *loopBody = loop.getBody();
      if (loopBody->mightHaveTerminator())
        builder.setInsertionPoint(loopBody->getTerminator());
      else
        builder.setInsertionPointToEnd(loopBody);
      position = loop.getInductionVar();
      if (out) {
        edge = loadIndex(in.outEdges, position);
        remote = loadIndex(in.outTargets, position);
      } else {
        edge = position;
        remote = loadIndex(in.colIdx, edge);
      }
      prefetchSources(passReductions, passRoots);
      edgeScalars.clear();
      edgeScratch.clear();
      edgeCacheBase.clear();
      if (!out && failed(bindEdgeCache()))
        return failure();
      for (ReduceOp reduce : passReductions)
        if (failed(prepareEdge(reduce.getInput())))
          result = failure();
      for (const KernelRoot &root : passRoots)
        if (failed(prepareEdge(root.value)))
          result = failure();
      for (const KernelReduction &reduction : passGlobals)
        if (failed(prepareEdge(reduction.op.getInput())))
          result = failure();
      if (failed(result))
        return failure();

      SmallVector<Value> updated(inits.size());
      auto combine = [&](ReduceOp reduce, Value acc, Value x) -> Value {
        if (reduce.getKind() == ReduceKind::max)
          return arith::MaximumFOp::create(builder, loc, acc, x);
        return arith::AddFOp::create(builder, loc, acc, x, contract());
      };
      // Vector reductions of the same feature count share one loop, so that
      // the subexpressions their inputs have in common (MP-PDE's sigmoid in
      // mean(v * s) and mean(s)) are computed once per feature.
      llvm::MapVector<int64_t, SmallVector<unsigned>> vectorGroups;
      for (auto [index, reduceRef] : llvm::enumerate(passReductions)) {
        ReduceOp reduce = reduceRef;
        if (carriedIndex[index] < 0) {
          vectorGroups[numFeatures(reduce.getResult())].push_back(index);
          continue;
        }
        Value acc = loop.getRegionIterArgs()[carriedIndex[index]];
        updated[carriedIndex[index]] =
            combine(reduce, acc, element(reduce.getInput(), Value()));
      }
      for (auto &[features, group] : vectorGroups) {
        forFeatures(features, [&, &group = group](Value k) {
          llvm::DenseMap<Value, Value> cache;
          featureCache = &cache;
          cacheIndex = k;
          for (unsigned index : group) {
            ReduceOp reduce = passReductions[index];
            Value current =
                memref::LoadOp::create(builder, loc, vectorAcc[index], k);
            memref::StoreOp::create(
                builder, loc,
                combine(reduce, current, element(reduce.getInput(), k)),
                vectorAcc[index], k);
          }
          featureCache = nullptr;
        });
      }
      // Before the edge roots, which may overwrite what they read.
      for (const KernelReduction &reduction : passGlobals)
        accumulate(reduction);
      storeRoots(passRoots, edge);
      if (!inits.empty())
        scf::YieldOp::create(builder, loc, updated);
      edgeScalars.clear();
      edgeScratch.clear();
      edgeCacheBase.clear();
    }

    // Finalise: mean divides by the in-degree (out-degree), and nodes
    // without in-edges (out-edges) get 0 from every reduction.
    Value count = arith::SubIOp::create(builder, loc, end, begin);
    Value empty = arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::eq,
                                        count, constantIndex(0));
    for (auto [index, reduceRef] : llvm::enumerate(passReductions)) {
      ReduceOp reduce = reduceRef;
      Type type = getElementTypeOf(reduce.getType());
      auto finish = [&](Value acc) -> Value {
        if (reduce.getKind() == ReduceKind::sum)
          return acc;
        if (reduce.getKind() == ReduceKind::max)
          return arith::SelectOp::create(builder, loc, empty,
                                         constantFloat(type, 0.0), acc);
        Value asInt = arith::IndexCastOp::create(
            builder, loc, builder.getI64Type(),
            arith::MaxSIOp::create(builder, loc, count, constantIndex(1)));
        Value n = arith::SIToFPOp::create(builder, loc, type, asInt);
        return arith::DivFOp::create(builder, loc, acc, n);
      };
      if (carriedIndex[index] >= 0) {
        nodeScalars[reduce.getResult()] =
            finish(loop.getResult(carriedIndex[index]));
        continue;
      }
      Value acc = vectorAcc[index];
      if (reduce.getKind() != ReduceKind::sum)
        forFeatures(numFeatures(reduce.getResult()), [&](Value k) {
          Value current = memref::LoadOp::create(builder, loc, acc, k);
          memref::StoreOp::create(builder, loc, finish(current), acc, k);
        });
      nodeScratch[reduce.getResult()] = acc;
    }
    return success();
  }

  OpBuilder &builder;
  Location loc;
  const KernelInputs &in;

  SmallVector<KernelRoot> nodeRoots, edgeRoots;
  SmallVector<KernelReduction> nodeReductions, edgeReductions;
  unsigned numPasses = 0;
  /// Per-block accumulators of the global reductions.
  llvm::DenseMap<Operation *, Value> accumulators;

  Block *body = nullptr;         ///< the node body
  Block *scratchBlock = nullptr; ///< the parallel body, where scratch lives
  /// i8[1] scratch: whether the current node stored a NaN or Inf.
  Value finiteFlag;
  Value node, rowBegin, rowEnd; ///< the current node and its in-edge range
  Value outBegin, outEnd;       ///< its out-edge range (out_offsets)
  /// Inside an edge pass: the loop's index, the edge's CSR index and the
  /// node at the other end of the edge.
  Value position, edge, remote;
  bool outPass = false; ///< the current pass runs over out-edges

  /// Memrefs the kernel reads (see storeRoots).
  llvm::DenseSet<Value> externalMemrefs;
  /// Per-iteration cache of element(value, cacheIndex) (see storeRoots).
  llvm::DenseMap<Value, Value> *featureCache = nullptr;
  Value cacheIndex;

  /// Edge values a later pass reads again, kept per edge of the current
  /// node instead of recomputed (chooseCachedEdgeValues): the pass that
  /// computes them and, inside a chunk, the buffer of max-degree rows.
  struct CachedEdgeValue {
    unsigned pass;
    Value buffer;
  };
  llvm::MapVector<Value, CachedEdgeValue> cachedEdges;
  /// Inside an in-edge pass: the index of the current edge's row in the
  /// buffer of each cached value this pass reads or writes.
  llvm::DenseMap<Value, Value> edgeCacheBase;
  unsigned currentPass = 0;

  llvm::SetVector<ReduceOp> reductions;
  llvm::DenseSet<Value> visitedForReductions;
  llvm::DenseMap<Value, unsigned> phases;
  llvm::DenseMap<Value, Value> nodeScalars, nodeScratch, edgeScalars,
      edgeScratch;
};

} // namespace

static arith::FastMathFlagsAttr contractFlag(OpBuilder &builder) {
  return arith::FastMathFlagsAttr::get(builder.getContext(),
                                       arith::FastMathFlags::contract);
}

double grade::detail::reduceAllInit(ReduceAllKind kind) {
  switch (kind) {
  case ReduceAllKind::sum:
  case ReduceAllKind::mean:
    return 0.0;
  case ReduceAllKind::max:
    return -std::numeric_limits<double>::infinity();
  case ReduceAllKind::min:
    return std::numeric_limits<double>::infinity();
  }
  llvm_unreachable("unknown reduction");
}

Value grade::detail::emitReduceAllCombine(OpBuilder &builder, Location loc,
                                          ReduceAllKind kind, Value acc,
                                          Value x) {
  switch (kind) {
  case ReduceAllKind::sum:
  case ReduceAllKind::mean:
    return arith::AddFOp::create(builder, loc, acc, x, contractFlag(builder));
  case ReduceAllKind::max:
    return arith::MaximumFOp::create(builder, loc, acc, x);
  case ReduceAllKind::min:
    return arith::MinimumFOp::create(builder, loc, acc, x);
  }
  llvm_unreachable("unknown reduction");
}

LogicalResult grade::detail::emitKernel(OpBuilder &builder, Location loc,
                                        const KernelInputs &inputs) {
  return Emitter(builder, loc, inputs).run();
}
