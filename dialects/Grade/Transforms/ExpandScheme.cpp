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
// Where the next stage's state is y plus a multiple of k_i alone
// (X_{i+1} = y + (a_{i+1,i} dt) k_i, as in rk4, heun and every stage of
// a "chain" tableau), the running sum need not be stored at all: k_i's
// contribution is beta_i (X_{i+1} - y) with beta_i = b_i / a_{i+1,i}, and
// X_{i+1} is stored anyway, since the next stage gathers it. The step
// defers such terms while the only one pending is the current stage's own
// state (whose rows its kernel reads anyway), and adds them up where it
// must read another: rk4 then writes no running sum in its first two
// stages and reads none in its second and third,
//
//   acc_3 = y + 1/3 (X_2 - y) + 2/3 (X_3 - y) + (dt/3) k_3,
//
// 13 passes over node arrays per step instead of 16, and at most three
// arrays live in any stage instead of four. (X - y is formed, not X alone,
// so that a stationary state stays exactly where it is.)
//
// An adaptive tableau (embedded weights bhat) also yields, per state x:
//  - its error sum  sum over rows and features of (E / sc)^2, with
//    E = dt sum_i (b_i - bhat_i) k_i and sc = atol + rtol max(|y|, |y'|)
//    (SciPy's and torchdiffeq's scaling), to `error of @x`: a global
//    reduction computed by the kernel of the last stage it needs, so the
//    estimate costs no pass of its own; the runtime's controller takes
//    sqrt(sum of the sums / number of components);
//  - for an FSAL tableau, the last stage's slope to `slope of @x`, which
//    the next step reads as its first stage instead of evaluating it;
//  - with dense-output weights `mid`, y + dt sum_i mid_i k_i to
//    `midpoint of @x`, from which (with both ends and their slopes) the
//    runtime interpolates at requested output times.
// The tolerances are globals the runtime sets (`rtol of @x`, `atol of @x`).
//
//===----------------------------------------------------------------------===//

#include "dialects/Grade/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/DenseSet.h"

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

  /// Builds the step; fails (after reporting why) only for a partitioned
  /// scheme on a model without positions and velocities.
  LogicalResult build() {
    if (solve.getScheme().isPartitioned())
      return buildPartitioned();
    buildRungeKutta();
    return success();
  }

