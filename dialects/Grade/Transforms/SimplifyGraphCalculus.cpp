//===- SimplifyGraphCalculus.cpp - moving work from edges to nodes --------===//
//
// A graph has many more edges than nodes, so every value computed per node
// instead of per edge saves work, and every per-edge value that is not read
// again saves memory traffic. The patterns here are exact algebraic
// identities (up to floating-point reassociation in the reductions).
//
//===----------------------------------------------------------------------===//

#include "dialects/Grade/Transforms/Passes.h"

#include "mlir/IR/AffineMap.h"
#include "mlir/IR/BuiltinTypes.h"
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
    // With globals as the only factors to pull out, each term saves a
    // multiplication per edge and costs a reduction of its own, which
    // evaluates the shared factors of the terms again (MP-PDE's mean of
    // swish(v @ W + b) would read the sigmoid twice per edge): only a
    // single term is worth it.
    bool movesWork = llvm::any_of(splits, [&](const Split &split) {
      return split.inner.empty() ||
             llvm::any_of(split.outer, [](Value f) { return !isGlobal(f); });
    });
    if (!movesWork && splits.size() > 1)
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

//===----------------------------------------------------------------------===//
// Splitting products of concatenations
//===----------------------------------------------------------------------===//

/// Whether `spec` is `x @ W`'s "i,ij->j" (any two distinct letters).
bool isVectorMatrixSpec(StringRef spec) {
  return spec.size() == 7 && spec[1] == ',' && spec.substr(4, 2) == "->" &&
         spec[0] == spec[2] && spec[3] == spec[6] && spec[0] != spec[3];
}

/// The gather under a gathered node vector: a piece of a concatenation
/// whose share of a matrix product the patterns above then move to the
/// nodes. The piece is a vector gathered from a node field, or a reshape
/// (a `grade.reindex` without index operands) of one; null otherwise.
GatherOp getGatheredVector(Value piece) {
  if (getFeatureShape(piece.getType()).size() != 1)
    return GatherOp();
  if (auto gather = piece.getDefiningOp<GatherOp>())
    return gather;
  auto reindex = piece.getDefiningOp<ReindexOp>();
  if (!reindex || !reindex.getIndices().empty())
    return GatherOp();
  return reindex.getInput().getDefiningOp<GatherOp>();
}

bool isGatheredVector(Value piece) { return bool(getGatheredVector(piece)); }

/// A gathered node vector with its reshape done per node before the
/// gather, `reshape(x[end])` = `reshape(x)[end]`, so that the product with
/// it is a product with a gathered value; any other piece as it is.
Value gatherLast(PatternRewriter &rewriter, Location loc, Value piece) {
  GatherOp gather = getGatheredVector(piece);
  auto reindex = piece.getDefiningOp<ReindexOp>();
  if (!gather || !reindex)
    return piece;
  auto edgeType = cast<FieldType>(piece.getType());
  Value node =
      ReindexOp::create(rewriter, loc, edgeType.withKind(FieldKind::node),
                        gather.getInput(), ValueRange{}, reindex.getMapAttr());
  return GatherOp::create(rewriter, loc, edgeType, gather.getEnd(),
                          gather.getGraph(), node);
}

