//===- SimplifyGraphCalculus.cpp - moving work from edges to nodes --------===//
//
// A graph has many more edges than nodes, so every value computed per node
// instead of per edge saves work, and every per-edge value that is not read
// again saves memory traffic. The patterns here are exact algebraic
// identities (up to floating-point reassociation in the reductions).
//
//===----------------------------------------------------------------------===//

#include "dialects/Grade/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#define DEBUG_TYPE "grade-simplify-graph-calculus"

namespace grade {
#define GEN_PASS_DEF_SIMPLIFYGRAPHCALCULUS
#include "dialects/Grade/Transforms/Passes.h.inc"
} // namespace grade

using namespace mlir;
using namespace grade;

namespace {

bool isGlobal(Value value) { return !isa<FieldType>(value.getType()); }

/// The node field gathered at destinations, if `value` is such a gather.
GatherOp getDstGather(Value value) {
  auto gather = value.getDefiningOp<GatherOp>();
  return gather && gather.getEnd() == GatherEnd::dst ? gather : GatherOp();
}

//===----------------------------------------------------------------------===//
// Linear reductions
//===----------------------------------------------------------------------===//

/// A signed product of factors.
struct Term {
  bool negative = false;
  SmallVector<Value> factors;
};

/// Expands `value` into a sum of signed products through add, sub, neg and
/// mul; gives up (returns false) beyond `kMaxTerms` terms.
constexpr unsigned kMaxTerms = 4;

bool expand(Value value, SmallVectorImpl<Term> &terms) {
  if (auto unary = value.getDefiningOp<UnaryOp>();
      unary && unary.getFn() == UnaryFn::neg) {
    SmallVector<Term> inner;
    if (!expand(unary.getInput(), inner))
      return false;
    for (Term &term : inner)
      term.negative = !term.negative;
    terms.append(inner.begin(), inner.end());
    return terms.size() <= kMaxTerms;
  }
  auto binary = value.getDefiningOp<BinaryOp>();
  if (!binary || (binary.getFn() != BinaryFn::add &&
                  binary.getFn() != BinaryFn::sub &&
                  binary.getFn() != BinaryFn::mul)) {
    terms.push_back(Term{false, {value}});
    return terms.size() <= kMaxTerms;
  }
  SmallVector<Term> lhs, rhs;
  if (!expand(binary.getLhs(), lhs) || !expand(binary.getRhs(), rhs))
    return false;
  if (binary.getFn() == BinaryFn::mul) {
    for (const Term &a : lhs)
      for (const Term &b : rhs) {
        Term product{a.negative != b.negative, a.factors};
        product.factors.append(b.factors.begin(), b.factors.end());
        terms.push_back(std::move(product));
      }
  } else {
    terms.append(lhs.begin(), lhs.end());
    for (Term &term : rhs) {
      if (binary.getFn() == BinaryFn::sub)
        term.negative = !term.negative;
      terms.push_back(std::move(term));
    }
  }
  return terms.size() <= kMaxTerms;
}

/// Multiplies `factors` left to right (null for none).
Value multiply(PatternRewriter &rewriter, Location loc, ArrayRef<Value> factors) {
  Value product;
  for (Value factor : factors)
    product = product ? BinaryOp::create(rewriter, loc, BinaryFn::mul,
                                         product, factor)
                      : factor;
  return product;
}

/// sum_j (u_i * c * e_ij) = u_i * c * sum_j e_ij, term by term.
struct DecomposeLinearReduce : public OpRewritePattern<ReduceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ReduceOp op,
                                PatternRewriter &rewriter) const override {
    // Over out-edges, the factors constant along the edges of a node are
    // the source gathers, and the count is the out-degree: not handled.
    if (op.getKind() == ReduceKind::max || op.getOut())
      return failure();
    SmallVector<Term> terms;
    if (!expand(op.getInput(), terms))
      return failure();
    // Split each term into factors constant along a node's in-edges (node
    // values gathered at the destination, globals) and the rest.
    struct Split {
      bool negative;
      SmallVector<Value> outer, inner;
    };
    SmallVector<Split> splits;
    bool anyOuter = false;
    for (const Term &term : terms) {
      Split split{term.negative, {}, {}};
      for (Value factor : term.factors) {
        if (GatherOp gather = getDstGather(factor);
            gather && gather.getGraph() == op.getGraph())
          split.outer.push_back(gather.getInput());
        else if (isGlobal(factor))
          split.outer.push_back(factor);
        else
          split.inner.push_back(factor);
      }
      // The mean of a constant is not that constant on nodes without
      // in-edges; leave such reductions alone.
      if (split.inner.empty() && op.getKind() == ReduceKind::mean)
        return failure();
      anyOuter |= !split.outer.empty();
      splits.push_back(std::move(split));
    }
    if (!anyOuter)
      return failure();

    Location loc = op.getLoc();
    Value result;
    for (const Split &split : splits) {
      Value reduced;
      if (split.inner.empty()) {
        // sum_j 1 = the in-degree.
        auto type = cast<FieldType>(op.getType());
        reduced = DegreeOp::create(
            rewriter, loc,
            FieldType::get(rewriter.getContext(), FieldKind::node, {},
                           type.getElementType()),
            op.getGraph());
      } else {
        reduced = ReduceOp::create(rewriter, loc, op.getKind(), op.getGraph(),
                                   multiply(rewriter, loc, split.inner));
      }
      // The reduced field first, then node factors, then globals: every
      // partial product is a field (a global vector times a global scalar
      // would be arithmetic on global tensors, which kernels do not do).
      SmallVector<Value> factors = {reduced};
      for (Value factor : split.outer)
        if (!isGlobal(factor))
          factors.push_back(factor);
      for (Value factor : split.outer)
        if (isGlobal(factor))
          factors.push_back(factor);
      Value term = multiply(rewriter, loc, factors);
      if (!result)
        result = split.negative
                     ? UnaryOp::create(rewriter, loc, UnaryFn::neg, term)
                     : term;
      else
        result = BinaryOp::create(
            rewriter, loc, split.negative ? BinaryFn::sub : BinaryFn::add,
            result, term);
    }
    if (result.getType() != op.getType())
      return rewriter.notifyMatchFailure(op, "rewrite would change the type");
    // At a node without in-edges the reduction is 0 whatever its factors;
    // the factors pulled out may be infinite or NaN there (c * 0 = NaN).
    result = NonEmptyOp::create(rewriter, loc, result.getType(),
                                op.getGraph(), result);
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Hoisting computations through gathers
//===----------------------------------------------------------------------===//

/// Whether the edge value `value` reaches a reduction over out-edges. There
/// a destination gather reads the other end of the edge: one of a load is a
/// plain read, one of a computed value needs that value stored by an earlier
/// kernel, so hoisting work through it would cost a kernel and a buffer.
bool feedsOutReduction(Value value) {
  SmallVector<Value> worklist = {value};
  llvm::DenseSet<Value> seen;
  while (!worklist.empty()) {
    Value current = worklist.pop_back_val();
    if (!seen.insert(current).second)
      continue;
    for (Operation *user : current.getUsers()) {
      if (auto reduce = dyn_cast<ReduceOp>(user)) {
        if (reduce.getOut())
          return true;
        continue;
      }
      for (Value result : user->getResults())
        if (auto type = dyn_cast<FieldType>(result.getType());
            type && type.isEdge())
          worklist.push_back(result);
    }
  }
  return false;
}

/// Whether `op` multiplies by a global matrix (a parameter `W` in `x @ W`):
/// its work per row, a loop over the matrix, outweighs a kernel boundary.
bool multipliesByMatrix(Operation *op) {
  auto contract = dyn_cast<ContractOp>(op);
  return contract && llvm::any_of(contract.getInputs(), [](Value input) {
           return isGlobal(input) && getFeatureShape(input.getType()).size() >= 2;
         });
}

/// f(x[dst], ..., g) = f(x, ..., g)[dst] for element-wise f or a
/// contraction f, and globals g. Not for values reduced over out-edges
/// (feedsOutReduction), except a product with a matrix, which is hoisted
/// anyway, as HoistSrcMatrixProduct does for sources: its work per edge
/// outweighs a kernel boundary.
template <typename OpTy>
struct HoistDstGather : public OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    if (!multipliesByMatrix(op.getOperation()) &&
        feedsOutReduction(op->getResult(0)))
      return failure();
    Value graph;
    SmallVector<Value> operands;
    for (Value operand : op->getOperands()) {
      if (isGlobal(operand)) {
        operands.push_back(operand);
        continue;
      }
      GatherOp gather = getDstGather(operand);
      if (!gather || (graph && gather.getGraph() != graph))
        return failure();
      graph = gather.getGraph();
      operands.push_back(gather.getInput());
    }
    if (!graph)
      return failure();
    Operation *nodeOp = rewriter.clone(*op);
    nodeOp->setOperands(operands);
    auto edgeType = cast<FieldType>(op->getResult(0).getType());
    nodeOp->getResult(0).setType(edgeType.withKind(FieldKind::node));
    rewriter.replaceOpWithNewOp<GatherOp>(op, edgeType, GatherEnd::dst, graph,
                                          nodeOp->getResult(0));
    return success();
  }
};

