//===- ExpandScheme.cpp - Butcher tableaux into a value-level step --------===//
//
// An explicit Runge-Kutta step with tableau (a, b, c):
//
//   X_i = y + dt sum_{j<i} a_ij k_j,   k_i = f(t + c_i dt, X_i),
//   y'  = y + dt sum_i b_i k_i.
//
// The new state is built as a running sum acc_i = acc_{i-1} + (b_i dt) k_i,
// so that every stage's contribution is added as soon as k_i exists: kernel
// formation fuses it into the epilogue of the kernel that computes k_i, and
// no k_i outlives its stage unless the tableau needs it later.
//
//===----------------------------------------------------------------------===//

#include "dialects/Grade/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

#define DEBUG_TYPE "grade-expand-scheme"

namespace grade {
#define GEN_PASS_DEF_EXPANDSCHEME
#include "dialects/Grade/Transforms/Passes.h.inc"
} // namespace grade

using namespace mlir;
using namespace grade;

namespace {

class StepBuilder {
public:
  StepBuilder(ModelOp model, RhsOp rhs, SolveOp solve)
      : model(model), rhs(rhs), solve(solve), builder(rhs) {}

  void build() {
    Location loc = solve.getLoc();
    builder.setInsertionPointAfter(rhs);
    auto step = StepOp::create(builder, loc, rhs.getTargets());
    Block *block = &step.getBody().emplaceBlock();
    graph = block->addArgument(grade::GraphType::get(builder.getContext()),
                               loc);
    time = block->addArgument(builder.getF64Type(), loc);
    dt = block->addArgument(builder.getF64Type(), loc);
    builder.setInsertionPointToEnd(block);

    // The states at the start of the step.
    SmallVector<Value> start;
    for (Attribute target : rhs.getTargets()) {
      DeclOp decl =
          model.lookupDecl(cast<FlatSymbolRefAttr>(target).getValue());
      start.push_back(LoadOp::create(builder, loc, decl.getType(),
                                     decl.getSymName()));
    }

    TableauAttr tableau = solve.getScheme();
    SmallVector<SmallVector<Value>> stageSlopes;
    SmallVector<Value> acc = start;
    for (unsigned i = 0; i < tableau.getNumStages(); ++i) {
      // X_i = y + sum_j (a_ij dt) k_j.
      SmallVector<Value> stageState = start;
      for (unsigned j = 0; j < i; ++j) {
        double aij = tableau.getA(i, j);
        if (aij == 0.0)
          continue;
        for (size_t s = 0; s < start.size(); ++s)
          stageState[s] = axpy(loc, aij, stageSlopes[j][s], stageState[s]);
      }
      Value stageTime = time;
      double ci = tableau.getC()[i];
      if (ci != 0.0)
        stageTime = arith::AddFOp::create(
            builder, loc, time, scaledDt(loc, ci, builder.getF64Type()));
      SmallVector<Value> slopes = inlineRhs(stageTime, stageState);
      double bi = tableau.getB()[i];
      if (bi != 0.0)
        for (size_t s = 0; s < start.size(); ++s)
          acc[s] = axpy(loc, bi, slopes[s], acc[s]);
      stageSlopes.push_back(std::move(slopes));
    }
    YieldOp::create(builder, loc, acc);
  }

private:
  /// (factor * dt) as a scalar of `type` (f32 states scale by an f32).
  Value scaledDt(Location loc, double factor, Type type) {
    Value c = arith::ConstantOp::create(builder, loc, builder.getF64Type(),
                                        builder.getF64FloatAttr(factor));
    Value scaled = arith::MulFOp::create(builder, loc, c, dt);
    if (type.isF64())
      return scaled;
    return arith::TruncFOp::create(builder, loc, type, scaled);
  }

  /// y + (factor * dt) * x for a field x.
  Value axpy(Location loc, double factor, Value x, Value y) {
    Value coefficient = scaledDt(loc, factor, getElementTypeOf(x.getType()));
    Value scaled = BinaryOp::create(builder, loc, BinaryFn::mul, coefficient, x);
    return BinaryOp::create(builder, loc, BinaryFn::add, y, scaled);
  }

  /// Clones the rhs body with the states read as `states` and time `t`;
  /// returns the derivatives.
  SmallVector<Value> inlineRhs(Value t, ArrayRef<Value> states) {
    Block &body = rhs.getBody().front();
    IRMapping mapping;
    mapping.map(body.getArgument(0), graph);
    mapping.map(body.getArgument(1), t);
    llvm::StringMap<Value> stateValues;
    for (auto [target, value] : llvm::zip(rhs.getTargets(), states))
      stateValues[cast<FlatSymbolRefAttr>(target).getValue()] = value;
    for (Operation &op : body.without_terminator()) {
      if (auto load = dyn_cast<LoadOp>(op)) {
        auto it = stateValues.find(load.getDecl());
        if (it != stateValues.end()) {
          mapping.map(load.getResult(), it->second);
          continue;
        }
      }
      builder.clone(op, mapping);
    }
    SmallVector<Value> slopes;
    for (Value value : rhs.getYield().getValues())
      slopes.push_back(mapping.lookup(value));
    return slopes;
  }

  ModelOp model;
  RhsOp rhs;
  SolveOp solve;
  OpBuilder builder;
  Value graph, time, dt;
};

struct ExpandSchemePass
    : public grade::impl::ExpandSchemeBase<ExpandSchemePass> {
  void runOnOperation() override {
    for (ModelOp model : getOperation().getOps<ModelOp>()) {
      RhsOp rhs = model.getRhsOp();
      SolveOp solve = model.getSolveOp();
      if (!rhs || !solve || model.getStepOp())
        continue;
      StepBuilder(model, rhs, solve).build();
    }
  }
};

} // namespace