private:
  void buildRungeKutta() {
    Location loc = solve.getLoc();
    TableauAttr tableau = solve.getScheme();
    bool adaptive = tableau.isAdaptive();
    bool fsal = adaptive && tableau.isFSAL();
    bool dense = adaptive && !tableau.getMid().empty();

    // The buffers an adaptive step shares with the runtime.
    SmallVector<DeclOp> states;
    for (Attribute target : rhs.getTargets())
      states.push_back(
          model.lookupDecl(cast<FlatSymbolRefAttr>(target).getValue()));
    SmallVector<Attribute> targets(rhs.getTargets().begin(),
                                   rhs.getTargets().end());
    if (adaptive) {
      Type f64 = builder.getF64Type();
      for (DeclOp state : states) {
        Type type = state.getType();
        Aux aux;
        if (fsal)
          aux.slope = declare(Role::slope, state, "slope", type);
        if (dense)
          aux.midpoint = declare(Role::midpoint, state, "mid", type);
        aux.error = declare(Role::error, state, "error", f64);
        aux.rtol = declare(Role::rtol, state, "rtol", f64);
        aux.atol = declare(Role::atol, state, "atol", f64);
        auxes.push_back(aux);
      }
      for (const Aux &aux : auxes)
        if (aux.slope)
          targets.push_back(aux.slope);
      for (const Aux &aux : auxes)
        if (aux.midpoint)
          targets.push_back(aux.midpoint);
      for (const Aux &aux : auxes)
        targets.push_back(aux.error);
    }

    SmallVector<Value> start =
        createStep(loc, builder.getArrayAttr(targets), states);

    SmallVector<SmallVector<Value>> stageSlopes;
    SmallVector<SmallVector<Value>> stageStates;
    SmallVector<Value> acc = start;
    // Terms beta (X_stage - y) of the running sum not yet added to acc.
    SmallVector<Deferred> deferred;
    for (unsigned i = 0; i < tableau.getNumStages(); ++i) {
      // X_i = y + sum_j (a_ij dt) k_j; the last stage of an FSAL scheme is
      // at the new state itself (the same values, bit for bit, that the
      // next step starts from).
      SmallVector<Value> stageState = start;
      if (fsal && i + 1 == tableau.getNumStages())
        stageState = acc;
      for (unsigned j = 0; j < i && !(fsal && i + 1 == tableau.getNumStages());
           ++j) {
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
      SmallVector<Value> slopes;
      if (i == 0 && fsal) {
        // The previous step's last stage, kept by the runtime.
        for (auto [state, aux] : llvm::zip(states, auxes))
          slopes.push_back(LoadOp::create(builder, loc, state.getType(),
                                          aux.slope.getValue()));
      } else {
        slopes = inlineRhs(stageTime, stageState);
      }
      stageStates.push_back(stageState);
      double bi = tableau.getB()[i];
      if (bi != 0.0) {
        if (!adaptive && isRecoverable(tableau, i) &&
            llvm::all_of(deferred,
                         [&](const Deferred &d) { return d.stage == i; })) {
          deferred.push_back({bi / tableau.getA(i + 1, i), i + 1});
        } else {
          addDeferred(loc, deferred, stageStates, start, acc);
          for (size_t s = 0; s < start.size(); ++s)
            acc[s] = axpy(loc, bi, slopes[s], acc[s]);
        }
      }
      stageSlopes.push_back(std::move(slopes));
    }
    addDeferred(loc, deferred, stageStates, start, acc);

    SmallVector<Value> yielded = acc;
    if (adaptive) {
      if (fsal)
        llvm::append_range(yielded, stageSlopes.back());
      if (dense)
        for (size_t s = 0; s < start.size(); ++s)
          yielded.push_back(combine(loc, start[s], tableau.getMid(),
                                    stageSlopes, s));
      for (size_t s = 0; s < start.size(); ++s)
        yielded.push_back(errorSum(loc, tableau, auxes[s], start[s], acc[s],
                                   stageSlopes, s));
    }
    YieldOp::create(builder, loc, yielded);
  }

  /// Creates grade.step after the rhs with `targets` and its arguments
  /// (graph, time, dt), leaves the builder at its end and returns the
  /// states at the start of the step.
  SmallVector<Value> createStep(Location loc, ArrayAttr targets,
                                ArrayRef<DeclOp> states) {
    builder.setInsertionPointAfter(rhs);
    auto step = StepOp::create(builder, loc, targets);
    Block *block = &step.getBody().emplaceBlock();
    graph = block->addArgument(grade::GraphType::get(builder.getContext()),
                               loc);
    time = block->addArgument(builder.getF64Type(), loc);
    dt = block->addArgument(builder.getF64Type(), loc);
    builder.setInsertionPointToEnd(block);
    SmallVector<Value> start;
    for (DeclOp decl : states)
      start.push_back(LoadOp::create(builder, loc, decl.getType(),
                                     decl.getSymName()));
    return start;
  }

  /// The states each state's right-hand side reads (its value's backward
  /// slice in the rhs body, down to the loads).
  SmallVector<llvm::SmallDenseSet<StringRef>> statesRead() {
    YieldOp yield = rhs.getYield();
    SmallVector<llvm::SmallDenseSet<StringRef>> result;
    for (Value value : yield.getValues()) {
      llvm::SmallDenseSet<StringRef> read;
      SmallVector<Value> work = {value};
      llvm::DenseSet<Value> seen;
      while (!work.empty()) {
        Value next = work.pop_back_val();
        if (!seen.insert(next).second)
          continue;
        Operation *op = next.getDefiningOp();
        if (!op)
          continue;
        if (auto load = dyn_cast<LoadOp>(op)) {
          if (DeclOp decl = model.lookupDecl(load.getDecl());
              decl && decl.getRole() == Role::state)
            read.insert(decl.getSymName());
          continue;
        }
        llvm::append_range(work, op->getOperands());
      }
      result.push_back(std::move(read));
    }
    return result;
  }

  /// A partitioned Runge-Kutta step: the positions (states whose right-hand
  /// sides read no position: dx/dt = v) advance with the tableau (qa, qb),
  /// the velocities with (a, b); stage i evaluates every right-hand side at
  ///   Q_i = q + dt sum_j qa_ij k_j,  P_i = p + dt sum_j a_ij l_j
  /// and time t + c_i dt (k: the positions' slopes, l: the velocities').
  /// Positions are chosen in declaration order: a state whose right-hand
  /// side reads neither itself nor a position chosen before it.
  LogicalResult buildPartitioned() {
    Location loc = solve.getLoc();
    TableauAttr tableau = solve.getScheme();
    SmallVector<DeclOp> states;
    for (Attribute target : rhs.getTargets())
      states.push_back(
          model.lookupDecl(cast<FlatSymbolRefAttr>(target).getValue()));
    SmallVector<llvm::SmallDenseSet<StringRef>> reads = statesRead();
    SmallVector<bool> isPosition(states.size(), false);
    llvm::SmallDenseSet<StringRef> positions;
    for (auto [index, state] : llvm::enumerate(states)) {
      const llvm::SmallDenseSet<StringRef> &read = reads[index];
      if (read.contains(state.getSymName()) ||
          llvm::any_of(positions,
                       [&](StringRef p) { return read.contains(p); }))
        continue;
      isPosition[index] = true;
      positions.insert(state.getSymName());
    }
    if (positions.empty() || positions.size() == states.size()) {
      InFlightDiagnostic diag =
          solve.emitError("scheme '")
          << tableau.getName()
          << "' is symplectic: it needs position states, whose right-hand "
             "sides read only velocity states (dx/dt = v), and velocity "
             "states (dv/dt = f(x, v)); ";
      if (positions.empty())
        diag << "every state of model '" << model.getSymName()
             << "' reads itself";
      else
        diag << "no state of model '" << model.getSymName()
             << "' is a velocity (every right-hand side reads no position)";
      return failure();
    }

    SmallVector<Value> start = createStep(loc, rhs.getTargets(), states);

    unsigned numStages = tableau.getNumStages();
    SmallVector<SmallVector<Value>> stageSlopes;
    for (unsigned i = 0; i < numStages; ++i) {
      SmallVector<Value> stageState = start;
      for (unsigned j = 0; j < i; ++j)
        for (size_t s = 0; s < start.size(); ++s) {
          double coefficient =
              isPosition[s] ? tableau.getQA(i, j) : tableau.getA(i, j);
          if (coefficient != 0.0)
            stageState[s] =
                axpy(loc, coefficient, stageSlopes[j][s], stageState[s]);
        }
      Value stageTime = time;
      if (double ci = tableau.getC()[i]; ci != 0.0)
        stageTime = arith::AddFOp::create(
            builder, loc, time, scaledDt(loc, ci, builder.getF64Type()));
      stageSlopes.push_back(inlineRhs(stageTime, stageState));
    }
    SmallVector<Value> next = start;
    for (unsigned i = 0; i < numStages; ++i)
      for (size_t s = 0; s < start.size(); ++s) {
        double weight = isPosition[s] ? tableau.getQB()[i] : tableau.getB()[i];
        if (weight != 0.0)
          next[s] = axpy(loc, weight, stageSlopes[i][s], next[s]);
      }
    YieldOp::create(builder, loc, next);
    return success();
  }

  /// A term beta (X_stage - y) of the running sum.
  struct Deferred {
    double beta;
    unsigned stage;
  };

  /// Whether stage i's slope is recoverable from the next stage's state:
  /// X_{i+1} = y + (a_{i+1,i} dt) k_i with no other slope in it.
  static bool isRecoverable(TableauAttr tableau, unsigned i) {
    if (i + 1 >= tableau.getNumStages() || tableau.getA(i + 1, i) == 0.0)
      return false;
    for (unsigned j = 0; j < i; ++j)
      if (tableau.getA(i + 1, j) != 0.0)
        return false;
    return true;
  }

  /// acc += beta (X_stage - y) for every deferred term, which are then gone.
  void addDeferred(Location loc, SmallVector<Deferred> &deferred,
                   ArrayRef<SmallVector<Value>> stageStates,
                   ArrayRef<Value> start, MutableArrayRef<Value> acc) {
    for (const Deferred &term : deferred)
      for (size_t s = 0; s < start.size(); ++s) {
        Value state = stageStates[term.stage][s];
        Type element = getElementTypeOf(state.getType());
        Value beta = arith::ConstantOp::create(
            builder, loc, element, builder.getFloatAttr(element, term.beta));
        Value difference =
            BinaryOp::create(builder, loc, BinaryFn::sub, state, start[s]);
        Value scaled =
            BinaryOp::create(builder, loc, BinaryFn::mul, beta, difference);
        acc[s] = BinaryOp::create(builder, loc, BinaryFn::add, acc[s], scaled);
      }
    deferred.clear();
  }

  /// The declarations an adaptive step adds for one state.
  struct Aux {
    FlatSymbolRefAttr slope, midpoint, error, rtol, atol;
  };

  /// Declares `<state>__<suffix>` (made unique) with `role` for `state`.
  FlatSymbolRefAttr declare(Role role, DeclOp state, StringRef suffix,
                            Type type) {
    OpBuilder declBuilder(rhs);
    return declareFor(declBuilder, model, role, state, suffix, type);
  }

  /// base + dt sum_i weights_i k_i of state `s` (base alone if every weight
  /// is 0).
  Value combine(Location loc, Value base, ArrayRef<double> weights,
                ArrayRef<SmallVector<Value>> slopes, size_t s) {
    Value result = base;
    for (auto [weight, stage] : llvm::zip(weights, slopes))
      if (weight != 0.0)
        result = axpy(loc, weight, stage[s], result);
    return result;
  }

  /// A global of `type` read from the f64 declaration `decl`.
  Value loadScalar(Location loc, FlatSymbolRefAttr decl, Type type) {
    Value value =
        LoadOp::create(builder, loc, builder.getF64Type(), decl.getValue());
    if (type.isF64())
      return value;
    return arith::TruncFOp::create(builder, loc, type, value);
  }

  /// The sum of the squared scaled local errors of state `s` over its rows
  /// and features, as an f64.
  Value errorSum(Location loc, TableauAttr tableau, const Aux &aux,
                 Value start, Value end, ArrayRef<SmallVector<Value>> slopes,
                 size_t s) {
    Type type = start.getType();
    Type element = getElementTypeOf(type);
    // E = dt sum_i (b_i - bhat_i) k_i.
    Value error;
    for (auto [b, bhat, stage] :
         llvm::zip(tableau.getB(), tableau.getBhat(), slopes)) {
      double e = b - bhat;
      if (e == 0.0)
        continue;
      error = error ? axpy(loc, e, stage[s], error)
                    : BinaryOp::create(builder, loc, BinaryFn::mul,
                                       scaledDt(loc, e, element), stage[s])
                          .getResult();
    }
    if (!error) // b == bhat: no estimate (the verifier's orders forbid it)
      return arith::ConstantOp::create(builder, loc, builder.getF64Type(),
                                       builder.getF64FloatAttr(0.0));
    // sc = atol + rtol max(|y|, |y'|).
    Value magnitude = BinaryOp::create(
        builder, loc, BinaryFn::max,
        UnaryOp::create(builder, loc, UnaryFn::abs, start),
        UnaryOp::create(builder, loc, UnaryFn::abs, end));
    Value scale = BinaryOp::create(
        builder, loc, BinaryFn::add, loadScalar(loc, aux.atol, element),
        BinaryOp::create(builder, loc, BinaryFn::mul,
                         loadScalar(loc, aux.rtol, element), magnitude));
    Value ratio = BinaryOp::create(builder, loc, BinaryFn::div, error, scale);
    // Squares summed over the features of each row, then over the rows.
    size_t rank = getFeatureShape(type).size();
    Value squares;
    if (rank == 0) {
      squares = BinaryOp::create(builder, loc, BinaryFn::mul, ratio, ratio);
    } else {
      std::string letters(rank, 'a');
      for (size_t d = 0; d < rank; ++d)
        letters[d] = char('a' + d);
      squares = ContractOp::create(builder, loc,
                                   letters + "," + letters + "->",
                                   ValueRange{ratio, ratio});
    }
    Value sum = ReduceAllOp::create(builder, loc, ReduceAllKind::sum, squares);
    if (element.isF64())
      return sum;
    return arith::ExtFOp::create(builder, loc, builder.getF64Type(), sum);
  }

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
  /// Per state, in order: the adaptive step's declarations.
  SmallVector<Aux> auxes;
};

