//===- GenerateJvp.cpp - forward-mode JVPs of the right-hand side ---------===//
//
// grade.jvp repeats the right-hand side's computation (the primal values)
// and, op by op in program order, the tangent of each value that depends on
// the states: a state's load has the state's tangent declaration as its
// tangent, inputs, parameters, lets and the graph have none (zero), and
// every other op gives its result's tangent from its operands' through
// TangentOpInterface. Zero tangents are null and never materialised until
// the yield, where a state whose derivative does not depend on the states
// gets 0 * v. Kernel formation later keeps only the primal values the
// tangents need.
//
//===----------------------------------------------------------------------===//

#include "dialects/Grade/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/TypeSwitch.h"

namespace grade {
#define GEN_PASS_DEF_GENERATEJVP
#include "dialects/Grade/Transforms/Passes.h.inc"
} // namespace grade

using namespace mlir;
using namespace grade;

namespace {

/// The tangent of an arith op on globals, or failure for one that has no
/// rule. `tangents` are the operands' (null: zero).
FailureOr<Value> emitArithTangent(OpBuilder &builder, Operation *op,
                                  ArrayRef<Value> tangents) {
  Location loc = op->getLoc();
  auto none = [&] { return llvm::all_of(tangents, [](Value t) { return !t; }); };
  if (isa<arith::ConstantOp>(op) || none())
    return Value();
  auto zeroIfNull = [&](Value tangent, Value like) -> Value {
    if (tangent)
      return tangent;
    return arith::ConstantOp::create(
        builder, loc, like.getType(),
        builder.getFloatAttr(like.getType(), 0.0));
  };
  return llvm::TypeSwitch<Operation *, FailureOr<Value>>(op)
      .Case<arith::AddFOp>([&](arith::AddFOp add) -> FailureOr<Value> {
        return arith::AddFOp::create(builder, loc,
                                     zeroIfNull(tangents[0], add.getLhs()),
                                     zeroIfNull(tangents[1], add.getRhs()))
            .getResult();
      })
      .Case<arith::SubFOp>([&](arith::SubFOp sub) -> FailureOr<Value> {
        return arith::SubFOp::create(builder, loc,
                                     zeroIfNull(tangents[0], sub.getLhs()),
                                     zeroIfNull(tangents[1], sub.getRhs()))
            .getResult();
      })
      .Case<arith::MulFOp>([&](arith::MulFOp mul) -> FailureOr<Value> {
        Value a = mul.getLhs(), b = mul.getRhs();
        Value result;
        if (tangents[0])
          result = arith::MulFOp::create(builder, loc, tangents[0], b);
        if (tangents[1]) {
          Value term = arith::MulFOp::create(builder, loc, a, tangents[1]);
          result = result ? arith::AddFOp::create(builder, loc, result, term)
                                .getResult()
                          : term;
        }
        return result;
      })
      .Case<arith::DivFOp>([&](arith::DivFOp div) -> FailureOr<Value> {
        // (da - y db) / b
        Value numerator = zeroIfNull(tangents[0], div.getLhs());
        if (tangents[1])
          numerator = arith::SubFOp::create(
              builder, loc, numerator,
              arith::MulFOp::create(builder, loc, div.getResult(),
                                    tangents[1]));
        return arith::DivFOp::create(builder, loc, numerator, div.getRhs())
            .getResult();
      })
      .Case<arith::NegFOp>([&](arith::NegFOp) -> FailureOr<Value> {
        return arith::NegFOp::create(builder, loc, tangents[0]).getResult();
      })
      .Case<arith::TruncFOp>([&](arith::TruncFOp trunc) -> FailureOr<Value> {
        return arith::TruncFOp::create(builder, loc, trunc.getType(),
                                       tangents[0])
            .getResult();
      })
      .Case<arith::ExtFOp>([&](arith::ExtFOp ext) -> FailureOr<Value> {
        return arith::ExtFOp::create(builder, loc, ext.getType(), tangents[0])
            .getResult();
      })
      .Default([&](Operation *other) -> FailureOr<Value> {
        return other->emitOpError("cannot be differentiated (no tangent "
                                  "rule for it)");
      });
}

/// Whether the right-hand side reduces over out-edges (where a node's own
/// value is read as the source: the diagonal's rule for gathers would be
/// the other way round, so no diagonal is built).
bool readsOutEdges(RhsOp rhs) {
  return rhs.getBody()
      .walk([](ReduceOp reduce) {
        return reduce.getOut() ? WalkResult::interrupt()
                               : WalkResult::advance();
      })
      .wasInterrupted();
}

/// Emits, right after each op of `body` in program order, the tangent of its
/// result into `tangents` (absent: zero). `seed` gives the tangent of a
/// load (null: none). With `ownValues` (the Jacobian's diagonal, every
/// node's own value perturbed at once), `x[src]` reads a neighbour's value
/// and global reductions a negligible share: neither carries a tangent.
LogicalResult propagateTangents(
    Block &body, function_ref<Value(OpBuilder &, LoadOp)> seed,
    bool ownValues, llvm::DenseMap<Value, Value> &tangents) {
  OpBuilder builder(body.getParentOp()->getContext());
  SmallVector<Operation *> primal;
  for (Operation &op : body.without_terminator())
    primal.push_back(&op);
  for (Operation *op : primal) {
    builder.setInsertionPointAfter(op);
    if (auto load = dyn_cast<LoadOp>(op)) {
      if (Value tangent = seed(builder, load))
        tangents[load.getResult()] = tangent;
      continue;
    }
    if (ownValues) {
      if (auto gather = dyn_cast<GatherOp>(op);
          gather && gather.getEnd() == GatherEnd::src)
        continue;
      if (isa<ReduceAllOp>(op))
        continue;
    }
    if (op->getNumResults() != 1)
      continue;
    SmallVector<Value> operandTangents;
    for (Value operand : op->getOperands())
      operandTangents.push_back(tangents.lookup(operand));
    if (llvm::all_of(operandTangents, [](Value t) { return !t; }))
      continue; // constant along every direction
    FailureOr<Value> tangent;
    if (auto differentiable = dyn_cast<TangentOpInterface>(op))
      tangent = differentiable.emitTangent(builder, operandTangents);
    else if (op->getDialect() &&
             op->getDialect()->getNamespace() == "arith")
      tangent = emitArithTangent(builder, op, operandTangents);
    else
      return op->emitOpError("cannot be differentiated (it does not "
                             "implement TangentOpInterface)");
    if (failed(tangent))
      return failure();
    if (*tangent)
      tangents[op->getResult(0)] = *tangent;
  }
  return success();
}

/// Builds the Jacobian's diagonal: forward mode with every state's own
/// value perturbed at once (tangent 1), a neighbour's (`x[src]`) not.
LogicalResult generateDiagonal(ModelOp model, RhsOp rhs) {
  OpBuilder builder(rhs);
  Operation *after = rhs;
  if (JvpOp jvp = model.getJvpOp(rhs.getPart()))
    after = jvp;
  builder.setInsertionPointAfter(after);
  auto diagonal = DiagonalOp::create(builder, rhs.getLoc(), rhs.getTargets(),
                                     rhs.getPartAttr());
  IRMapping mapping;
  rhs.getBody().cloneInto(&diagonal.getBody(), mapping);
  Block &body = diagonal.getBody().front();
  auto yield = cast<YieldOp>(body.getTerminator());
  llvm::DenseSet<StringRef> states;
  for (Attribute target : rhs.getTargets())
    states.insert(cast<FlatSymbolRefAttr>(target).getValue());

  llvm::DenseMap<Value, Value> tangents;
  // A state's own value moves by 1: the tangent 0 * x + 1.
  auto seed = [&](OpBuilder &b, LoadOp load) -> Value {
    if (!states.contains(load.getDecl()))
      return {};
    Location loc = load.getLoc();
    Type element = getElementTypeOf(load.getType());
    Value zero = arith::ConstantOp::create(b, loc, element,
                                           b.getFloatAttr(element, 0.0));
    Value one = arith::ConstantOp::create(b, loc, element,
                                          b.getFloatAttr(element, 1.0));
    return BinaryOp::create(b, loc, BinaryFn::add,
                            BinaryOp::create(b, loc, BinaryFn::mul, zero, load),
                            one);
  };
  if (failed(propagateTangents(body, seed, /*ownValues=*/true, tangents)))
    return failure();
  builder.setInsertionPoint(yield);
  SmallVector<Value> results;
  for (Value value : yield.getValues()) {
    Value tangent = tangents.lookup(value);
    if (!tangent) {
      Type element = getElementTypeOf(value.getType());
      Value zero = arith::ConstantOp::create(
          builder, yield.getLoc(), element, builder.getFloatAttr(element, 0));
      tangent = BinaryOp::create(builder, yield.getLoc(), BinaryFn::mul, zero,
                                 value);
    }
    results.push_back(tangent);
  }
  YieldOp::create(builder, yield.getLoc(), results);
  yield.erase();
  return success();
}

/// Builds the JVP region of one model.
LogicalResult generateJvp(ModelOp model, RhsOp rhs) {
  OpBuilder builder(rhs);
  // A tangent declaration per state, in the order of the rhs's targets
  // (shared by the JVPs of the whole and of the implicit part).
  llvm::StringMap<FlatSymbolRefAttr> tangentOf;
  for (DeclOp decl : model.getDecls())
    if (decl.getRole() == Role::tangent && decl.getOfAttr())
      tangentOf[decl.getOfAttr().getValue()] =
          FlatSymbolRefAttr::get(decl.getSymNameAttr());
  for (Attribute target : rhs.getTargets()) {
    DeclOp state =
        model.lookupDecl(cast<FlatSymbolRefAttr>(target).getValue());
    if (tangentOf.count(state.getSymName()))
      continue;
    tangentOf[state.getSymName()] = declareFor(
        builder, model, Role::tangent, state, "tangent", state.getType());
  }

  builder.setInsertionPointAfter(rhs);
  auto jvp = JvpOp::create(builder, rhs.getLoc(), rhs.getTargets(),
                           rhs.getPartAttr());
  IRMapping mapping;
  jvp.getBody().getBlocks().clear();
  rhs.getBody().cloneInto(&jvp.getBody(), mapping);
  Block &body = jvp.getBody().front();
  auto yield = cast<YieldOp>(body.getTerminator());

  llvm::DenseMap<Value, Value> tangents;
  // A state's tangent is its tangent declaration's value.
  auto seed = [&](OpBuilder &b, LoadOp load) -> Value {
    auto it = tangentOf.find(load.getDecl());
    if (it == tangentOf.end())
      return {};
    return LoadOp::create(b, load.getLoc(), load.getType(),
                          it->second.getValue());
  };
  if (failed(propagateTangents(body, seed, /*ownValues=*/false, tangents)))
    return failure();

  // J v per state; a derivative that does not depend on the states is 0.
  builder.setInsertionPoint(yield);
  SmallVector<Value> results;
  for (auto [value, target] : llvm::zip(yield.getValues(), rhs.getTargets())) {
    Value tangent = tangents.lookup(value);
    if (!tangent) {
      FlatSymbolRefAttr v =
          tangentOf.lookup(cast<FlatSymbolRefAttr>(target).getValue());
      Value direction =
          LoadOp::create(builder, yield.getLoc(), value.getType(),
                         v.getValue());
      Type element = getElementTypeOf(value.getType());
      Value zero = arith::ConstantOp::create(
          builder, yield.getLoc(), element, builder.getFloatAttr(element, 0));
      tangent = BinaryOp::create(builder, yield.getLoc(), BinaryFn::mul, zero,
                                 direction);
    }
    results.push_back(tangent);
  }
  YieldOp::create(builder, yield.getLoc(), results);
  yield.erase();
  return success();
}

/// Whether every op of the right-hand side has a tangent rule (the rules
/// themselves refuse max reductions, maxima and minima over features,
/// matrix powers and unknown ops).
bool isDifferentiable(RhsOp rhs) {
  WalkResult result = rhs.getBody().walk([](Operation *op) {
    if (auto reduce = dyn_cast<ReduceOp>(op);
        reduce && reduce.getKind() == ReduceKind::max)
      return WalkResult::interrupt();
    if (auto reduce = dyn_cast<ReduceAllOp>(op);
        reduce && reduce.getKind() != ReduceAllKind::sum &&
        reduce.getKind() != ReduceAllKind::mean)
      return WalkResult::interrupt();
    if (auto contract = dyn_cast<ContractOp>(op);
        contract && contract.getKind() != ContractKind::sum)
      return WalkResult::interrupt();
    if (isa<SymPowOp>(op))
      return WalkResult::interrupt();
    bool known = isa<TangentOpInterface, LoadOp, YieldOp, arith::ConstantOp,
                     arith::AddFOp, arith::SubFOp, arith::MulFOp,
                     arith::DivFOp, arith::NegFOp, arith::TruncFOp,
                     arith::ExtFOp>(op);
    return known ? WalkResult::advance() : WalkResult::interrupt();
  });
  return !result.wasInterrupted();
}

struct GenerateJvpPass : public grade::impl::GenerateJvpBase<GenerateJvpPass> {
  using Base::Base;

