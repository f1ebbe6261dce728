//===- KernelEmitter.h - one fused CSR loop nest ----------------*- C++ -*-===//
//
// Emits the body of one kernel: for every node i (scf.parallel), the node's
// in-edges (and out-edges, for reductions over out-edges) are traversed in
// as many passes ("phases") as the reductions of the kernel depend on each
// other, and the kernel's roots are stored either
// per edge inside a pass or per node in the epilogue. A kernel with global
// reductions runs in parallel over fixed blocks of nodes instead, each
// block accumulating its partial results over its nodes in order.
//
// Values are produced on demand from the grade ops that define them:
//  - element-wise operations are inlined into the loop over features of the
//    value that consumes them (one loop, no intermediate arrays);
//  - values that need a loop of their own (feature dot products, parameter
//    products, in-edge reductions) or that are scalars per node or edge are
//    computed once per node or per edge, before the loops that read them,
//    and kept in SSA registers or in a small per-node scratch array.
//
//===----------------------------------------------------------------------===//

#ifndef GRADE_DIALECTS_CONVERSION_GKTOSCF_KERNELEMITTER_H
#define GRADE_DIALECTS_CONVERSION_GKTOSCF_KERNELEMITTER_H

#include "dialects/Grade/IR/GradeOps.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/MapVector.h"

namespace grade::detail {

/// How a kernel reaches a value that it does not compute.
struct ExternalValue {
  /// A flat memref: a field buffer (row-major, rows = nodes or edges) or a
  /// global tensor. Null for a global scalar.
  mlir::Value memref;
  /// A global scalar.
  mlir::Value scalar;
};

/// A value the kernel stores, and where.
struct KernelRoot {
  mlir::Value value;
  mlir::Value memref; ///< destination buffer (flat)
  /// Raise `KernelInputs::status` when an element stored is NaN or Inf.
  bool checked = false;
};

/// A global reduction the kernel computes: each block of
/// `KernelInputs::reduceBlockRows` nodes (or their in-edges, for an edge
/// field) writes its partial result to `partials[block * features + k]`.
struct KernelReduction {
  mutable ReduceAllOp op; /// mutable: op accessors are not const
  mlir::Value partials;
};

/// Inputs of the emitter for one kernel.
struct KernelInputs {
  /// The in-edge index: offsets (memref<?xi64>), sources (memref<?xi32> or
  /// memref<?xi64>: the graph's node index type), weights or null.
  mlir::Value rowPtr, colIdx, weights;
  /// The transposed index (offsets, targets, edges: like rowPtr, colIdx,
  /// rowPtr), for kernels with reductions over out-edges; null otherwise.
  mlir::Value outOffsets, outTargets, outEdges;
  mlir::Value numNodes;                ///< index
  /// Values read from memory or passed in: loads, node values computed by
  /// earlier kernels, globals.
  llvm::DenseMap<mlir::Value, ExternalValue> externals;
  /// Values computed by earlier kernels but recomputed here (edge values);
  /// nothing to record: they are simply not in `externals`.
  llvm::SmallVector<KernelRoot> roots;
  /// Global reductions; with any, the kernel runs over blocks of nodes.
  llvm::SmallVector<KernelReduction> reductions;
  int64_t reduceBlockRows = 0;
  /// Without global reductions: the number of chunks of about equal in-edges
  /// plus nodes the nodes are split into (0: every node in parallel).
  int64_t balancedChunks = 0;
  /// The passes over each node's edges (gk-schedule-edge-passes); every
  /// `grade.reduce` of the kernel carries its pass (`gk.pass`).
  int64_t numPasses = 0;
  /// Prefetch rows read at the other end of the edges.
  bool prefetch = true;
  /// Keep costly edge values a later pass reads again in per-chunk buffers
  /// (the CPU's chunked iteration spaces) instead of recomputing them.
  bool cacheEdgeValues = false;
  /// The entry's status flags (memref<?xi32>, one element) for checked
  /// roots: element 0 is set to 1 by a node that stored a NaN or Inf.
  mlir::Value status;
};


/// The identity of a global reduction (0, or -inf for max, +inf for min)
/// and one step of it, `acc (+) x` (NaN propagates).
double reduceAllInit(ReduceAllKind kind);
mlir::Value emitReduceAllCombine(mlir::OpBuilder &builder, mlir::Location loc,
                                 ReduceAllKind kind, mlir::Value acc,
                                 mlir::Value x);

/// Emits `scf.parallel` over nodes computing `inputs.roots` at the current
/// insertion point of `builder`. Returns failure (after emitting an error at
/// the offending op) for constructs the code generator cannot handle.
mlir::LogicalResult emitKernel(mlir::OpBuilder &builder, mlir::Location loc,
                               const KernelInputs &inputs);

} // namespace grade::detail

#endif // GRADE_DIALECTS_CONVERSION_GKTOSCF_KERNELEMITTER_H