/// contract(x[src], W) = contract(x, W)[src] for a product with a global
/// matrix W whose field operands are all gathered at the sources.
struct HoistSrcMatrixProduct : public OpRewritePattern<ContractOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ContractOp op,
                                PatternRewriter &rewriter) const override {
    if (!multipliesByMatrix(op))
      return failure();
    Value graph;
    SmallVector<Value> operands;
    for (Value operand : op.getInputs()) {
      if (isGlobal(operand)) {
        operands.push_back(operand);
        continue;
      }
      auto gather = operand.getDefiningOp<GatherOp>();
      if (!gather || gather.getEnd() != GatherEnd::src ||
          (graph && gather.getGraph() != graph))
        return failure();
      graph = gather.getGraph();
      operands.push_back(gather.getInput());
    }
    if (!graph)
      return failure();
    Value product = ContractOp::create(rewriter, op.getLoc(), op.getSpec(),
                                       operands, op.getKind());
    rewriter.replaceOpWithNewOp<GatherOp>(op, op.getType(), GatherEnd::src,
                                          graph, product);
    return success();
  }
};

struct SimplifyGraphCalculusPass
    : public grade::impl::SimplifyGraphCalculusBase<
          SimplifyGraphCalculusPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<DecomposeLinearReduce, HoistDstGather<UnaryOp>,
                 HoistDstGather<BinaryOp>, HoistDstGather<ContractOp>,
                 HoistSrcMatrixProduct>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
