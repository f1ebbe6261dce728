//===- GenerateVectorOps.cpp - the Newton-Krylov solves' vector entries ---===//
//
// An implicit scheme's stages are solved by the runtime: Newton's method
// whose linear systems GMRES or CG solve with the JVP entry's products.
// Where the kernels run on a GPU, so must the solvers' vector arithmetic,
// or every Krylov iteration would move its vectors between host and
// device; on a CPU, the arithmetic then runs on the kernels' threads. This
// pass gives such a model the entries that arithmetic needs,
// as ordinary region ops over the states' shapes (`grade.vector`; the
// kinds are VectorKind's), so that kernel formation, the GPU schedules
// (a global reduction's warp per block) and the emulation twins treat
// them as they treat the right-hand side:
//
//   lincomb   out = t x + dt y          multiply  out = x y
//   jacobi    out = 1 / (1 - t x), guarded
//   dot       r = sum x y               residual  r = sum (x / (1 + |y|))^2
//   error     r = sum (x / (atol + rtol max(|y|, |z|)))^2
//
// x, y, z and out are per-state declarations (vector_x, ..., vector_out)
// the runtime points at its vectors, r is one f64 (`result`), and rtol and
// atol are each state's. A reduction sums each state over its features,
// then over its rows (the fixed-order global reduction), then the states
// in declaration order, in f64.
//
// Only models whose states are all f64 get them: the solvers work in f64,
// and a vector of an f32 state would round every Krylov vector to f32.
//
//===----------------------------------------------------------------------===//

#include "dialects/Grade/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"

#include <limits>

namespace grade {
#define GEN_PASS_DEF_GENERATEVECTOROPS
#include "dialects/Grade/Transforms/Passes.h.inc"
} // namespace grade

using namespace mlir;
using namespace grade;

namespace {

/// A state's declarations for the vector entries.
struct Operands {
  DeclOp state;
  FlatSymbolRefAttr x, y, z, out, rtol, atol;
};

class VectorOpsBuilder {
public:
  VectorOpsBuilder(ModelOp model, RhsOp rhs)
      : model(model), rhs(rhs), builder(rhs), declBuilder(rhs) {}

  void build() {
    Location loc = model.getLoc();
    for (DeclOp state : model.getStates()) {
      Type type = state.getType();
      Type f64 = builder.getF64Type();
      auto declare = [&](Role role, StringRef suffix) {
        return declareFor(declBuilder, model, role, state, suffix, type);
      };
      operands.push_back(
          {state, declare(Role::vector_x, "vx"), declare(Role::vector_y, "vy"),
           declare(Role::vector_z, "vz"), declare(Role::vector_out, "vout"),
           findOrDeclare(Role::rtol, state, "rtol", f64),
           findOrDeclare(Role::atol, state, "atol", f64)});
    }
    std::string name = "vector_result";
    for (unsigned n = 1; model.lookupDecl(name); ++n)
      name = "vector_result" + std::to_string(n);
    result = FlatSymbolRefAttr::get(
        DeclOp::create(declBuilder, loc, Role::result, name,
                       builder.getF64Type(), /*output=*/false,
                       FlatSymbolRefAttr())
            .getSymNameAttr());

    elementwise(VectorKind::lincomb, [&](Value t, Value dt, const Loaded &v) {
      return binary(BinaryFn::add, binary(BinaryFn::mul, t, v.x),
                    binary(BinaryFn::mul, dt, v.y));
    });
    elementwise(VectorKind::multiply, [&](Value, Value, const Loaded &v) {
      return binary(BinaryFn::mul, v.x, v.y);
    });
    elementwise(VectorKind::jacobi, [&](Value t, Value, const Loaded &v) {
      Value m =
          binary(BinaryFn::sub, constant(1.0), binary(BinaryFn::mul, t, v.x));
      Value size = UnaryOp::create(builder, loc, UnaryFn::abs, m);
      // Finite (NaN compares false) and away from 0.
      Value usable =
          binary(BinaryFn::mul, binary(BinaryFn::gt, size, constant(1e-12)),
                 binary(BinaryFn::lt, size,
                        constant(std::numeric_limits<double>::infinity())));
      return SelectOp::create(builder, loc, usable,
                              binary(BinaryFn::div, constant(1.0), m),
                              constant(1.0))
          .getResult();
    });
    reduction(VectorKind::dot,
              [&](const Loaded &v) { return sumFeatures(v.x, v.y); });
    reduction(VectorKind::residual, [&](const Loaded &v) {
      Value scale = binary(BinaryFn::add, constant(1.0),
                           UnaryOp::create(builder, loc, UnaryFn::abs, v.y));
      Value ratio = binary(BinaryFn::div, v.x, scale);
      return sumFeatures(ratio, ratio);
    });
    reduction(VectorKind::error, [&](const Loaded &v) {
      Value magnitude = binary(
          BinaryFn::max, UnaryOp::create(builder, loc, UnaryFn::abs, v.y),
          UnaryOp::create(builder, loc, UnaryFn::abs, v.z));
      Value scale = binary(BinaryFn::add, v.atol,
                           binary(BinaryFn::mul, v.rtol, magnitude));
      Value ratio = binary(BinaryFn::div, v.x, scale);
      return sumFeatures(ratio, ratio);
    });
  }

private:
  /// A state's operands as loaded in the body being built.
  struct Loaded {
    Value x, y, z, rtol, atol;
  };

