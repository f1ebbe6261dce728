//===- AllocateBuffers.cpp - the buffer plan of a model's kernels ---------===//
//
// Walks the kernels of each region in order. A kernel result goes to:
//  - its target's declaration when it is yielded (a let or state in
//    `grade.init`, a state in `grade.step`), unless the step still reads
//    the target's old value afterwards, or at other rows in the same
//    kernel, or the step is adaptive (the controller may reject it, and
//    the start of the step must survive): then to a temporary swapped in
//    by the runtime after the step;
//  - a derivative temporary in `grade.rhs` (the runtime points it at the
//    caller's array);
//  - otherwise, in a step that writes its states in place, a state whose
//    old value no kernel reads any more, if the value is dead before the
//    kernel that writes the state's new value (or read only there, at the
//    rows it writes): rk4's running sum, formed in the third stage from
//    the state and read by the fourth at the rows it writes, goes into the
//    state itself, and the step needs one stage buffer fewer;
//  - otherwise a temporary of its type that is free: unused since its last
//    reader ran, or last read by this very kernel at the rows it writes.
// Temporaries are model declarations (`grade.decl temp`) shared by the
// regions; each region starts with all of them free.
//
//===----------------------------------------------------------------------===//

#include "dialects/GK/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"

#include <limits>

namespace grade::gk {
#define GEN_PASS_DEF_ALLOCATEBUFFERS
#include "dialects/GK/Transforms/Passes.h.inc"
} // namespace grade::gk

using namespace mlir;
using namespace grade;
using namespace grade::gk;

namespace {

/// The temporaries of one model.
class TempPool {
public:
  explicit TempPool(ModelOp model) : model(model) {}

  /// A new temporary declaration `<prefix><n>`.
  FlatSymbolRefAttr create(FieldType type, StringRef prefix) {
    OpBuilder builder = OpBuilder::atBlockEnd(&model.getBody().front());
    std::string name;
    do
      name = (prefix + Twine(counter++)).str();
    while (model.lookupDecl(name));
    DeclOp::create(builder, model.getLoc(), Role::temp, name, type, false,
                   /*of=*/nullptr);
    return FlatSymbolRefAttr::get(model.getContext(), name);
  }

  /// Frees every temporary (a new region starts).
  void reset() {
    for (Temp &temp : temps)
      temp.busyUntil = -1, temp.localOnly = true;
  }

