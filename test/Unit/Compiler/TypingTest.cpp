//===- TypingTest.cpp - one source of typing truth ------------------------===//
//
// The typing rules of the grade value ops live in the dialect
// (GradeTyping.h). These tests hold the three users to them:
//  - an op built with type inference gets the rule's result type, and an
//    ill-typed one fails with the rule's reason at the op's location;
//  - the verifier of an op written with the wrong types reports the same
//    reason;
//  - Sema accepts exactly the operand types the dialect accepts, with the
//    dialect's result type, over a grid of kinds, shapes and element types.
//
//===----------------------------------------------------------------------===//

#include "compiler/Frontend/Frontend.h"
#include "compiler/Sema/Sema.h"
#include "dialects/Grade/IR/GradeOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace mlir;
using namespace grade;

namespace {

class TypingTest : public ::testing::Test {
protected:
  TypingTest() : builder(&context) {
    context.getOrLoadDialect<GradeDialect>();
    context.getOrLoadDialect<arith::ArithDialect>();
    handler.emplace(&context, [this](Diagnostic &diagnostic) {
      messages.push_back(diagnostic.str());
      return success();
    });
    module = ModuleOp::create(builder.getUnknownLoc());
    builder.setInsertionPointToEnd(module->getBody());
  }

  FieldType field(FieldKind kind, ArrayRef<int64_t> shape, Type elem) {
    return FieldType::get(&context, kind, shape, elem);
  }

  /// A value of type `type` without a meaningful definition (an unrealized
  /// cast of nothing), enough to build and verify an op on it.
  Value valueOf(Type type) {
    return UnrealizedConversionCastOp::create(builder, builder.getUnknownLoc(),
                                              type, ValueRange())
        .getResult(0);
  }

  MLIRContext context;
  OpBuilder builder;
  OwningOpRef<ModuleOp> module;
  std::optional<ScopedDiagnosticHandler> handler;
  std::vector<std::string> messages;
};

TEST_F(TypingTest, InferredBuilderGivesTheRulesType) {
  Type f32 = builder.getF32Type();
  Value edges = valueOf(field(FieldKind::edge, {4}, f32));
  Value scale = valueOf(field(FieldKind::edge, {}, f32));
  auto product = BinaryOp::create(builder, builder.getUnknownLoc(),
                                  BinaryFn::mul, scale, edges);
  EXPECT_EQ(product.getType(), field(FieldKind::edge, {4}, f32));
  auto bias = valueOf(RankedTensorType::get({4}, f32));
  auto sum = BinaryOp::create(builder, builder.getUnknownLoc(), BinaryFn::add,
                              product, bias);
  EXPECT_EQ(sum.getType(), field(FieldKind::edge, {4}, f32));
  auto total = ReduceAllOp::create(builder, builder.getUnknownLoc(),
                                   ReduceAllKind::sum, sum);
  EXPECT_EQ(total.getType(), RankedTensorType::get({4}, f32));
  Value matrix = valueOf(RankedTensorType::get({4, 2}, f32));
  auto mapped = ContractOp::create(builder, builder.getUnknownLoc(), "i,ij->j",
                                   ValueRange{sum, matrix});
  EXPECT_EQ(mapped.getType(), field(FieldKind::edge, {2}, f32));
  EXPECT_TRUE(messages.empty());
}

TEST_F(TypingTest, InferenceOfAnIllTypedOpFailsWithTheRulesReason) {
  Type f32 = builder.getF32Type(), f64 = builder.getF64Type();
  Value a = valueOf(field(FieldKind::node, {4}, f64));
  Value b = valueOf(field(FieldKind::node, {4}, f32));

  TypeError error;
  ASSERT_TRUE(failed(inferBinaryType(a.getType(), b.getType(), &error)));
  EXPECT_EQ(error.rule, TypeRule::ElementMismatch);
  EXPECT_EQ(error.message, "element types differ: f64 and f32");

  // What BinaryOp::create(builder, loc, fn, a, b) asks before it builds.
  OperationState state(builder.getUnknownLoc(), BinaryOp::getOperationName());
  state.addOperands({a, b});
  state.getOrAddProperties<BinaryOp::Properties>().fn =
      BinaryFnAttr::get(&context, BinaryFn::add);
  SmallVector<Type> types;
  Location loc = FileLineColLoc::get(&context, "model.grade", 3, 7);
  EXPECT_TRUE(failed(BinaryOp::inferReturnTypes(
      &context, loc, state.operands, state.attributes.getDictionary(&context),
      state.getRawProperties(), state.regions, types)));
  EXPECT_TRUE(types.empty());
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], "'grade.binary' op element types differ: f64 and f32");
}