/// concat(p_1, ..., p_k) @ W = p_1 @ W_1 + ... + p_k @ W_k, W_i the rows of
/// W that meet p_i, for the pieces that are gathered node vectors (or their
/// reshapes: Neural Sheaf Diffusion's [x_v || x_u] of 3 x 4 stalks); the other
/// pieces stay together, one concatenation per run of them. A message MLP's
/// first layer, concat(h[dst], h[src], e) @ W, then becomes
/// (h @ W_1)[dst] + (h @ W_2)[src] + e @ W_3 through HoistDstGather and
/// HoistSrcMatrixProduct: two products per node instead of per edge (MP-PDE:
/// 283 x 128 multiply-adds per edge become 27 x 128, with 2 x 128 x 128
/// per node). Not when a run of other pieces holds no field (a product of
/// globals only is not a kernel's work).
struct SplitConcatProduct : public OpRewritePattern<ContractOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ContractOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getKind() != ContractKind::sum || op.getInputs().size() != 2 ||
        !isVectorMatrixSpec(op.getSpec()))
      return failure();
    Value matrix = op.getInputs()[1];
    auto concat = op.getInputs()[0].getDefiningOp<ConcatOp>();
    auto matrixType = dyn_cast<RankedTensorType>(matrix.getType());
    if (!concat || !matrixType || matrixType.getRank() != 2)
      return failure();
    if (!llvm::any_of(concat.getInputs(), isGatheredVector))
      return failure();

    // The pieces in order, each a gathered vector alone or a run of others.
    struct Part {
      SmallVector<Value> pieces;
      int64_t firstRow = 0, rows = 0;
      bool hasField = false;
    };
    SmallVector<Part> parts;
    int64_t row = 0;
    for (Value piece : concat.getInputs()) {
      ArrayRef<int64_t> shape = getFeatureShape(piece.getType());
      if (shape.size() > 1)
        return failure(); // concat verifies this; be safe
      int64_t width = shape.empty() ? 1 : shape[0];
      bool alone = isGatheredVector(piece);
      if (alone || parts.empty() || isGatheredVector(parts.back().pieces[0]))
        parts.push_back(Part{{}, row, 0, false});
      Part &part = parts.back();
      part.pieces.push_back(piece);
      part.rows += width;
      part.hasField |= !isGlobal(piece);
      row += width;
    }
    int64_t columns = matrixType.getDimSize(1);
    Type element = matrixType.getElementType();
    auto resultType = dyn_cast<FieldType>(op.getType());
    if (row != matrixType.getDimSize(0) || !resultType ||
        resultType.getShape() != ArrayRef<int64_t>{columns} ||
        resultType.getElementType() != element)
      return failure();
    if (llvm::any_of(parts, [](const Part &part) { return !part.hasField; }))
      return rewriter.notifyMatchFailure(op, "a run of globals only");

    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    Value sum;
    AffineExpr d0 = getAffineDimExpr(0, context),
               d1 = getAffineDimExpr(1, context);
    for (const Part &part : parts) {
      Value input =
          part.pieces.size() == 1
              ? gatherLast(rewriter, loc, part.pieces[0])
              : ConcatOp::create(rewriter, loc, part.pieces).getResult();
      Value term;
      if (getFeatureShape(input.getType()).empty()) {
        // A scalar times row `firstRow` of W.
        Value matrixRow = ReindexOp::create(
            rewriter, loc, RankedTensorType::get({columns}, element), matrix,
            ValueRange{},
            AffineMapAttr::get(AffineMap::get(
                1, 0, {getAffineConstantExpr(part.firstRow, context), d0},
                context)));
        term =
            ContractOp::create(rewriter, loc, ",j->j",
                               ValueRange{input, matrixRow}, ContractKind::sum);
      } else {
        // The vector times rows [firstRow, firstRow + rows) of W.
        Value rows = ReindexOp::create(
            rewriter, loc, RankedTensorType::get({part.rows, columns}, element),
            matrix, ValueRange{},
            AffineMapAttr::get(
                AffineMap::get(2, 0, {d0 + part.firstRow, d1}, context)));
        term = ContractOp::create(rewriter, loc, op.getSpec(),
                                  ValueRange{input, rows}, ContractKind::sum);
      }
      sum = sum ? BinaryOp::create(rewriter, loc, BinaryFn::add, sum, term)
                      .getResult()
                : term;
    }
    rewriter.replaceOp(op, sum);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Contractions of three or more operands
//===----------------------------------------------------------------------===//