  /// The state's declaration of `role` (an adaptive implicit scheme's
  /// tolerances may exist already), else a new one.
  FlatSymbolRefAttr findOrDeclare(Role role, DeclOp state, StringRef suffix,
                                  Type type) {
    for (DeclOp decl : model.getDecls())
      if (decl.getRole() == role && decl.getOf() == state.getSymName())
        return FlatSymbolRefAttr::get(decl.getSymNameAttr());
    return declareFor(declBuilder, model, role, state, suffix, type);
  }

  /// A new `grade.vector` of `kind` writing `targets`, its body's block
  /// (graph, t, dt) current.
  VectorOp create(VectorKind kind, ArrayRef<Attribute> targets) {
    Location loc = model.getLoc();
    builder.setInsertionPointToEnd(&model.getBody().front());
    auto op =
        VectorOp::create(builder, loc, builder.getArrayAttr(targets), kind);
    Type f64 = builder.getF64Type();
    Type graph = rhs.getGraphArg().getType();
    Block *block = builder.createBlock(&op.getBody(), {}, {graph, f64, f64},
                                       {loc, loc, loc});
    builder.setInsertionPointToStart(block);
    return op;
  }

  Loaded load(Operands state) {
    Location loc = model.getLoc();
    Type type = state.state.getType(), f64 = builder.getF64Type();
    auto get = [&](FlatSymbolRefAttr decl, Type declType) {
      return LoadOp::create(builder, loc, declType, decl.getValue())
          .getResult();
    };
    return {get(state.x, type), get(state.y, type), get(state.z, type),
            get(state.rtol, f64), get(state.atol, f64)};
  }

  /// An entry writing each state's `out` as `compute(t, dt, operands)`.
  template <typename Fn> void elementwise(VectorKind kind, Fn compute) {
    SmallVector<Attribute> targets;
    for (const Operands &state : operands)
      targets.push_back(state.out);
    VectorOp op = create(kind, targets);
    Block &block = op.getBody().front();
    SmallVector<Value> values;
    for (const Operands &state : operands)
      values.push_back(
          compute(block.getArgument(1), block.getArgument(2), load(state)));
    YieldOp::create(builder, model.getLoc(), values);
  }

  /// An entry writing the f64 result: the sum over the states of
  /// `compute(operands)`, a node or edge field of scalars summed over the
  /// rows.
  template <typename Fn> void reduction(VectorKind kind, Fn compute) {
    create(kind, {result});
    Location loc = model.getLoc();
    Value total;
    for (const Operands &state : operands) {
      Value sum = ReduceAllOp::create(builder, loc, ReduceAllKind::sum,
                                      compute(load(state)));
      total = total
                  ? arith::AddFOp::create(builder, loc, total, sum).getResult()
                  : sum;
    }
    YieldOp::create(builder, loc, ValueRange{total});
  }

  /// sum over the features of a * b, row by row (a * b for scalar rows).
  Value sumFeatures(Value a, Value b) {
    size_t rank = getFeatureShape(a.getType()).size();
    if (rank == 0)
      return binary(BinaryFn::mul, a, b);
    std::string letters(rank, 'a');
    for (size_t d = 0; d < rank; ++d)
      letters[d] = char('a' + d);
    return ContractOp::create(builder, model.getLoc(),
                              letters + "," + letters + "->", ValueRange{a, b});
  }

  Value binary(BinaryFn fn, Value a, Value b) {
    return BinaryOp::create(builder, model.getLoc(), fn, a, b).getResult();
  }

  Value constant(double value) {
    return arith::ConstantOp::create(builder, model.getLoc(),
                                     builder.getF64Type(),
                                     builder.getF64FloatAttr(value));
  }

  ModelOp model;
  RhsOp rhs;
  OpBuilder builder;
  /// Declarations go before the right-hand side.
  OpBuilder declBuilder;
  SmallVector<Operands> operands;
  FlatSymbolRefAttr result;
};

struct GenerateVectorOpsPass
    : public grade::impl::GenerateVectorOpsBase<GenerateVectorOpsPass> {
  void runOnOperation() override {
    for (ModelOp model : getOperation().getOps<ModelOp>()) {
      SolveOp solve = model.getSolveOp();
      RhsOp rhs = model.getRhsOp();
      if (!solve || !rhs || !solve.getScheme().isImplicit() ||
          !model.getBody().front().getOps<VectorOp>().empty())
        continue;
      SmallVector<DeclOp> states = model.getStates();
      if (states.empty() || llvm::any_of(states, [](DeclOp state) {
            return !getElementTypeOf(state.getType()).isF64();
          }))
        continue;
      VectorOpsBuilder(model, rhs).build();
    }
  }
};

} // namespace
