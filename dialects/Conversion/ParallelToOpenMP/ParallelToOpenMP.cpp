//===- ParallelToOpenMP.cpp - kernels' loops as OpenMP regions ------------===//
//
// The kernels' `scf.parallel` loops (one per kernel, over nodes or blocks
// of nodes) become OpenMP parallel regions in which every thread runs its
// own contiguous block of the iterations, computed in place from
// omp_get_thread_num() and omp_get_num_threads():
//
//   omp.parallel {
//     <the body's fixed-size allocas, once per thread>
//     %t = omp_get_thread_num(), %n = omp_get_num_threads()
//     scf.for %i = lb + (trip * t / n) * step to min(lb + (trip * (t + 1) / n) * step, ub) step step {
//       <body>
//     }
//   }
//
// MLIR's convert-scf-to-openmp makes a worksharing loop instead
// (omp.wsloop: __kmpc_for_static_init and __kmpc_for_static_fini, and a
// barrier before the region's own), and wraps each iteration in
// memref.alloca_scope. Debian's libomp formats two trace strings with
// vsnprintf in every __kmpc_for_static_init: a kernel paid 0.3 us per
// call on one thread, four times a rk4 step, more than the whole step on
// a graph of a few nodes. The alloca scope saved and restored the stack
// pointer around every iteration and left the scratch arrays dynamic
// allocations, which LLVM does not split into registers.
//
// Allocas of a size known only in the body stay there, in a
// memref.alloca_scope per iteration. The partition is OpenMP's static schedule without a chunk size up to
// which thread takes the remainder; no result depends on it (the kernels'
// global reductions combine per-block partials in block order). Loops with
// results, of several dimensions, or nested in another parallel loop are
// left to convert-scf-to-openmp.
//
//===----------------------------------------------------------------------===//

#include "dialects/Conversion/Passes.h"

#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"

#define DEBUG_TYPE "grade-parallel-to-openmp"

namespace grade {
#define GEN_PASS_DEF_PARALLELTOOPENMP
#include "dialects/Conversion/Passes.h.inc"
} // namespace grade

using namespace mlir;
using namespace grade;

namespace {

/// Declares `name` as an external `() -> i32` function unless it is.
func::FuncOp declareThreadQuery(ModuleOp module, StringRef name) {
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  OpBuilder builder = OpBuilder::atBlockBegin(module.getBody());
  auto function = func::FuncOp::create(
      builder, module.getLoc(), name,
      builder.getFunctionType({}, builder.getI32Type()));
  function.setPrivate();
  return function;
}

/// Whether `alloca` can run once per thread instead of once per iteration:
/// a fixed shape and no operands (the kernels' scratch arrays, written
/// before they are read in every iteration).
bool isFixedAlloca(memref::AllocaOp alloca) {
  return alloca->getNumOperands() == 0 && alloca.getType().hasStaticShape();
}

bool isNestedInParallel(Operation *op) {
  for (Operation *parent = op->getParentOp(); parent;
       parent = parent->getParentOp())
    if (isa<scf::ParallelOp, omp::ParallelOp>(parent))
      return true;
  return false;
}

void lowerParallel(scf::ParallelOp loop, func::FuncOp threadNum,
                   func::FuncOp numThreads) {
  OpBuilder builder(loop);
  Location loc = loop.getLoc();
  auto region = omp::ParallelOp::create(builder, loc);
  Block *block = builder.createBlock(&region.getRegion());
  builder.setInsertionPointToStart(block);

  // The scratch arrays first: the region's entry block becomes the entry
  // block of the outlined function, where allocas are static.
  SmallVector<memref::AllocaOp> allocas;
  bool dynamicAllocas = false;
  loop.getBody()->walk([&](memref::AllocaOp alloca) {
    if (isFixedAlloca(alloca))
      allocas.push_back(alloca);
    else
      dynamicAllocas = true;
  });
  for (memref::AllocaOp alloca : allocas)
    alloca->moveBefore(block, block->end());

  Type index = builder.getIndexType();
  auto query = [&](func::FuncOp function) -> Value {
    Value value = func::CallOp::create(builder, loc, function).getResult(0);
    return arith::IndexCastOp::create(builder, loc, index, value);
  };
  Value thread = query(threadNum), threads = query(numThreads);
  Value lower = loop.getLowerBound()[0], upper = loop.getUpperBound()[0],
        step = loop.getStep()[0];
  Value one = arith::ConstantIndexOp::create(builder, loc, 1);
  // trip = ceil((upper - lower) / step), at least 0.
  Value span = arith::SubIOp::create(builder, loc, upper, lower);
  Value trip = arith::CeilDivSIOp::create(builder, loc, span, step);
  trip = arith::MaxSIOp::create(
      builder, loc, trip, arith::ConstantIndexOp::create(builder, loc, 0));
  auto boundary = [&](Value t) -> Value {
    Value first = arith::DivUIOp::create(
        builder, loc, arith::MulIOp::create(builder, loc, trip, t), threads);
    Value at = arith::AddIOp::create(
        builder, loc, lower, arith::MulIOp::create(builder, loc, first, step));
    return arith::MinSIOp::create(builder, loc, at, upper);
  };
  Value begin = boundary(thread);
  Value end = boundary(arith::AddIOp::create(builder, loc, thread, one));
  auto body = scf::ForOp::create(builder, loc, begin, end, step);
  OpBuilder inner = OpBuilder::atBlockBegin(body.getBody());
  // Allocas of a size known only in the body are freed after every
  // iteration, as convert-scf-to-openmp does.
  if (dynamicAllocas) {
    auto scope = memref::AllocaScopeOp::create(inner, loc, TypeRange());
    inner.setInsertionPointToStart(inner.createBlock(&scope.getBodyRegion()));
    memref::AllocaScopeReturnOp::create(inner, loc);
    inner.setInsertionPointToStart(&scope.getBodyRegion().front());
  }
  IRMapping mapping;
  mapping.map(loop.getInductionVars()[0], body.getInductionVar());
  for (Operation &op : loop.getBody()->without_terminator())
    inner.clone(op, mapping);
  omp::TerminatorOp::create(builder, loc);
  loop.erase();
}

struct ParallelToOpenMP
    : public grade::impl::ParallelToOpenMPBase<ParallelToOpenMP> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<scf::ParallelOp> loops;
    module.walk([&](scf::ParallelOp loop) {
      if (loop.getNumLoops() == 1 && loop.getNumResults() == 0 &&
          !loop->getParentOfType<gpu::GPUModuleOp>() &&
          !isNestedInParallel(loop))
        loops.push_back(loop);
    });
    if (loops.empty())
      return;
    func::FuncOp threadNum = declareThreadQuery(module, "omp_get_thread_num");
    func::FuncOp numThreads =
        declareThreadQuery(module, "omp_get_num_threads");
    for (scf::ParallelOp loop : loops)
      lowerParallel(loop, threadNum, numThreads);
  }
};

} // namespace
