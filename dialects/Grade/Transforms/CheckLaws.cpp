//===- CheckLaws.cpp - equivariance of the right-hand side, on the IR ---===//
//
// Propagates transformation laws through each grade.rhs region of a model
// that declares symmetry groups, by the ops' LawOpInterface (the rules of
// GradeLaws.h), and checks each yielded derivative against its state.
//
//===----------------------------------------------------------------------===//

#include "dialects/Grade/IR/GradeLaws.h"
#include "dialects/Grade/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"

#define DEBUG_TYPE "grade-check-laws"

namespace grade {
#define GEN_PASS_DEF_CHECKLAWS
#include "dialects/Grade/Transforms/Passes.h.inc"
} // namespace grade

using namespace mlir;
using namespace grade;

namespace {

/// The groups of a model's symmetry attribute (messages name them by the
/// clause's spelling).
Symmetry symmetryOf(SymmetryAttr attr) {
  Symmetry symmetry;
  symmetry.groups = attr.getGroups();
  symmetry.dim = attr.getDim();
  symmetry.timeWeight = attr.getTimeWeight().getValueAsDouble();
  symmetry.spelling = attr.getSpelling().str();
  symmetry.rotationName = symmetry.translationName = symmetry.scalingName =
      symmetry.boostName = symmetry.timeName = symmetry.spelling;
  return symmetry;
}

/// A declared law as the rules see it: without rotations, vectors are
/// scalars.
Law asChecked(Law law, const Symmetry &symmetry) {
  if (!symmetry.has(kRotations))
    law.rep = Rep::Scalar;
  return law;
}

/// The law of every value of one region.
class RegionLaws {
public:
  RegionLaws(ModelOp model, const Symmetry &symmetry)
      : model(model), symmetry(symmetry) {}

  LogicalResult check(Operation *region, Block &body,
                      ArrayAttr targets);

private:
  Law declared(StringRef name) {
    DeclOp decl = model.lookupDecl(name);
    if (!decl || !decl.getLawAttr())
      return Law();
    return asChecked(getLaw(decl.getLawAttr()), symmetry);
  }

  ModelOp model;
  const Symmetry &symmetry;
  DenseMap<Value, Law> laws;
};

LogicalResult RegionLaws::check(Operation *region, Block &body,
                                ArrayAttr targets) {
  // The graph, then the time.
  for (BlockArgument arg : body.getArguments()) {
    Law law;
    if (isa<FloatType>(arg.getType())) {
      law.time = symmetry.has(kTimeShifts) ? 1 : 0;
      law.weight = symmetry.has(kScalings) ? symmetry.timeWeight : 0;
    }
    laws[arg] = law;
  }
  for (Operation &op : body) {
    if (auto load = dyn_cast<LoadOp>(op)) {
      laws[load.getResult()] = declared(load.getDecl());
      continue;
    }
    if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
      Law law;
      if (auto value = dyn_cast<FloatAttr>(constant.getValue()))
        law.constant = value.getValueAsDouble();
      laws[constant.getResult()] = law;
      continue;
    }
    if (auto yield = dyn_cast<YieldOp>(op)) {
      for (auto [value, target] :
           llvm::zip(yield.getOperands(), targets.getAsRange<FlatSymbolRefAttr>())) {
        Law law = laws.lookup(value);
        Law state = declared(target.getValue());
        Law expected = derivative(state, symmetry);
        if (law.isZero() || law.sameAs(expected))
          continue;
        return yield.emitError()
               << "the derivative of '" << target.getValue() << "' is "
               << describe(law) << ", but must be " << describe(expected)
               << " under " << symmetry.spelling << ": the state is "
               << describe(state);
      }
      continue;
    }
    SmallVector<Law> operands;
    for (Value operand : op.getOperands())
      operands.push_back(laws.lookup(operand));
    auto rule = dyn_cast<LawOpInterface>(op);
    if (!rule) {
      // An op without a rule may only see invariants.
      if (llvm::any_of(operands, [](const Law &law) {
            return law.rep != Rep::Scalar || law.isAffine() ||
                   law.weight != 0;
          }))
        return op.emitError() << "'" << op.getName()
                              << "' has no law rule and reads a value that "
                                 "is not invariant under "
                              << symmetry.spelling;
      for (Value result : op.getResults())
        laws[result] = Law();
      continue;
    }
    LawError error;
    FailureOr<Law> law = rule.inferLaw(operands, &error);
    if (failed(law)) {
      std::string what = op.getName().getStringRef().str();
      if (auto unary = dyn_cast<UnaryOp>(op))
        what += "' (" + stringifyUnaryFn(unary.getFn()).str() + ")";
      else if (auto binary = dyn_cast<BinaryOp>(op))
        what += "' (" + stringifyBinaryFn(binary.getFn()).str() + ")";
      else
        what += "'";
      return op.emitError() << "'" << what << " is not "
                            << symmetry.nameOf(error.group)
                            << "-equivariant: " << error.message;
    }
    laws[op.getResult(0)] = *law;
  }
  return success();
}

struct CheckLawsPass : public grade::impl::CheckLawsBase<CheckLawsPass> {
  void runOnOperation() override {
    for (ModelOp model : getOperation().getOps<ModelOp>()) {
      SymmetryAttr attr = model.getSymmetryAttr();
      if (!attr)
        continue;
      Symmetry symmetry = symmetryOf(attr);
      for (RhsOp rhs : model.getBody().getOps<RhsOp>()) {
        RegionLaws laws(model, symmetry);
        if (failed(laws.check(rhs, rhs.getBody().front(), rhs.getTargets())))
          return signalPassFailure();
      }
    }
  }
};

} // namespace