TEST_F(TypingTest, VerifierReportsTheSameReasonAsInference) {
  Type f64 = builder.getF64Type();
  struct Case {
    Value lhs, rhs;
    TypeRule rule;
  };
  Value node = valueOf(field(FieldKind::node, {3}, f64));
  Value edge = valueOf(field(FieldKind::edge, {3}, f64));
  Value other = valueOf(field(FieldKind::node, {2}, f64));
  Value matrix = valueOf(RankedTensorType::get({3, 3}, f64));
  Value scalarNode = valueOf(field(FieldKind::node, {}, f64));
  for (auto [lhs, rhs, rule] :
       {Case{node, edge, TypeRule::KindMismatch},
        Case{node, other, TypeRule::ShapeMismatch},
        Case{matrix, scalarNode, TypeRule::MatrixBroadcast}}) {
    TypeError error;
    ASSERT_TRUE(failed(inferBinaryType(lhs.getType(), rhs.getType(), &error)));
    EXPECT_EQ(error.rule, rule);
    // The op written by hand with some result type: the verifier rejects
    // it with the rule's message.
    messages.clear();
    auto op = BinaryOp::create(builder, builder.getUnknownLoc(), lhs.getType(),
                               BinaryFn::add, lhs, rhs);
    EXPECT_TRUE(failed(verify(op)));
    ASSERT_FALSE(messages.empty());
    EXPECT_EQ(messages[0], "'grade.binary' op " + error.message);
    op->erase();
  }
}

TEST_F(TypingTest, GatherAndReduceRulesAreTheVerifiers) {
  Type f64 = builder.getF64Type();
  Value graph = valueOf(grade::GraphType::get(&context));
  Value edge = valueOf(field(FieldKind::edge, {2}, f64));
  messages.clear();
  auto gather = GatherOp::create(builder, builder.getUnknownLoc(),
                                 edge.getType(), GatherEnd::src, graph, edge);
  EXPECT_TRUE(failed(verify(gather)));
  ASSERT_FALSE(messages.empty());
  EXPECT_EQ(messages[0], "'grade.gather' op operand must be a node field, got "
                         "'!grade.field<edge, 2xf64>'");
  gather->erase();

  auto reduce = ReduceOp::create(builder, builder.getUnknownLoc(),
                                 ReduceKind::sum, graph, edge, /*out=*/true);
  EXPECT_EQ(reduce.getType(), field(FieldKind::node, {2}, f64));
}

//===----------------------------------------------------------------------===//
// Sema agrees with the dialect
//===----------------------------------------------------------------------===//

/// A type both as a model file writes it and as the dialect sees it.
struct Spelled {
  std::string source; ///< "node f64[3]", "f32[3, 3]"
  Type type;
};

