//===- ParallelToOpenMP.cpp - kernels' loops as OpenMP regions ------------===//
//
// The kernels' `scf.parallel` loops over nodes (or chunks of nodes) become
// OpenMP parallel regions in which every thread runs its own contiguous
// block of the iterations, computed in place from omp_get_thread_num() and
// omp_get_num_threads():
//
//   omp.parallel {
//     %t = omp_get_thread_num(), %n = omp_get_num_threads()
//     scf.for %i = lb + (trip * t / n) * step
//                to min(lb + (trip * (t + 1) / n) * step, ub) step step {
//       [llvm.intr.stacksave]  <body>  [llvm.intr.stackrestore]
//     }
//   }
//
// MLIR's convert-scf-to-openmp makes a worksharing loop instead
// (omp.wsloop: __kmpc_for_static_init and __kmpc_for_static_fini, and a
// barrier before the region's own). Debian's libomp formats two trace
// strings with vsnprintf in every __kmpc_for_static_init: 0.3 us per
// kernel call on one thread, four times per rk4 step, more than the whole
// step of heat on a graph of a few nodes.
//
// A body that allocates scratch arrays frees them after every iteration
// (the stack pointer saved and restored, as the memref.alloca_scope of
// convert-scf-to-openmp would, without the blocks its lowering would leave
// in the scf.for). Moving fixed-size scratch to the region's entry, once
// per thread, was measured and not kept: EGNN 1.17x faster, the general
// sheaf model and ACMP 0.86-0.88x.
//
// The partition is OpenMP's static schedule without a chunk size up to
// which thread takes the remainder; no result depends on it (the kernels'
// global reductions combine per-block partials in block order). Left to
// convert-scf-to-openmp: loops with results, of several dimensions, nested
// in another parallel loop, and the blocks of kernels with global
// reductions (`grade.reduction_blocks`), which LLVM optimised worse in this
// form (MP-PDE 1.1-1.2x slower, its message kernel's IR the same up to
// the loop bounds, unexplained; such a kernel's call is long: the saving
// is nil there).
//
//===----------------------------------------------------------------------===//

#include "dialects/Conversion/Passes.h"

#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

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
  auto function =
      func::FuncOp::create(builder, module.getLoc(), name,
                           builder.getFunctionType({}, builder.getI32Type()));
  function.setPrivate();
  return function;
}

bool isNestedInParallel(Operation *op) {
  for (Operation *parent = op->getParentOp(); parent;
       parent = parent->getParentOp())
    if (isa<scf::ParallelOp, omp::ParallelOp>(parent))
      return true;
  return false;
}

bool isConverted(scf::ParallelOp loop) {
  return loop.getNumLoops() == 1 && loop.getNumResults() == 0 &&
         !loop->hasAttr(kReductionBlocksAttr) &&
         !loop->getParentOfType<gpu::GPUModuleOp>() &&
         !isNestedInParallel(loop);
}

void lowerParallel(scf::ParallelOp loop, func::FuncOp threadNum,
                   func::FuncOp numThreads) {
  OpBuilder builder(loop);
  Location loc = loop.getLoc();
  auto region = omp::ParallelOp::create(builder, loc);
  builder.createBlock(&region.getRegion());

  Type index = builder.getIndexType();
  auto query = [&](func::FuncOp function) -> Value {
    Value value = func::CallOp::create(builder, loc, function).getResult(0);
    return arith::IndexCastOp::create(builder, loc, index, value);
  };
  Value thread = query(threadNum), threads = query(numThreads);
  Value lower = loop.getLowerBound()[0], upper = loop.getUpperBound()[0],
        step = loop.getStep()[0];
  Value zero = arith::ConstantIndexOp::create(builder, loc, 0);
  Value one = arith::ConstantIndexOp::create(builder, loc, 1);
  // trip = ceil((upper - lower) / step), at least 0; thread t runs
  // iterations [trip t / n, trip (t + 1) / n).
  Value span = arith::SubIOp::create(builder, loc, upper, lower);
  Value trip = arith::MaxSIOp::create(
      builder, loc, arith::CeilDivSIOp::create(builder, loc, span, step), zero);
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
  omp::TerminatorOp::create(builder, loc);

  OpBuilder inner = OpBuilder::atBlockBegin(body.getBody());
  bool allocates = false;
  loop.getBody()->walk([&](memref::AllocaOp) { allocates = true; });
  Value stack;
  if (allocates)
    stack = LLVM::StackSaveOp::create(
        inner, loc, LLVM::LLVMPointerType::get(builder.getContext()));
  IRMapping mapping;
  mapping.map(loop.getInductionVars()[0], body.getInductionVar());
  for (Operation &op : loop.getBody()->without_terminator())
    inner.clone(op, mapping);
  if (stack)
    LLVM::StackRestoreOp::create(inner, loc, stack);
  loop.erase();
}

struct ParallelToOpenMP
    : public grade::impl::ParallelToOpenMPBase<ParallelToOpenMP> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<scf::ParallelOp> loops;
    module.walk([&](scf::ParallelOp loop) {
      if (isConverted(loop))
        loops.push_back(loop);
    });
    if (loops.empty())
      return;
    func::FuncOp threadNum = declareThreadQuery(module, "omp_get_thread_num");
    func::FuncOp numThreads = declareThreadQuery(module, "omp_get_num_threads");
    for (scf::ParallelOp loop : loops)
      lowerParallel(loop, threadNum, numThreads);
  }
};

} // namespace
