//===- KernelsToGPU.cpp - the GPU flavour's loops onto GPU threads --------===//
//
// convert-gk-to-scf{cuda=true} writes every entry a second time for the GPU:
// `gradegen_cuda_entry_<kind>` calling `<kernel>_cuda`, each kernel one
// `scf.parallel` over nodes (or blocks of nodes, for global reductions)
// whose body is the same fused loop nest as the CPU's. This pass maps those
// loops onto GPU threads, with a schedule chosen per kernel (attribute
// `grade.schedule` of the gpu.func; the pass's `schedule` option forces
// one):
//
//  - `rows`: one thread per iteration (a node, or a block of nodes);
//  - `lanes(L)`: L consecutive threads per node (L = 32 for 32 or more
//    features, 16 from 16), lane l taking features l, l + L, ...: the rows
//    gathered along the edges are read coalesced, and each lane keeps
//    D / L accumulators instead of D. Chosen where every loop over features
//    is element-wise (no reduction across features, none nested in
//    another) and the thread-private scratch arrays are indexed by the
//    feature only, so that a lane reads back exactly what it wrote; the
//    per-node and per-edge scalars are computed by every lane alike;
//  - `balanced(32)` (Balanced.cpp), for the other kernels whose loops over
//    edges reduce by one associative op: a thread per node of at most 32
//    in-edges, the whole warp for each node above (a power-law graph's
//    hubs), its edges strided over the lanes and the reductions combined
//    by shuffles in a fixed order;
//  - `warp-reduce(32)` (WarpReduce.cpp), for kernels computing global
//    reductions over blocks of nodes: a warp per block, lane l taking the
//    block's nodes l, l + 32, ..., the accumulators combined by shuffles;
//
// and:
//
//  - each kernel function becomes a `gpu.func` of `gpu.module
//    @gradegen_kernels`, computing its iteration from the block and thread
//    ids and guarding it against the loop's bound; the per-iteration
//    scratch arrays stay thread-private;
//  - each call becomes a `gpu.launch_func` over ceil(bound / block-size)
//    blocks, the bound recomputed on the host from the call's operands, in
//    a host function `<kernel>_launch` of its own that the entry calls
//    (the entry stays small whatever the model's size);
//  - the GPU entries' host allocations (the partial results of global
//    reductions, global vectors) become `gpu.alloc host_shared`: the
//    kernels write them and the entry reads them after the launch. They are
//    freed through the runtime (`mgpuMemFree`).
//
// With `emulate`, each kernel is also kept as a host function,
// `<kernel>_emulated(args..., block, blockDim, thread)`, for which
// grade-emit-descriptor writes `gradegen_emulated_<kernel>(params, grid,
// block)`: the launch's parameters as cuLaunchKernel receives them, every
// thread run in turn. A test driver standing in for the GPU runs the
// library's GPU entries with it, on any machine.
//
// The reductions over each node's edges stay in one thread and in CSR
// order (under `balanced` and `warp-reduce`, in a fixed tree over a warp),
// so results do not depend on the launch (no atomics) and equal the CPU's
// up to the contraction of multiply-adds (and, for hubs, reassociation).
//
//===----------------------------------------------------------------------===//

#include "dialects/Conversion/KernelsToGPU/Schedules.h"
#include "dialects/Conversion/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/SetVector.h"

#include <array>

namespace grade {
#define GEN_PASS_DEF_CONVERTKERNELSTOGPU
#define GEN_PASS_DEF_ANNOTATEGPUKERNELS
#include "dialects/Conversion/Passes.h.inc"
} // namespace grade

using namespace mlir;
using namespace grade;
using namespace grade::schedules;