/// A sum-contraction of n >= 3 operands as n - 1 contractions of two, in
/// the order that a greedy search finds cheapest (at each step the pair
/// whose letters span the fewest index combinations; a letter survives a
/// step while a later operand or the output still names it), where that is
/// cheaper than the one loop nest over every letter that the kernel
/// emitter writes for it. A sheaf Laplacian's off-diagonal block
/// S_i F_ij^T F_ji S_j ("ab,kb,kc,cd->ad", stalks of 3) costs 3 x 27
/// multiplications instead of 3 x 243; W1 x W2 ("ab,bf,fg->ag", 3 x 4
/// features) 84 instead of 288. Every intermediate pairs a field with
/// something (a contraction of globals alone is no kernel's work). Only
/// sums: a maximum of products does not split so.
struct DecomposeContraction : public OpRewritePattern<ContractOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ContractOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getKind() != ContractKind::sum || op.getInputs().size() < 3)
      return failure();
    ContractSpec spec = op.getContractSpec();
    auto combinations = [&](StringRef letters) {
      int64_t count = 1;
      std::string seen;
      for (char letter : letters)
        if (seen.find(letter) == std::string::npos) {
          seen.push_back(letter);
          count *= spec.size(letter);
        }
      return count;
    };

    struct Operand {
      Value value; ///< null while the order is being priced
      std::string subscript;
      bool field;
    };
    SmallVector<Operand> operands;
    std::string all;
    for (auto [value, subscript] : llvm::zip(op.getInputs(), spec.inputs)) {
      operands.push_back({value, subscript, !isGlobal(value)});
      all += subscript;
    }
    // The emitter's loop nest: every combination of letters, n - 1
    // multiplications each.
    int64_t nestCost = combinations(all) * int64_t(operands.size() - 1);

    // Operands i and j of `list` replaced by their contraction `value`,
    // which keeps the letters a later operand or the output needs (in order
    // of appearance); returns its subscript.
    auto merge = [&](SmallVectorImpl<Operand> &list, size_t i, size_t j,
                     Value value) {
      std::string kept;
      for (char letter : list[i].subscript + list[j].subscript) {
        if (kept.find(letter) != std::string::npos)
          continue;
        bool needed = spec.output.find(letter) != std::string::npos;
        for (size_t k = 0; k < list.size() && !needed; ++k)
          needed = k != i && k != j &&
                   list[k].subscript.find(letter) != std::string::npos;
        if (needed)
          kept.push_back(letter);
      }
      list[i] = {value, kept, true};
      list.erase(list.begin() + j);
      return kept;
    };

    // The greedy order, priced on the subscripts before anything is built.
    SmallVector<std::pair<size_t, size_t>> steps;
    SmallVector<Operand> plan = operands;
    int64_t pairCost = 0;
    while (plan.size() > 2) {
      std::optional<std::pair<size_t, size_t>> best;
      int64_t bestCost = 0;
      for (size_t i = 0; i < plan.size(); ++i)
        for (size_t j = i + 1; j < plan.size(); ++j) {
          if (!plan[i].field && !plan[j].field)
            continue;
          int64_t cost = combinations(plan[i].subscript + plan[j].subscript);
          if (!best || cost < bestCost) {
            best = {i, j};
            bestCost = cost;
          }
        }
      if (!best)
        return failure(); // no field among the operands: not verified
      pairCost += bestCost;
      steps.push_back(*best);
      merge(plan, best->first, best->second, Value());
    }
    pairCost += combinations(plan[0].subscript + plan[1].subscript);
    if (pairCost >= nestCost)
      return failure();

    Location loc = op.getLoc();
    for (auto [i, j] : steps) {
      std::string lhs = operands[i].subscript, rhs = operands[j].subscript;
      Value lhsValue = operands[i].value, rhsValue = operands[j].value;
      // The subscript is known before the op: merge computes it from the
      // letters alone; the value is set right after.
      std::string kept = merge(operands, i, j, Value());
      operands[i].value =
          ContractOp::create(rewriter, loc, lhs + "," + rhs + "->" + kept,
                             ValueRange{lhsValue, rhsValue}, ContractKind::sum);
    }
    rewriter.replaceOpWithNewOp<ContractOp>(
        op,
        operands[0].subscript + "," + operands[1].subscript + "->" +
            spec.output,
        ValueRange{operands[0].value, operands[1].value}, ContractKind::sum);
    return success();
  }
};

struct SimplifyGraphCalculusPass
    : public grade::impl::SimplifyGraphCalculusBase<
          SimplifyGraphCalculusPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns
        .add<DecomposeLinearReduce, HoistDstGather<UnaryOp>,
             HoistDstGather<BinaryOp>, HoistDstGather<ContractOp>,
             HoistSrcMatrixProduct, SplitConcatProduct, DecomposeContraction>(
            &getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
