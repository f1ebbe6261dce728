//===- ExpandSoftmax.cpp - edge softmax into reductions -------------------===//
//
// softmax over in-edges = exp(s - max) / sum exp(s - max), with max and sum
// taken over each node's in-edges. Shifting by the maximum keeps exp from
// overflowing; the shift cancels in the ratio.
//
//===----------------------------------------------------------------------===//

#include "dialects/Grade/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

#define DEBUG_TYPE "grade-expand-softmax"

namespace grade {
#define GEN_PASS_DEF_EXPANDSOFTMAX
#include "dialects/Grade/Transforms/Passes.h.inc"
} // namespace grade

using namespace mlir;
using namespace grade;

namespace {

struct ExpandSoftmaxPass
    : public grade::impl::ExpandSoftmaxBase<ExpandSoftmaxPass> {
  void runOnOperation() override {
    SmallVector<SoftmaxOp> softmaxes;
    getOperation().walk([&](SoftmaxOp op) { softmaxes.push_back(op); });
    for (SoftmaxOp op : softmaxes) {
      OpBuilder builder(op);
      Location loc = op.getLoc();
      Value graph = op.getGraph(), scores = op.getInput();
      Value max =
          ReduceOp::create(builder, loc, ReduceKind::max, graph, scores);
      Value maxAtDst =
          GatherOp::create(builder, loc, GatherEnd::dst, graph, max);
      Value shifted =
          BinaryOp::create(builder, loc, BinaryFn::sub, scores, maxAtDst);
      Value exps = UnaryOp::create(builder, loc, UnaryFn::exp, shifted);
      Value sum = ReduceOp::create(builder, loc, ReduceKind::sum, graph, exps);
      Value sumAtDst =
          GatherOp::create(builder, loc, GatherEnd::dst, graph, sum);
      Value result =
          BinaryOp::create(builder, loc, BinaryFn::div, exps, sumAtDst);
      op.replaceAllUsesWith(result);
      op.erase();
    }
  }
};

} // namespace