namespace {

constexpr StringLiteral kScheduleAttr = "grade.schedule";

/// The positions, among the kernel's parameters once its memrefs are
/// expanded (allocated and aligned pointer, offset, sizes, strides), of the
/// pointers of the buffers the kernel reads and does not write: distinct
/// allocations (`llvm.noalias` on the CPU flavour's arguments), which the
/// NVPTX backend then reads through the read-only data cache.
SmallVector<int64_t> readOnlyPointerParams(func::FuncOp func) {
  SmallVector<int64_t> positions;
  int64_t position = 0;
  for (BlockArgument arg : func.getArguments()) {
    auto type = dyn_cast<MemRefType>(arg.getType());
    if (!type) {
      ++position;
      continue;
    }
    bool written = llvm::any_of(arg.getUsers(), [](Operation *user) {
      return !isa<memref::LoadOp, memref::DimOp>(user);
    });
    if (!written && func.getArgAttr(arg.getArgNumber(), "llvm.noalias"))
      positions.append({position, position + 1});
    position += 3 + 2 * type.getRank();
  }
  return positions;
}

FailureOr<KernelLoop> matchKernelLoop(func::FuncOp func) {
  KernelLoop result;
  Block &body = func.getBody().front();
  for (Operation &op : body.without_terminator()) {
    if (auto loop = dyn_cast<scf::ParallelOp>(op)) {
      if (result.loop)
        return func.emitOpError("has more than one loop over nodes");
      result.loop = loop;
      continue;
    }
    if (result.loop || !isPure(&op))
      return op.emitOpError("in a kernel, outside its loop over nodes, "
                            "cannot run on the GPU");
    result.prologue.push_back(&op);
  }
  if (!result.loop)
    return func.emitOpError("has no loop over nodes to map onto GPU threads");
  scf::ParallelOp loop = result.loop;
  if (loop.getNumLoops() != 1 || !loop.getInitVals().empty() ||
      getConstantIntValue(loop.getLowerBound()[0]) != 0 ||
      getConstantIntValue(loop.getStep()[0]) != 1)
    return loop.emitOpError("is not a one-dimensional loop from 0 by 1 "
                            "without reductions");
  return result;
}

/// The lanes per node the kernel's loop can be split over (1: none).
int64_t laneCount(func::FuncOp func, KernelLoop match) {
  // Global reductions run over blocks of nodes: one thread per block.
  if (!isa<BlockArgument>(match.loop.getUpperBound()[0]))
    return 1;
  int64_t width = 0;
  bool splittable = true;
  match.loop.walk([&](scf::ForOp loop) {
    std::optional<int64_t> features = featureWidth(loop);
    if (!features)
      return;
    width = std::max(width, *features);
    scf::ForOp outer = loop->getParentOfType<scf::ForOp>();
    for (; outer; outer = outer->getParentOfType<scf::ForOp>())
      if (featureWidth(outer))
        splittable = false; // a contraction: features within features
    if (!loop.getInitArgs().empty())
      splittable = false; // a reduction across features
  });
  // Scratch arrays: read and written at the feature of the innermost loop
  // over features, and nowhere else; a flag any part may raise (the finite
  // check) anywhere.
  match.loop.walk([&](Operation *op) {
    Value memref;
    ValueRange indices;
    if (auto load = dyn_cast<memref::LoadOp>(op)) {
      memref = load.getMemRef();
      indices = load.getIndices();
    } else if (auto store = dyn_cast<memref::StoreOp>(op)) {
      memref = store.getMemRef();
      indices = store.getIndices();
    } else {
      return;
    }
    auto alloca = memref.getDefiningOp<memref::AllocaOp>();
    if (!alloca || alloca->hasAttr(kAnyPartFlagAttr))
      return;
    auto loop = op->getParentOfType<scf::ForOp>();
    while (loop && !featureWidth(loop))
      loop = loop->getParentOfType<scf::ForOp>();
    if (!loop || indices.size() != 1 || indices[0] != loop.getInductionVar())
      splittable = false;
  });
  if (!splittable || width < 16)
    return 1;
  return width >= 32 ? 32 : 16;
}

/// Whether the kernel's node body has a loop over edges (one that is
/// neither over features nor local).
bool hasEdgeLoop(KernelLoop match) {
  WalkResult found = match.loop.walk([](scf::ForOp loop) {
    return featureWidth(loop) || isLocalLoop(loop) ? WalkResult::advance()
                                                   : WalkResult::interrupt();
  });
  return found.wasInterrupted();
}

/// Clones the computation of `value` (pure ops of `func`'s prologue, from
/// its arguments) at `builder`, with the arguments replaced by `args`.
Value cloneFromArguments(OpBuilder &builder, Value value, ValueRange args) {
  IRMapping mapping;
  for (auto [arg, operand] :
       llvm::zip(value.getParentBlock()->getArguments(), args))
    mapping.map(arg, operand);
  llvm::SetVector<Operation *> slice;
  SmallVector<Value> worklist = {value};
  while (!worklist.empty()) {
    Operation *op = worklist.pop_back_val().getDefiningOp();
    if (!op || !slice.insert(op))
      continue;
    llvm::append_range(worklist, op->getOperands());
  }
  SmallVector<Operation *> ordered(slice.begin(), slice.end());
  llvm::sort(ordered,
             [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
  for (Operation *op : ordered)
    builder.clone(*op, mapping);
  return mapping.lookupOrDefault(value);
}

/// How one kernel maps onto threads: lanes over its features (`lanes` > 1),
/// balanced over its nodes' degrees, a warp per block of nodes for global
/// reductions, or a thread per node (or block).
struct Schedule {
  int64_t lanes = 1;
  std::optional<BalancedPlan> balanced;
  std::optional<WarpReducePlan> warpReduce;
};

struct ConvertKernelsToGPUPass
    : public grade::impl::ConvertKernelsToGPUBase<ConvertKernelsToGPUPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> kernels, entries;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func->hasAttr(kGpuKernelAttr))
        kernels.push_back(func);
      if (func->hasAttr(kGpuEntryAttr))
        entries.push_back(func);
    }
    if (kernels.empty() && entries.empty())
      return;
    if (blockSize < 32 || blockSize > 1024 || blockSize % 32 != 0) {
      module.emitError("block-size ")
          << static_cast<int64_t>(blockSize)
          << " is not a multiple of 32 between 32 and 1024";
      return signalPassFailure();
    }
    if (schedule != "auto" && schedule != "rows" && schedule != "lanes" &&
        schedule != "balanced") {
      module.emitError("unknown schedule '")
          << schedule << "' (known: auto, rows, lanes, balanced)";
      return signalPassFailure();
    }
    MLIRContext *context = module.getContext();
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    UnitAttr::get(context));
    OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
    auto gpuModule =
        gpu::GPUModuleOp::create(builder, module.getLoc(), kGpuModuleName);
    SymbolTable gpuSymbols(gpuModule);

    struct Outlined {
      gpu::GPUFuncOp kernel;
      Value bound;
      int64_t lanes;
    };
    llvm::DenseMap<StringAttr, Outlined> outlined;
    for (func::FuncOp func : kernels) {
      FailureOr<KernelLoop> match = matchKernelLoop(func);
      if (failed(match))
        return signalPassFailure();
      Schedule chosen;
      if (schedule == "auto" || schedule == "lanes")
        chosen.lanes = laneCount(func, *match);
      if (schedule == "lanes" && chosen.lanes == 1) {
        func.emitOpError("cannot run lanes over its features (a reduction "
                         "across features, or scratch read at another "
                         "feature); use the rows or auto schedule");
        return signalPassFailure();
      }
      bool global = !isa<BlockArgument>(match->loop.getUpperBound()[0]);
      if (global && schedule != "rows")
        chosen.warpReduce = planWarpReduce(*match);
      if (schedule == "balanced" || (schedule == "auto" && chosen.lanes == 1))
        chosen.balanced = planBalanced(*match);
      // Forced, balanced is an error for a kernel with loops over edges it
      // cannot take; the others run as under rows (or reduce on warps).
      if (schedule == "balanced" && !chosen.balanced && !global &&
          hasEdgeLoop(*match)) {
        func.emitOpError(
            "cannot balance its nodes' edges over a warp (a loop over "
            "edges nested in another loop or a branch, a reduction "
            "other than one add, mul, min, max, and or or of the running "
            "value, scratch shared by a node's edges other than such a "
            "reduction, or a buffer it reads and stores to before its last "
            "loop over edges); use the rows or auto schedule");
        return signalPassFailure();
      }
      // A warp per block of nodes: 32 threads per iteration of the loop.
      int64_t lanes = chosen.warpReduce ? kWarpSize : chosen.lanes;
      gpu::GPUFuncOp kernel = outline(func, *match, chosen);
      if (emulate)
        emulation(func, *match, kernel.getName(), chosen);
      gpuSymbols.insert(kernel);
      outlined[func.getSymNameAttr()] = {kernel, match->loop.getUpperBound()[0],
                                         lanes};
    }

    // Launches in place of the calls.
    WalkResult walk = module.walk([&](func::CallOp call) {
      auto it = outlined.find(call.getCalleeAttr().getAttr());
      if (it == outlined.end())
        return WalkResult::advance();
      auto [kernel, bound, lanes] = it->second;
      OpBuilder b(call);
      Location loc = call.getLoc();
      Value count = cloneFromArguments(b, bound, call.getOperands());
      if (lanes > 1)
        count = arith::MulIOp::create(
            b, loc, count, arith::ConstantIndexOp::create(b, loc, lanes));
      Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
      Value threads = arith::ConstantIndexOp::create(b, loc, blockSize);
      // At least one block: CUDA refuses an empty grid.
      Value blocks = arith::MaxUIOp::create(
          b, loc, arith::CeilDivUIOp::create(b, loc, count, threads), c1);
      gpu::LaunchFuncOp::create(b, loc, kernel, gpu::KernelDim3{blocks, c1, c1},
                                gpu::KernelDim3{threads, c1, c1},
                                /*dynamicSharedMemorySize=*/Value(),
                                call.getOperands());
      call.erase();
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();
    for (func::FuncOp func : kernels) {
      if (!SymbolTable::symbolKnownUseEmpty(func, module)) {
        func.emitOpError("is used other than by calls");
        return signalPassFailure();
      }
      func.erase();
    }
    for (func::FuncOp entry : entries) {
      // Entries are straight-line code: a launch inside a loop or branch
      // would escape the waits placed below.
      WalkResult nested = entry.walk([&](gpu::LaunchFuncOp launch) {
        if (launch->getBlock() != &entry.getBody().front()) {
          launch.emitOpError("in a loop or branch of a GPU entry");
          return WalkResult::interrupt();
        }
        return WalkResult::advance();
      });
      if (nested.wasInterrupted())
        return signalPassFailure();
      sharedAllocations(entry);
      waitBeforeHostAccess(entry);
      outlineLaunches(entry);
    }
  }

  /// Each launch of a GPU entry moves to a host function of its own,
  /// `<kernel>_launch`, never inlined, which recomputes what is cheap (the
  /// slot views, constants, index arithmetic: the entry's pure ops the
  /// launch depends on) and takes the rest (the slot array, N, E, shared
  /// buffers, scalars) as arguments. The entry is then calls and waits:
  /// with the launches inline, their memref operands (five values each)
  /// made one entry function grow with the model, and LLVM's time on it
  /// faster than linearly. The waits are placed before, so every call keeps
  /// its launch's place on the stream.
  void outlineLaunches(func::FuncOp entry) {
    Block &body = entry.getBody().front();
    for (gpu::LaunchFuncOp launch :
         llvm::make_early_inc_range(body.getOps<gpu::LaunchFuncOp>())) {
      BackwardSliceOptions options;
      options.omitBlockArguments = true;
      // (The filter sees the launch itself too, which it must let pass.)
      options.filter = [&](Operation *op) {
        return op == launch ||
               (op->getBlock() == &body && op->getNumRegions() == 0 &&
                isPure(op));
      };
      llvm::SetVector<Operation *> slice;
      (void)getBackwardSlice(launch.getOperation(), &slice, options);
      llvm::SetVector<Value> arguments;
      auto argumentIfOutside = [&](Value value) {
        Operation *producer = value.getDefiningOp();
        if (!producer || !slice.contains(producer))
          arguments.insert(value);
      };
      for (Operation *op : slice)
        llvm::for_each(op->getOperands(), argumentIfOutside);
      llvm::for_each(launch->getOperands(), argumentIfOutside);

      Location loc = launch.getLoc();
      OpBuilder builder(entry);
      auto launcher = func::FuncOp::create(
          builder, loc, (launch.getKernelName().getValue() + "_launch").str(),
          builder.getFunctionType(
              ValueRange(arguments.getArrayRef()).getTypes(), {}));
      launcher.setPrivate();
      launcher->setAttr(
          "passthrough",
          builder.getArrayAttr({builder.getStringAttr("noinline")}));
      Block *launcherBody = launcher.addEntryBlock();
      IRMapping mapping;
      mapping.map(arguments.getArrayRef(), launcherBody->getArguments());
      builder.setInsertionPointToStart(launcherBody);
      for (Operation *op : slice)
        builder.clone(*op, mapping);
      builder.clone(*launch, mapping);
      func::ReturnOp::create(builder, loc);

      builder.setInsertionPoint(launch);
      func::CallOp::create(builder, loc, launcher, arguments.getArrayRef());
      launch.erase();
      for (Operation *op : llvm::reverse(slice))
        if (op->use_empty())
          op->erase();
    }
  }

  /// The kernel as a host function of the thread's ids (trailing index
  /// arguments: block, block size, thread), for emulation.
  void emulation(func::FuncOp func, KernelLoop match, StringRef name,
                 const Schedule &chosen) {
    OpBuilder builder(func);
    Location loc = func.getLoc();
    SmallVector<Type> types(func.getArgumentTypes());
    types.append(3, builder.getIndexType());
    auto host =
        func::FuncOp::create(builder, loc, (name + kEmulatedSuffix).str(),
                             builder.getFunctionType(types, {}));
    host.setPrivate();
    host->setAttr(kEmulatedAttr, builder.getUnitAttr());
    Block *body = host.addEntryBlock();
    builder.setInsertionPointToEnd(body);
    unsigned n = func.getNumArguments();
    emitThread(
        builder, func, match, body->getArguments().take_front(n),
        [&]() -> std::array<Value, 3> {
          return {body->getArgument(n), body->getArgument(n + 1),
                  body->getArgument(n + 2)};
        },
        chosen, /*emulated=*/true);
    func::ReturnOp::create(builder, loc);
    if (chosen.balanced || chosen.warpReduce)
      hoistStaticAllocas(*body);
  }

  /// One thread of the kernel at `builder`: the prologue, then the loop's
  /// body for iteration block * size + thread when it is in range, or with
  /// `lanes`, for iteration (block * size + thread) / lanes, its loops over
  /// features from the lane by `lanes`; or the balanced schedule's thread
  /// (Balanced.cpp; `emulated`: the host twin's).
  void emitThread(OpBuilder &builder, func::FuncOp func, KernelLoop match,
                  ValueRange args,
                  function_ref<std::array<Value, 3>()> threadIds,
                  const Schedule &chosen, bool emulated) {
    int64_t lanes = chosen.lanes;
    Location loc = func.getLoc();
    IRMapping mapping;
    mapping.map(func.getArguments(), args);
    for (Operation *op : match.prologue)
      builder.clone(*op, mapping);
    auto [block, size, thread] = threadIds();
    Value index = arith::AddIOp::create(
        builder, loc, arith::MulIOp::create(builder, loc, block, size), thread);
    if (chosen.balanced || chosen.warpReduce) {
      // Blocks are whole warps (block-size is a multiple of 32).
      Value lane = arith::RemUIOp::create(
          builder, loc, thread,
          arith::ConstantIndexOp::create(builder, loc, kWarpSize));
      if (chosen.balanced)
        emitBalancedThread(builder, match, *chosen.balanced, mapping, index,
                           lane, emulated);
      else
        emitWarpReduceThread(builder, match, *chosen.warpReduce, mapping, index,
                             lane, emulated);
      return;
    }
    Value lane, step;
    if (lanes > 1) {
      step = arith::ConstantIndexOp::create(builder, loc, lanes);
      lane = arith::RemUIOp::create(builder, loc, index, step);
      index = arith::DivUIOp::create(builder, loc, index, step);
    }
    Value inRange =
        arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::ult, index,
                              mapping.lookup(match.loop.getUpperBound()[0]));
    auto guard = scf::IfOp::create(builder, loc, inRange,
                                   /*withElseRegion=*/false);
    OpBuilder::InsertionGuard insertion(builder);
    builder.setInsertionPoint(guard.thenBlock()->getTerminator());
    mapping.map(match.loop.getInductionVars()[0], index);
    for (Operation &op : match.loop.getBody()->without_terminator())
      builder.clone(op, mapping);
    if (lanes > 1)
      splitFeatures(builder, guard.thenBlock(), lane, lanes);
  }

  /// Lane `lane` of `lanes` takes features lane, lane + lanes, ...: each
  /// loop over D features runs over j < ceil(D / lanes) with feature
  /// f = lane + j * lanes (guarded when lanes does not divide D), and each
  /// scratch array keeps the lane's features only, at j: constant trip
  /// counts and small arrays, which LLVM unrolls and keeps in registers.
  void splitFeatures(OpBuilder &builder, Block *body, Value lane,
                     int64_t lanes) {
    Location loc = body->getParentOp()->getLoc();
    SmallVector<scf::ForOp> loops;
    body->walk([&](scf::ForOp loop) {
      if (featureWidth(loop))
        loops.push_back(loop);
    });
    for (scf::ForOp loop : loops) {
      int64_t width = *featureWidth(loop);
      OpBuilder b(loop);
      loop.getUpperBoundMutable().assign(arith::ConstantIndexOp::create(
          b, loc, int64_t(llvm::divideCeil(width, lanes))));
      Block *loopBody = loop.getBody();
      Value j = loop.getInductionVar();
      b.setInsertionPointToStart(loopBody);
      Value feature = arith::AddIOp::create(
          b, loc, lane,
          arith::MulIOp::create(b, loc, j,
                                arith::ConstantIndexOp::create(b, loc, lanes)));
      j.replaceAllUsesExcept(
          feature, feature.getDefiningOp()->getOperand(1).getDefiningOp());
      // Scratch arrays are indexed by j.
      for (OpOperand &use : llvm::make_early_inc_range(feature.getUses())) {
        Operation *user = use.getOwner();
        Value memref;
        if (auto load = dyn_cast<memref::LoadOp>(user))
          memref = load.getMemRef();
        else if (auto store = dyn_cast<memref::StoreOp>(user))
          memref = store.getMemRef();
        if (memref && memref.getDefiningOp<memref::AllocaOp>() &&
            use.get() != memref)
          use.set(j);
      }
      if (width % lanes == 0)
        continue;
      // The last round: only the lanes with a feature left.
      Value inRange =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, feature,
                                arith::ConstantIndexOp::create(b, loc, width));
      auto partial = scf::IfOp::create(b, loc, inRange,
                                       /*withElseRegion=*/false);
      Block *then = partial.thenBlock();
      for (Operation &op : llvm::make_early_inc_range(
               llvm::make_range(std::next(Block::iterator(partial)),
                                Block::iterator(loopBody->getTerminator()))))
        op.moveBefore(then->getTerminator());
    }
    // The lane's share of each scratch array.
    SmallVector<memref::AllocaOp> allocas;
    body->walk([&](memref::AllocaOp alloca) {
      if (!alloca->hasAttr(kAnyPartFlagAttr) &&
          alloca.getType().getRank() == 1 && !alloca.getType().isDynamicDim(0))
        allocas.push_back(alloca);
    });
    for (memref::AllocaOp alloca : allocas) {
      MemRefType type = alloca.getType();
      OpBuilder b(alloca);
      auto shared = memref::AllocaOp::create(
          b, alloca.getLoc(),
          MemRefType::get(
              {int64_t(llvm::divideCeil(type.getDimSize(0), lanes))},
              type.getElementType()));
      alloca.replaceAllUsesWith(shared.getResult());
      alloca.erase();
    }
  }

  /// The kernel `func` as a gpu.func, one thread per iteration of its loop
  /// or `lanes` of them, or balanced.
  gpu::GPUFuncOp outline(func::FuncOp func, KernelLoop match,
                         const Schedule &chosen) {
    int64_t lanes = chosen.lanes;
    StringRef name = func.getSymName();
    name.consume_back(kGpuKernelSuffix);
    OpBuilder builder(func.getContext());
    Location loc = func.getLoc();
    auto kernel =
        gpu::GPUFuncOp::create(builder, loc, name, func.getFunctionType());
    kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                    builder.getUnitAttr());
    SmallVector<int64_t> readOnly = readOnlyPointerParams(func);
    if (!readOnly.empty())
      kernel->setAttr(kReadOnlyParamsAttr,
                      builder.getDenseI64ArrayAttr(readOnly));
    std::string scheduleName =
        lanes > 1           ? "lanes(" + std::to_string(lanes) + ")"
        : chosen.balanced   ? "balanced(" + std::to_string(kWarpDegree) + ")"
        : chosen.warpReduce ? "warp-reduce(" + std::to_string(kWarpSize) + ")"
                            : std::string("rows");
    kernel->setAttr(kScheduleAttr, builder.getStringAttr(scheduleName));
    Block &body = kernel.getBody().front();
    builder.setInsertionPointToEnd(&body);
    emitThread(
        builder, func, match, body.getArguments(),
        [&]() -> std::array<Value, 3> {
          return {gpu::BlockIdOp::create(builder, loc, gpu::Dimension::x),
                  gpu::BlockDimOp::create(builder, loc, gpu::Dimension::x),
                  gpu::ThreadIdOp::create(builder, loc, gpu::Dimension::x)};
        },
        chosen, /*emulated=*/false);
    gpu::ReturnOp::create(builder, loc);
    if (chosen.balanced || chosen.warpReduce)
      hoistStaticAllocas(body);
    return kernel;
  }

  /// Launches are asynchronous and ordered on the device's stream; the host
  /// waits for them (`gradegen_gpu_wait`) only before it touches memory
  /// again (a global read or written, partials combined or freed) and
  /// before the entry returns: an rk4 step's launches run back to back.
  void waitBeforeHostAccess(func::FuncOp entry) {
    ModuleOp module = getOperation();
    MLIRContext *context = module.getContext();
    auto waitType =
        LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(context), {});
    if (!module.lookupSymbol(kGpuWaitFunction)) {
      OpBuilder top = OpBuilder::atBlockBegin(module.getBody());
      LLVM::LLVMFuncOp::create(top, module.getLoc(), kGpuWaitFunction,
                               waitType);
    }
    auto touchesMemory = [](Operation &op) {
      if (isa<gpu::LaunchFuncOp>(op))
        return false;
      WalkResult found = op.walk([](Operation *inner) {
        if (isa<memref::LoadOp, memref::StoreOp, LLVM::CallOp, func::CallOp>(
                inner))
          return WalkResult::interrupt();
        return WalkResult::advance();
      });
      return found.wasInterrupted();
    };
    bool pending = false;
    for (Operation &op : llvm::make_early_inc_range(entry.getBody().front())) {
      if (isa<gpu::LaunchFuncOp>(op)) {
        pending = true;
        continue;
      }
      if (!pending ||
          !(touchesMemory(op) || op.hasTrait<OpTrait::IsTerminator>()))
        continue;
      OpBuilder b(&op);
      LLVM::CallOp::create(b, op.getLoc(), waitType, kGpuWaitFunction,
                           ValueRange{});
      pending = false;
    }
  }

  /// The entry's host allocations as memory the kernels can write.
  void sharedAllocations(func::FuncOp entry) {
    ModuleOp module = getOperation();
    MLIRContext *context = module.getContext();
    auto ptr = LLVM::LLVMPointerType::get(context);
    auto freeType = LLVM::LLVMFunctionType::get(
        LLVM::LLVMVoidType::get(context), {ptr, ptr});
    entry.walk([&](Operation *op) {
      OpBuilder b(op);
      Location loc = op->getLoc();
      if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
        Value shared =
            gpu::AllocOp::create(b, loc, alloc.getType(), /*asyncToken=*/Type(),
                                 /*asyncDependencies=*/ValueRange{},
                                 alloc.getDynamicSizes(),
                                 alloc.getSymbolOperands(), /*hostShared=*/true)
                .getMemref();
        alloc.replaceAllUsesWith(shared);
        alloc.erase();
      } else if (auto dealloc = dyn_cast<memref::DeallocOp>(op)) {
        if (!module.lookupSymbol("mgpuMemFree")) {
          OpBuilder top = OpBuilder::atBlockBegin(module.getBody());
          LLVM::LLVMFuncOp::create(top, loc, "mgpuMemFree", freeType);
        }
        Value address = arith::IndexCastOp::create(
            b, loc, b.getI64Type(),
            memref::ExtractAlignedPointerAsIndexOp::create(
                b, loc, dealloc.getMemref()));
        Value pointer = LLVM::IntToPtrOp::create(b, loc, ptr, address);
        Value stream = LLVM::ZeroOp::create(b, loc, ptr);
        LLVM::CallOp::create(b, loc, freeType, "mgpuMemFree",
                             ValueRange{pointer, stream});
        dealloc.erase();
      }
    });
  }
};

} // namespace

namespace {

struct AnnotateGPUKernelsPass
    : public grade::impl::AnnotateGPUKernelsBase<AnnotateGPUKernelsPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<LLVM::LLVMFuncOp>()) {
      auto positions =
          func->getAttrOfType<DenseI64ArrayAttr>(kReadOnlyParamsAttr);
      if (!positions)
        continue;
      OpBuilder builder(func);
      for (int64_t position : positions.asArrayRef()) {
        if (position >= int64_t(func.getNumArguments()) ||
            !isa<LLVM::LLVMPointerType>(func.getArgumentTypes()[position])) {
          func.emitOpError("parameter ")
              << position << " of '" << kReadOnlyParamsAttr
              << "' is not a pointer";
          return signalPassFailure();
        }
        func.setArgAttr(position, LLVM::LLVMDialect::getNoAliasAttrName(),
                        builder.getUnitAttr());
        func.setArgAttr(position, LLVM::LLVMDialect::getReadonlyAttrName(),
                        builder.getUnitAttr());
      }
      func->removeAttr(kReadOnlyParamsAttr);
    }
  }
};

} // namespace