  /// A temporary of `type` for a value written by kernel `kernel` and read
  /// last by kernel `lastRead` (only at the rows it writes if `localOnly`).
  FlatSymbolRefAttr allocate(FieldType type, int kernel, int lastRead,
                             bool localOnly) {
    for (Temp &temp : temps) {
      if (temp.type != type)
        continue;
      if (temp.busyUntil < kernel ||
          (temp.busyUntil == kernel && temp.localOnly)) {
        temp.busyUntil = lastRead;
        temp.localOnly = localOnly;
        return temp.name;
      }
    }
    temps.push_back({create(type, "tmp"), type, lastRead, localOnly});
    return temps.back().name;
  }

private:
  struct Temp {
    FlatSymbolRefAttr name;
    FieldType type;
    int busyUntil;
    bool localOnly;
  };
  ModelOp model;
  SmallVector<Temp> temps;
  unsigned counter = 0;
};

struct Read {
  int kernel;
  bool remote;
};

/// How a region's targets may be written.
enum class TargetPolicy {
  InPlace,       ///< always into the target (init, rhs)
  SwapIfRead,    ///< into a temporary swapped in afterwards if the old
                 ///< value is still read after it would be overwritten
  SwapAlways,    ///< always into a swapped temporary: the values at the
                 ///< start of the step survive it (an adaptive step the
                 ///< controller may reject)
};

/// Assigns the buffers of one region's kernels. `targets` are the buffers
/// of the yielded values, in order; a target written to a temporary
/// instead (see TargetPolicy) is recorded in `swaps`.
LogicalResult allocateRegion(Block &body, ArrayRef<FlatSymbolRefAttr> targets,
                             TargetPolicy policy, TempPool &pool,
                             SmallVectorImpl<Attribute> &swaps) {
  MLIRContext *context = body.getParentOp()->getContext();
  SmallVector<KernelOp> kernels(body.getOps<KernelOp>());
  llvm::DenseMap<Value, SmallVector<Read>> reads;
  for (auto [index, kernel] : llvm::enumerate(kernels))
    for (auto [capture, attr] :
         llvm::zip(kernel.getCaptures(), kernel.getAccess())) {
      Access access = cast<AccessAttr>(attr).getValue();
      if (access == Access::uniform)
        continue;
      reads[capture].push_back(
          {static_cast<int>(index), access != Access::local});
    }
  // Reads of a declaration's value at the start of the region.
  auto declReads = [&](FlatSymbolRefAttr decl) {
    SmallVector<Read> result;
    for (LoadOp load : body.getOps<LoadOp>())
      if (load.getDeclAttr() == decl)
        llvm::append_range(result, reads.lookup(load.getResult()));
    return result;
  };

  auto yield = cast<grade::YieldOp>(body.getTerminator());
  llvm::DenseMap<Value, SmallVector<FlatSymbolRefAttr>> yieldedTo;
  for (auto [value, target] : llvm::zip(yield.getValues(), targets))
    yieldedTo[value].push_back(target);

  // The states a step may borrow for a value until it writes their new
  // value in place: the kernel that does, and until when the borrowed
  // buffer is busy.
  struct Borrowable {
    FlatSymbolRefAttr target;
    FieldType type;
    int finalWriter;
    SmallVector<Read> oldReads;
    int busyUntil = -1;
    bool localOnly = true;
  };
  SmallVector<Borrowable> borrowable;
  if (policy == TargetPolicy::SwapIfRead)
    for (auto [index, kernel] : llvm::enumerate(kernels))
      for (OpResult result : kernel.getResults())
        for (FlatSymbolRefAttr target : yieldedTo.lookup(result))
          if (auto type = dyn_cast<FieldType>(result.getType()))
            borrowable.push_back({target, type, static_cast<int>(index),
                                  declReads(target)});
  // A state for a value kernel `at` writes and kernel `lastRead` reads
  // last (at the rows it writes if `localOnly`), or null.
  auto borrow = [&](FieldType type, int at, int lastRead,
                    bool localOnly) -> FlatSymbolRefAttr {
    for (Borrowable &state : borrowable) {
      if (state.type != type || at >= state.finalWriter)
        continue;
      // Its old value: no longer read, but by this kernel at its own rows.
      if (llvm::any_of(state.oldReads, [&](Read read) {
            return read.kernel > at || (read.kernel == at && read.remote);
          }))
        continue;
      // The new value is written in place: it must not be swapped in.
      if (llvm::any_of(state.oldReads, [&](Read read) {
            return read.kernel > state.finalWriter ||
                   (read.kernel == state.finalWriter && read.remote);
          }))
        continue;
      if (state.busyUntil > at || (state.busyUntil == at && !state.localOnly))
        continue;
      if (lastRead > state.finalWriter ||
          (lastRead == state.finalWriter && !localOnly))
        continue;
      state.busyUntil = lastRead;
      state.localOnly = localOnly;
      return state.target;
    }
    return nullptr;
  };

  pool.reset();
  for (auto [index, kernel] : llvm::enumerate(kernels)) {
    int at = static_cast<int>(index);
    SmallVector<Attribute> buffers;
    for (OpResult result : kernel.getResults()) {
      auto type = dyn_cast<FieldType>(result.getType());
      if (!type) {
        buffers.push_back(UnitAttr::get(context));
        continue;
      }
      SmallVector<FlatSymbolRefAttr> resultTargets = yieldedTo.lookup(result);
      if (resultTargets.size() > 1)
        return kernel.emitOpError("result #")
               << result.getResultNumber() << " is yielded to "
               << resultTargets.size()
               << " targets; kernel formation gives each target a result";
      if (!resultTargets.empty()) {
        FlatSymbolRefAttr target = resultTargets.front();
        bool inPlace =
            policy == TargetPolicy::InPlace ||
            (policy == TargetPolicy::SwapIfRead &&
             llvm::none_of(declReads(target), [&](Read read) {
               return read.kernel > at || (read.kernel == at && read.remote);
             }));
        if (!inPlace) {
          FlatSymbolRefAttr temp = pool.allocate(
              type, at, std::numeric_limits<int>::max(), false);
          swaps.push_back(ArrayAttr::get(context, {target, temp}));
          target = temp;
        }
        buffers.push_back(target);
        continue;
      }
      SmallVector<Read> resultReads = reads.lookup(result);
      int lastRead = at;
      for (Read read : resultReads)
        lastRead = std::max(lastRead, read.kernel);
      bool localOnly = llvm::all_of(resultReads, [&](Read read) {
        return read.kernel != lastRead || !read.remote;
      });
      if (FlatSymbolRefAttr state = borrow(type, at, lastRead, localOnly)) {
        buffers.push_back(state);
        continue;
      }
      buffers.push_back(pool.allocate(type, at, lastRead, localOnly));
    }
    kernel.setBuffersAttr(ArrayAttr::get(context, buffers));
  }
  return success();
}

SmallVector<FlatSymbolRefAttr> getTargets(ArrayAttr targets) {
  SmallVector<FlatSymbolRefAttr> result;
  for (Attribute target : targets)
    result.push_back(cast<FlatSymbolRefAttr>(target));
  return result;
}

LogicalResult allocateModel(ModelOp model) {
  MLIRContext *context = model.getContext();
  TempPool pool(model);
  SmallVector<Attribute> swaps;
  if (InitOp init = model.getInitOp())
    if (failed(allocateRegion(init.getBody().front(),
                              getTargets(init.getTargets()),
                              TargetPolicy::InPlace, pool,
                              swaps)))
      return failure();
  // The derivatives of the rhs entry and the products of the jvp entry go
  // to temporaries the runtime points at the caller's arrays; their
  // attributes list them in the order the states are declared. The parts
  // of a split right-hand side write the same temporaries as the whole
  // (the runtime calls one entry at a time).
  auto allocateOutputs = [&](ArrayRef<Operation *> regions,
                             StringRef prefix) -> FailureOr<ArrayAttr> {
    llvm::StringMap<FlatSymbolRefAttr> output;
    SmallVector<Attribute> outputs;
    for (DeclOp state : model.getStates()) {
      FlatSymbolRefAttr temp =
          pool.create(cast<FieldType>(state.getType()),
                      (prefix + state.getSymName() + "_").str());
      output[state.getSymName()] = temp;
      outputs.push_back(temp);
    }
    for (Operation *region : regions) {
      SmallVector<FlatSymbolRefAttr> targets;
      for (FlatSymbolRefAttr target :
           getTargets(region->getAttrOfType<ArrayAttr>("targets")))
        targets.push_back(output.lookup(target.getValue()));
      if (failed(allocateRegion(region->getRegion(0).front(), targets,
                                TargetPolicy::InPlace, pool, swaps)))
        return failure();
    }
    return ArrayAttr::get(context, outputs);
  };
  // The regions of each output family: the whole's and the parts'.
  auto family = [](auto whole, auto explicitPart, auto implicitPart) {
    SmallVector<Operation *> regions;
    for (Operation *op : {whole.getOperation(), explicitPart.getOperation(),
                          implicitPart.getOperation()})
      if (op)
        regions.push_back(op);
    return regions;
  };
  if (SmallVector<Operation *> regions =
          family(model.getRhsOp(), model.getRhsOp(RhsPart::ExplicitPart),
                 model.getRhsOp(RhsPart::ImplicitPart));
      !regions.empty()) {
    FailureOr<ArrayAttr> outputs = allocateOutputs(regions, "d_");
    if (failed(outputs))
      return failure();
    model.setRhsOutputsAttr(*outputs);
  }
  if (SmallVector<Operation *> regions =
          family(model.getJvpOp(), JvpOp(),
                 model.getJvpOp(RhsPart::ImplicitPart));
      !regions.empty()) {
    FailureOr<ArrayAttr> outputs = allocateOutputs(regions, "jv_");
    if (failed(outputs))
      return failure();
    model.setJvpOutputsAttr(*outputs);
  }
  if (SmallVector<Operation *> regions =
          family(model.getDiagonalOp(), DiagonalOp(),
                 model.getDiagonalOp(RhsPart::ImplicitPart));
      !regions.empty()) {
    FailureOr<ArrayAttr> outputs = allocateOutputs(regions, "dg_");
    if (failed(outputs))
      return failure();
    model.setDiagonalOutputsAttr(*outputs);
  }
  // Readouts are written in place: nothing the readout entry reads is
  // written by it but the readouts themselves; likewise the vector
  // entries' outputs (the runtime never points them at an operand).
  if (ReadoutOp readout = model.getReadoutOp())
    if (failed(allocateRegion(readout.getBody().front(),
                              getTargets(readout.getTargets()),
                              TargetPolicy::InPlace, pool, swaps)))
      return failure();
  for (VectorOp vector : model.getBody().front().getOps<VectorOp>())
    if (failed(allocateRegion(vector.getBody().front(),
                              getTargets(vector.getTargets()),
                              TargetPolicy::InPlace, pool, swaps)))
      return failure();
  if (StepOp step = model.getStepOp()) {
    SolveOp solve = model.getSolveOp();
    TargetPolicy policy = solve && solve.getScheme().isAdaptive()
                              ? TargetPolicy::SwapAlways
                              : TargetPolicy::SwapIfRead;
    if (failed(allocateRegion(step.getBody().front(),
                              getTargets(step.getTargets()), policy, pool,
                              swaps)))
      return failure();
  }
  model.setSwapsAttr(ArrayAttr::get(context, swaps));
  return success();
}

struct AllocateBuffersPass
    : public gk::impl::AllocateBuffersBase<AllocateBuffersPass> {
  void runOnOperation() override {
    for (ModelOp model : getOperation().getOps<ModelOp>())
      if (failed(allocateModel(model)))
        return signalPassFailure();
  }
};

} // namespace