/// Sema's verdict on `let r = a OP b;` for declared `a` and `b`: the type
/// it gives r (as the dialect type), or null with `error` set.
Type semaType(MLIRContext &context, const std::string &a, const std::string &b,
              const std::string &op, std::string &error) {
  std::string source = "model m {\n"
                       "  graph G;\n"
                       "  input a : " +
                       a +
                       ";\n"
                       "  input b : " +
                       b +
                       ";\n"
                       "  input x0 : node f64;\n"
                       "  let r = " +
                       op +
                       ";\n"
                       "  state x : node f64 = x0;\n"
                       "  rhs dx/dt = x;\n"
                       "  solve euler(dt = 0.1) over [0, 1];\n"
                       "}\n";
  llvm::SourceMgr sourceMgr;
  unsigned id = sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(source, "grid.grade"),
      llvm::SMLoc());
  error.clear();
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diagnostic) {
    if (diagnostic.getSeverity() == DiagnosticSeverity::Error)
      error += diagnostic.str();
    return success();
  });
  std::unique_ptr<ast::Model> ast = parseModel(sourceMgr, id, &context);
  if (!ast) {
    error = "parse error: " + error;
    return {};
  }
  std::unique_ptr<sema::Model> model = sema::analyze(*ast, &context);
  if (!model)
    return {};
  const sema::Type &type = model->getDecl("r").type;
  Builder builder(&context);
  Type elem = type.elem == sema::Elem::F32 ? builder.getF32Type()
                                           : builder.getF64Type();
  return makeValueType(type.kind, type.shape, elem);
}

TEST(SemaTypingTest, SemaAcceptsExactlyWhatTheDialectAccepts) {
  MLIRContext context;
  context.getOrLoadDialect<GradeDialect>();
  Builder builder(&context);
  std::vector<Spelled> types;
  for (auto [elemName, elem] :
       {std::pair<std::string, Type>("f32", builder.getF32Type()),
        {"f64", builder.getF64Type()}})
    for (auto [shapeName, shape] :
         {std::pair<std::string, std::vector<int64_t>>("", {}),
          {"[3]", {3}},
          {"[4]", {4}},
          {"[3, 3]", {3, 3}}}) {
      types.push_back({"node " + elemName + shapeName,
                       makeValueType(FieldKind::node, shape, elem)});
      types.push_back({"edge " + elemName + shapeName,
                       makeValueType(FieldKind::edge, shape, elem)});
      types.push_back(
          {elemName + shapeName, makeValueType(std::nullopt, shape, elem)});
    }
  struct Rule {
    std::string op;
    FailureOr<Type> (*infer)(Type, Type, TypeError *);
  };
  unsigned accepted = 0, rejected = 0;
  // einsum("spec", a, b) is grade.contract's rule for that spec.
#define CONTRACT_RULE(spec)                                                    \
  Rule {                                                                       \
    "einsum(\"" spec "\", a, b)", +[](Type a, Type b, TypeError *error) {     \
      Type operands[] = {a, b};                                                \
      return inferContractType(spec, operands, error);                         \
    }                                                                          \
  }
  for (const Rule &rule :
       {Rule{"a * b", inferBinaryType}, Rule{"max(a, b)", inferBinaryType},
        Rule{"a . b", inferDotType}, Rule{"a @ b", inferMatmulType},
        CONTRACT_RULE("i,i->"), CONTRACT_RULE("ij,j->i"),
        CONTRACT_RULE("i,j->ij"), CONTRACT_RULE(",i->i")})
    for (const Spelled &a : types)
      for (const Spelled &b : types) {
        std::string error;
        Type sema = semaType(context, a.source, b.source, rule.op, error);
        ASSERT_EQ(error.rfind("parse error", 0), std::string::npos) << error;
        FailureOr<Type> dialect = rule.infer(a.type, b.type, nullptr);
        SCOPED_TRACE(rule.op + " with a : " + a.source + ", b : " + b.source);
        if (succeeded(dialect)) {
          ++accepted;
          EXPECT_TRUE(sema) << error;
          EXPECT_EQ(sema, *dialect);
        } else {
          ++rejected;
          EXPECT_FALSE(sema);
          EXPECT_FALSE(error.empty());
        }
      }
#undef CONTRACT_RULE
  // The grid exercises both verdicts of every rule.
  EXPECT_GT(accepted, 100u);
  EXPECT_GT(rejected, 100u);
}

} // namespace