  void runOnOperation() override {
    for (ModelOp model : getOperation().getOps<ModelOp>()) {
      SolveOp solve = model.getSolveOp();
      // An IMEX scheme solves its stages with the implicit part's JVP.
      if (RhsOp part = model.getRhsOp(RhsPart::ImplicitPart);
          part && solve && solve.getScheme().isImex() &&
          !model.getJvpOp(RhsPart::ImplicitPart)) {
        if (failed(generateJvp(model, part)))
          return signalPassFailure();
        if (!readsOutEdges(part) && failed(generateDiagonal(model, part)))
          return signalPassFailure();
      }
      RhsOp rhs = model.getRhsOp();
      if (!rhs || model.getJvpOp())
        continue;
      bool implicit = solve && solve.getScheme().isImplicit() &&
                      !solve.getScheme().isImex();
      if (!all && !implicit)
        continue;
      if (bestEffort && !implicit && !isDifferentiable(rhs))
        continue;
      if (failed(generateJvp(model, rhs)))
        return signalPassFailure();
      // The Jacobi preconditioner of the implicit stages' Krylov solves.
      if (implicit && !model.getDiagonalOp() && !readsOutEdges(rhs) &&
          failed(generateDiagonal(model, rhs)))
        return signalPassFailure();
    }
  }
};

} // namespace