/// The parts of a split right-hand side are an IMEX scheme's: any other
/// scheme steps with the whole (their sum), and the parts go. An IMEX
/// scheme needs them.
LogicalResult checkSplit(ModelOp model, SolveOp solve) {
  if (!solve)
    return success();
  TableauAttr tableau = solve.getScheme();
  RhsOp explicitPart = model.getRhsOp(RhsPart::ExplicitPart);
  RhsOp implicitPart = model.getRhsOp(RhsPart::ImplicitPart);
  if (tableau.isImex()) {
    if (!implicitPart)
      return solve.emitError("scheme '")
             << tableau.getName()
             << "' is IMEX: it solves the implicit part of a split "
                "right-hand side and evaluates the explicit part, but no "
                "state of model '"
             << model.getSymName()
             << "' has a split one; write e.g. 'rhs implicit dx/dt = "
                "<stiff terms>;' and 'rhs explicit dx/dt = <the rest>;', "
                "or choose a scheme for the whole (sdirk2, rk4, ...)";
    return success();
  }
  for (Operation *op : {explicitPart.getOperation(), implicitPart.getOperation(),
                        model.getJvpOp(RhsPart::ImplicitPart).getOperation(),
                        model.getDiagonalOp(RhsPart::ImplicitPart)
                            .getOperation()})
    if (op)
      op->erase();
  return success();
}

struct ExpandSchemePass
    : public grade::impl::ExpandSchemeBase<ExpandSchemePass> {
  void runOnOperation() override {
    for (ModelOp model : getOperation().getOps<ModelOp>()) {
      RhsOp rhs = model.getRhsOp();
      SolveOp solve = model.getSolveOp();
      if (failed(checkSplit(model, solve)))
        return signalPassFailure();
      // An implicit scheme's stages are solved by the runtime with the
      // right-hand side and its JVP: there is no explicit step to build.
      if (!rhs || !solve || model.getStepOp() ||
          solve.getScheme().isImplicit())
        continue;
      if (failed(StepBuilder(model, rhs, solve).build()))
        return signalPassFailure();
    }
  }
};

} // namespace
