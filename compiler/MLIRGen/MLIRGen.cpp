//===- MLIRGen.cpp - grade AST to the grade dialect -----------------------===//
//
// Element types: sema leaves numbers, `degree` and `t` abstract; here every
// expression is emitted with a hint, the element type its context needs
// (the declared type of the let or state it defines, or the concrete type of
// the other operand), and abstract values take the hint (f64 without one).
//
//===----------------------------------------------------------------------===//

#include "compiler/MLIRGen/MLIRGen.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <map>

using namespace mlir;
using namespace grade;
using sema::Elem;

namespace {

/// Which region an expression is emitted into.
enum class RegionKind { Init, Rhs, Readout };

class Generator {
public:
  Generator(const sema::Model &model, MLIRContext &context)
      : model(model), context(context), builder(&context),
        file(model.getAST().getFile().str()) {}

  /// The `lie` clause as an attribute of the model.
  LieAttr getLieAttr(const sema::LieClause &lie) {
    SmallVector<Attribute> transforms;
    for (const sema::LieClause::Transform &transform : lie.transforms)
      transforms.push_back(builder.getDictionaryAttr({
          builder.getNamedAttr("name", builder.getStringAttr(transform.name)),
          builder.getNamedAttr("spelling",
                               builder.getStringAttr(transform.spelling)),
          builder.getNamedAttr("x", builder.getDenseF64ArrayAttr(transform.x)),
          builder.getNamedAttr("t", builder.getDenseF64ArrayAttr(transform.t)),
          builder.getNamedAttr("u", builder.getDenseF64ArrayAttr(transform.u)),
      }));
    Attribute period =
        lie.periodParam.empty()
            ? Attribute(builder.getF64FloatAttr(lie.period))
            : Attribute(FlatSymbolRefAttr::get(&context, lie.periodParam));
    return LieAttr::get(&context, FlatSymbolRefAttr::get(&context, lie.state),
                        period, builder.getArrayAttr(transforms));
  }

  OwningOpRef<ModuleOp> run() {
    const ast::Model &ast = model.getAST();
    OwningOpRef<ModuleOp> module = ModuleOp::create(loc(ast.getRange().begin));
    builder.setInsertionPointToEnd(module->getBody());
    auto modelOp = ModelOp::create(builder, loc(ast.getRange().begin),
                                   ast.getName());
    modelOp.setSourceAttr(builder.getStringAttr(file));
    if (!model.getSymmetry().isTrivial())
      modelOp.setSymmetryAttr(
          getSymmetryAttr(&context, model.getSymmetry()));
    if (const sema::LieClause *lie = model.getLie())
      modelOp.setLieAttr(getLieAttr(*lie));
    builder.setInsertionPointToEnd(&modelOp.getBody().front());
    emitDecls();
    emitInit();
    emitRhs();
    emitReadout();
    emitSolve();
    if (failed(verify(*module)))
      return nullptr;
    return module;
  }

private:
  Location loc(ast::SourceLoc at) {
    return FileLineColLoc::get(&context, file, at.line, at.col);
  }

  mlir::Type elemType(Elem elem, mlir::Type hint = {}) {
    switch (elem) {
    case Elem::F32:
      return builder.getF32Type();
    case Elem::F64:
      return builder.getF64Type();
    case Elem::Abstract:
      return hint ? hint : builder.getF64Type();
    }
    llvm_unreachable("unknown element type");
  }

  mlir::Type convert(const sema::Type &type, mlir::Type hint = {}) {
    return makeValueType(type.kind, type.shape, elemType(type.elem, hint));
  }

  //===--------------------------------------------------------------------===//
  // Structure
  //===--------------------------------------------------------------------===//

  void emitDecls() {
    const ast::GraphDecl &graph = model.getGraph();
    auto graphOp = GraphOp::create(builder, loc(graph.getLoc()),
                                   graph.getName(), TypeAttr(), TypeAttr(),
                                   StringAttr());
    if (const auto &graphDefault = graph.getDefault()) {
      std::string spec = graphDefault->points.empty()
                             ? "gen:" + graphDefault->spec
                             : "points:" + graphDefault->points + ":" +
                                   graphDefault->spec;
      if (graphDefault->isFile) {
        // Relative to the model file (to the working directory for a model
        // read from stdin), stored absolute: the library may be run from
        // anywhere.
        llvm::SmallString<256> path(graphDefault->spec);
        if (!llvm::sys::path::is_absolute(path) && file != "-" &&
            file != "<stdin>")
          path = (llvm::sys::path::parent_path(file) + "/" +
                  graphDefault->spec).str();
        llvm::sys::fs::make_absolute(path);
        llvm::sys::path::remove_dots(path, /*remove_dot_dot=*/true);
        spec = path.str().str();
      }
      graphOp.setDefaultGraphAttr(builder.getStringAttr(spec));
    }
    if (std::optional<Elem> weight = model.getWeightElem())
      graphOp.setWeightTypeAttr(TypeAttr::get(elemType(*weight)));
    for (const std::string &name : model.getOrder()) {
      const sema::DeclInfo &info = model.getDecl(name);
      grade::Role role;
      switch (info.role) {
      case sema::Role::Input:
        role = grade::Role::input;
        break;
      case sema::Role::Param:
        role = grade::Role::param;
        break;
      case sema::Role::State:
        role = grade::Role::state;
        break;
      case sema::Role::Let:
        if (!info.stored)
          continue;
        role = grade::Role::let;
        break;
      case sema::Role::Readout:
        role = grade::Role::readout;
        break;
      }
      auto decl =
          DeclOp::create(builder, loc(info.decl->getNameRange().begin), role,
                         name, convert(info.type), info.output, /*of=*/nullptr);
      if (auto *field = llvm::dyn_cast<ast::FieldDecl>(info.decl))
        if (std::optional<double> value = field->getDefault())
          decl.setDefaultValueAttr(builder.getF64FloatAttr(*value));
      if (const Law *law = model.getLaw(name))
        decl.setLawAttr(getLawAttr(&context, *law));
    }
  }

  /// Creates a region op's single block with a graph argument and
  /// `numScalars` f64 arguments; returns the block.
  template <typename OpTy>
  Block *createRegionOp(Location location, ArrayRef<std::string> targets,
                        unsigned numScalars) {
    SmallVector<Attribute> refs;
    for (const std::string &target : targets)
      refs.push_back(FlatSymbolRefAttr::get(&context, target));
    auto op = OpTy::create(builder, location, builder.getArrayAttr(refs));
    Block *block = &op.getBody().emplaceBlock();
    block->addArgument(grade::GraphType::get(&context), location);
    for (unsigned i = 0; i < numScalars; ++i)
      block->addArgument(builder.getF64Type(), location);
    return block;
  }

  void emitInit() {
    std::vector<std::string> targets;
    std::vector<std::pair<const ast::Expr *, const sema::Type *>> values;
    for (const std::string &name : model.getOrder()) {
      const sema::DeclInfo &info = model.getDecl(name);
      if (info.role == sema::Role::Let && info.stored) {
        targets.push_back(name);
        values.push_back({&llvm::cast<ast::LetDecl>(*info.decl).getValue(),
                          &info.type});
      }
    }
    // A velocity without an initial value starts at zero: 0 * x(0).
    std::vector<bool> zero(values.size(), false);
    for (const std::string &name : model.getOrder()) {
      const sema::DeclInfo &info = model.getDecl(name);
      if (info.role == sema::Role::State) {
        auto &decl = llvm::cast<ast::StateDecl>(*info.decl);
        const ast::Expr *init = &decl.getInit();
        if (!info.position.empty() && decl.getVelocityInit())
          init = decl.getVelocityInit();
        targets.push_back(name);
        values.push_back({init, &info.type});
        zero.push_back(!info.position.empty() && !decl.getVelocityInit());
      }
    }
    OpBuilder::InsertionGuard guard(builder);
    Block *block =
        createRegionOp<InitOp>(loc(model.getAST().getRange().begin), targets, 0);
    builder.setInsertionPointToEnd(block);
    beginRegion(RegionKind::Init, block);
    SmallVector<Value> results;
    for (auto [index, value] : llvm::enumerate(values)) {
      auto [expr, type] = value;
      mlir::Type elem = elemType(type->elem);
      Value result = emit(*expr, elem);
      if (zero[index]) {
        Location at = loc(expr->getLoc());
        result = BinaryOp::create(
            builder, at, BinaryFn::mul,
            arith::ConstantOp::create(builder, at, elem,
                                      builder.getFloatAttr(elem, 0)),
            result);
      }
      results.push_back(result);
    }
    YieldOp::create(builder, loc(model.getAST().getRange().begin), results);
  }

  /// The whole right-hand side, and where some state's is split into an
  /// explicit and an implicit part, one region per part (every state
  /// assigned, 0 where it has no such part; a whole one counts as
  /// explicit). grade-expand-scheme keeps the parts for an IMEX scheme only.
  void emitRhs() {
    std::vector<std::string> targets;
    std::vector<std::pair<std::string, const sema::DeclInfo *>> states;
    bool split = false;
    for (const std::string &name : model.getOrder()) {
      const sema::DeclInfo &info = model.getDecl(name);
      if (info.role == sema::Role::State) {
        targets.push_back(name);
        states.push_back({name, &info});
        split |= info.isSplit();
      }
    }
    // The first right-hand side declared (a second-order state's is its
    // velocity's).
    auto firstOf = [&](const sema::DeclInfo *state) {
      return state->velocity.empty()
                 ? state->firstRhs()
                 : model.getDecl(state->velocity).firstRhs();
    };
    ast::SourceLoc first = firstOf(states.front().second)->getLoc();
    using Part = std::optional<ast::RhsPart>;
    for (Part part : split ? std::vector<Part>{std::nullopt,
                                               ast::RhsPart::Explicit,
                                               ast::RhsPart::Implicit}
                           : std::vector<Part>{std::nullopt}) {
      OpBuilder::InsertionGuard guard(builder);
      Block *block = createRegionOp<RhsOp>(loc(first), targets, 1);
      if (part)
        cast<RhsOp>(block->getParentOp())
            .setPart(*part == ast::RhsPart::Explicit ? RhsPart::ExplicitPart
                                                     : RhsPart::ImplicitPart);
      builder.setInsertionPointToEnd(block);
      beginRegion(RegionKind::Rhs, block);
      SmallVector<Value> results;
      for (auto [name, state] : states) {
        mlir::Type elem = elemType(state->type.elem);
        // The declarations this region sums for the state.
        SmallVector<const ast::RhsDecl *, 2> terms;
        if (!part || *part == ast::RhsPart::Explicit)
          terms.push_back(state->rhs);
        if (!part || *part == ast::RhsPart::Explicit)
          terms.push_back(state->explicitPart);
        if (!part || *part == ast::RhsPart::Implicit)
          terms.push_back(state->implicitPart);
        Value sum;
        // A second-order state's derivative is its velocity (an explicit
        // term for IMEX schemes).
        if (!state->velocity.empty() &&
            (!part || *part == ast::RhsPart::Explicit)) {
          const sema::DeclInfo &velocity = model.getDecl(state->velocity);
          sum = LoadOp::create(builder, loc(firstOf(state)->getLoc()),
                               convert(velocity.type), state->velocity);
        }
        for (const ast::RhsDecl *term : terms) {
          if (!term)
            continue;
          Value value = emit(term->getValue(), elem);
          sum = sum ? BinaryOp::create(builder, loc(term->getLoc()),
                                       BinaryFn::add, sum, value)
                    : value;
        }
        if (!sum) {
          // No such part: 0 * x, the state's type without a new op.
          Location at = loc(state->decl->getNameRange().begin);
          Value zero = arith::ConstantOp::create(builder, at, elem,
                                                 builder.getFloatAttr(elem, 0));
          Value x = LoadOp::create(builder, at, convert(state->type), name);
          sum = BinaryOp::create(builder, at, BinaryFn::mul, zero, x);
        }
        results.push_back(sum);
      }
      YieldOp::create(builder, loc(first), results);
    }
  }

  /// The readouts, in declaration order, from the states at time %t.
  void emitReadout() {
    std::vector<std::string> targets;
    std::vector<const sema::DeclInfo *> readouts;
    for (const std::string &name : model.getOrder()) {
      const sema::DeclInfo &info = model.getDecl(name);
      if (info.role == sema::Role::Readout) {
        targets.push_back(name);
        readouts.push_back(&info);
      }
    }
    if (targets.empty())
      return;
    OpBuilder::InsertionGuard guard(builder);
    Location at = loc(readouts.front()->decl->getLoc());
    Block *block = createRegionOp<ReadoutOp>(at, targets, 1);
    builder.setInsertionPointToEnd(block);
    beginRegion(RegionKind::Readout, block);
    SmallVector<Value> results;
    for (auto [name, info] : llvm::zip(targets, readouts))
      results.push_back(emitDeclValue(name, *info, elemType(info->type.elem),
                                      loc(info->decl->getLoc())));
    YieldOp::create(builder, at, results);
  }

  void emitSolve() {
    const ast::SolveDecl &solve = model.getSolve();
    auto tolerance = [&](std::optional<double> value) {
      return value ? builder.getF64FloatAttr(*value) : FloatAttr();
    };
    DictionaryAttr own;
    if (!model.getStateTolerances().empty()) {
      SmallVector<NamedAttribute> entries;
      for (const auto &[state, pair] : model.getStateTolerances())
        entries.push_back(builder.getNamedAttr(
            state, builder.getDenseF64ArrayAttr({pair.first, pair.second})));
      own = builder.getDictionaryAttr(entries);
    }
    SolveOp::create(builder, loc(solve.getLoc()), model.getScheme(),
                    builder.getF64FloatAttr(model.getDt()),
                    builder.getF64FloatAttr(solve.getT0()),
                    builder.getF64FloatAttr(solve.getT1()),
                    tolerance(model.getRtol()), tolerance(model.getAtol()),
                    own);
  }

  //===--------------------------------------------------------------------===//
  // Expressions
  //===--------------------------------------------------------------------===//

  void beginRegion(RegionKind kind, Block *block) {
    region = kind;
    graphArg = block->getArgument(0);
    timeArg = kind != RegionKind::Init ? block->getArgument(1) : Value();
    memo.clear();
  }

  /// Emits `expr` with element type `hint` for its abstract parts.
  Value emit(const ast::Expr &expr, mlir::Type hint) {
    const sema::Type &type = model.typeOf(expr);
    mlir::Type elem = elemType(type.elem, hint);
    Location location = loc(expr.getLoc());
    return llvm::TypeSwitch<const ast::Expr *, Value>(&expr)
        .Case<ast::NumberExpr>([&](const ast::NumberExpr *number) -> Value {
          return arith::ConstantOp::create(
              builder, location, elem,
              builder.getFloatAttr(elem, number->getValue()));
        })
        .Case<ast::NameExpr>([&](const ast::NameExpr *name) {
          return emitName(*name, elem, location);
        })
        .Case<ast::IndexExpr>([&](const ast::IndexExpr *index) -> Value {
          Value base = emit(index->getBase(), elem);
          GatherEnd end = index->getEnd() == ast::EdgeEnd::Src ? GatherEnd::src
                                                                : GatherEnd::dst;
          return GatherOp::create(builder, location, end, graphArg, base);
        })
        .Case<ast::NegExpr>([&](const ast::NegExpr *neg) -> Value {
          return UnaryOp::create(builder, location, UnaryFn::neg,
                                 emit(neg->getOperand(), elem));
        })
        .Case<ast::BinaryExpr>([&](const ast::BinaryExpr *binary) {
          return emitBinary(*binary, elem);
        })
        .Case<ast::CallExpr>([&](const ast::CallExpr *call) {
          return emitCall(*call, elem, location);
        });
  }

  /// The value of a declaration in the current region.
  Value emitDeclValue(llvm::StringRef name, const sema::DeclInfo &info,
                      mlir::Type elem, Location location) {
    // Memoised per element type: an abstract global let may be used in
    // f32 and f64 contexts alike.
    auto key = std::make_pair(name.str(), elem);
    auto it = memo.find(key);
    if (it != memo.end())
      return it->second;
    Value value;
    // Lets are loaded where init stored them (outside init), readouts
    // are always computed from their expression (in the readout region,
    // the only one that may read them).
    bool load = info.role == sema::Role::Let
                    ? info.stored && region != RegionKind::Init
                    : info.role != sema::Role::Readout;
    if (load)
      value = LoadOp::create(builder, location, convert(info.type), name);
    else
      value = emit(llvm::cast<ast::LetDecl>(*info.decl).getValue(),
                   elemType(info.type.elem, elem));
    memo[key] = value;
    return value;
  }

  Value emitName(const ast::NameExpr &expr, mlir::Type elem,
                 Location location) {
    llvm::StringRef name = expr.getName();
    if (const sema::DeclInfo *info = model.lookup(name))
      return emitDeclValue(name, *info, elem, location);
    if (name == "t") {
      if (elem.isF64())
        return timeArg;
      return arith::TruncFOp::create(builder, location, elem, timeArg);
    }
    if (name == "N" || name == "E") {
      auto size = GraphSizeOp::create(builder, location, elem, graphArg);
      if (name == "E")
        size.setEdges(true);
      return size;
    }
    if (name == "degree")
      return DegreeOp::create(
          builder, location,
          FieldType::get(&context, FieldKind::node, {}, elem), graphArg);
    assert(name == "weight" && "sema admitted an unknown name");
    return WeightOp::create(
        builder, location,
        FieldType::get(&context, FieldKind::edge, {},
                       elemType(*model.getWeightElem())),
        graphArg);
  }

  Value emitBinary(const ast::BinaryExpr &expr, mlir::Type elem) {
    Location location = loc(expr.getOpLoc());
    // `dx/dt`: the velocity state of a second-order x.
    if (const std::string *velocity = model.getVelocityRef(expr)) {
      auto key = std::make_pair(*velocity, elem);
      if (Value value = memo.count(key) ? memo[key] : Value())
        return value;
      return memo[key] = LoadOp::create(
                 builder, loc(expr.getLoc()),
                 convert(model.getDecl(*velocity).type), *velocity);
    }
    Value lhs = emit(expr.getLhs(), elem);
    Value rhs = emit(expr.getRhs(), elem);
    switch (expr.getOp()) {
    case ast::BinaryOp::Add:
      return BinaryOp::create(builder, location, BinaryFn::add, lhs, rhs);
    case ast::BinaryOp::Sub:
      return BinaryOp::create(builder, location, BinaryFn::sub, lhs, rhs);
    case ast::BinaryOp::Mul:
      return BinaryOp::create(builder, location, BinaryFn::mul, lhs, rhs);
    case ast::BinaryOp::Div:
      return BinaryOp::create(builder, location, BinaryFn::div, lhs, rhs);
    case ast::BinaryOp::Lt:
      return BinaryOp::create(builder, location, BinaryFn::lt, lhs, rhs);
    case ast::BinaryOp::Le:
      return BinaryOp::create(builder, location, BinaryFn::le, lhs, rhs);
    case ast::BinaryOp::Gt:
      return BinaryOp::create(builder, location, BinaryFn::gt, lhs, rhs);
    case ast::BinaryOp::Ge:
      return BinaryOp::create(builder, location, BinaryFn::ge, lhs, rhs);
    case ast::BinaryOp::Eq:
      return BinaryOp::create(builder, location, BinaryFn::eq, lhs, rhs);
    case ast::BinaryOp::Ne:
      return BinaryOp::create(builder, location, BinaryFn::ne, lhs, rhs);
    case ast::BinaryOp::MatMul:
      return ContractOp::create(builder, location, "i,ij->j",
                                ValueRange{lhs, rhs});
    case ast::BinaryOp::Dot:
      return ContractOp::create(builder, location, "i,i->",
                                ValueRange{lhs, rhs});
    }
    llvm_unreachable("unknown binary operator");
  }

  /// sum_features(a), mean_features(a), max_features(a), min_features(a):
  /// the contraction of all of a field's feature axes ("ab->"), the mean a
  /// sum times 1 / (number of features).
  Value emitFeatureReduction(StringRef callee, Value input,
                             Location location) {
    ArrayRef<int64_t> shape = getFeatureShape(input.getType());
    std::string spec;
    for (size_t axis = 0; axis < shape.size(); ++axis)
      spec.push_back(char('a' + axis));
    spec += "->";
    ContractKind kind = callee.starts_with("max_")   ? ContractKind::max
                        : callee.starts_with("min_") ? ContractKind::min
                                                     : ContractKind::sum;
    Value result = ContractOp::create(builder, location, spec, input, kind);
    if (!callee.starts_with("mean_"))
      return result;
    Type elem = getElementTypeOf(result.getType());
    Value count = arith::ConstantOp::create(
        builder, location, elem,
        builder.getFloatAttr(elem, 1.0 / double(getNumElements(shape))));
    return BinaryOp::create(builder, location, BinaryFn::mul, result, count);
  }

  /// take(v, i): slice i of v's first feature axis; a literal index is a
  /// constant of the map, any other a symbol (rounded down and clamped).
  Value emitTake(const ast::CallExpr &expr, mlir::Type elem,
                 Location location) {
    Value input = emit(*expr.getArgs()[0], elem);
    ArrayRef<int64_t> shape = getFeatureShape(input.getType());
    SmallVector<AffineExpr> results;
    SmallVector<Value> indices;
    if (std::optional<int64_t> index =
            sema::getIntegerLiteral(*expr.getArgs()[1])) {
      results.push_back(builder.getAffineConstantExpr(*index));
    } else {
      indices.push_back(emit(*expr.getArgs()[1], elem));
      results.push_back(builder.getAffineSymbolExpr(0));
    }
    for (size_t axis = 1; axis < shape.size(); ++axis)
      results.push_back(builder.getAffineDimExpr(axis - 1));
    auto map = AffineMap::get(shape.size() - 1, indices.size(), results,
                              &context);
    Type type = makeValueType(getFieldKind(input.getType()),
                              shape.drop_front(),
                              getElementTypeOf(input.getType()));
    return ReindexOp::create(builder, location, type, input, indices, map);
  }

  /// conv1d(v, W[, b], stride): PyTorch's Conv1d along the features of
  /// each row, the windows of v (a reindexing) contracted with W.
  Value emitConv1d(const ast::CallExpr &expr, mlir::Type elem,
                   Location location) {
    const std::vector<ast::ExprPtr> &args = expr.getArgs();
    Value input = emit(*args[0], elem);
    Value weights = emit(*args[1], elem);
    int64_t stride = *sema::getIntegerLiteral(*args.back());
    ArrayRef<int64_t> inShape = getFeatureShape(input.getType());
    ArrayRef<int64_t> wShape = getFeatureShape(weights.getType());
    int64_t channels = wShape[1], kernel = wShape[2];
    int64_t outLength = (inShape.back() - kernel) / stride + 1;
    Type elementType = getElementTypeOf(input.getType());
    std::optional<FieldKind> kind = getFieldKind(input.getType());
    // windows[c, l, k] = v[c, stride * l + k]
    AffineExpr c = builder.getAffineDimExpr(0), l = builder.getAffineDimExpr(1),
               k = builder.getAffineDimExpr(2);
    SmallVector<AffineExpr> results;
    if (inShape.size() == 2)
      results.push_back(c);
    results.push_back(l * stride + k);
    Value windows = ReindexOp::create(
        builder, location,
        makeValueType(kind, {channels, outLength, kernel}, elementType), input,
        ValueRange{}, AffineMap::get(3, 0, results, &context));
    Value result = ContractOp::create(builder, location, "ock,clk->ol",
                                      ValueRange{weights, windows});
    if (args.size() == 4) {
      // The bias of each output channel, broadcast along the positions.
      Value bias = emit(*args[2], elem);
      Value spread = ReindexOp::create(
          builder, location,
          makeValueType(std::nullopt, {wShape[0], outLength}, elementType),
          bias, ValueRange{}, AffineMap::get(2, 0, {c}, &context));
      result = BinaryOp::create(builder, location, BinaryFn::add, result,
                                spread);
    }
    return result;
  }

  /// reshape(v, d1, ...): the same features in row-major order, another
  /// shape: each input axis is the row-major flat index of the result,
  /// divided by the axis' stride, modulo its size.
  Value emitReshape(const ast::CallExpr &expr, mlir::Type elem,
                    Location location) {
    const std::vector<ast::ExprPtr> &args = expr.getArgs();
    Value input = emit(*args[0], elem);
    SmallVector<int64_t> shape;
    for (const ast::ExprPtr &arg : llvm::drop_begin(args))
      shape.push_back(*sema::getIntegerLiteral(*arg));
    ArrayRef<int64_t> inShape = getFeatureShape(input.getType());
    AffineExpr flat = builder.getAffineConstantExpr(0);
    int64_t stride = 1;
    for (int64_t axis = int64_t(shape.size()) - 1; axis >= 0; --axis) {
      flat = flat + builder.getAffineDimExpr(axis) * stride;
      stride *= shape[axis];
    }
    SmallVector<AffineExpr> results(inShape.size());
    stride = 1;
    for (int64_t axis = int64_t(inShape.size()) - 1; axis >= 0; --axis) {
      results[axis] = flat.floorDiv(stride) % inShape[axis];
      stride *= inShape[axis];
    }
    Type type = makeValueType(getFieldKind(input.getType()), shape,
                              getElementTypeOf(input.getType()));
    return ReindexOp::create(builder, location, type, input, ValueRange{},
                             AffineMap::get(shape.size(), 0, results,
                                            &context));
  }

  Value emitCall(const ast::CallExpr &expr, mlir::Type elem,
                 Location location) {
    llvm::StringRef callee = expr.getCallee();
    if (callee == "reshape")
      return emitReshape(expr, elem, location);
    if (callee == "eye") {
      int64_t size = *sema::getIntegerLiteral(*expr.getArgs()[0]);
      auto type = RankedTensorType::get({size, size}, elem);
      SmallVector<Attribute> values;
      for (int64_t row = 0; row < size; ++row)
        for (int64_t col = 0; col < size; ++col)
          values.push_back(builder.getFloatAttr(elem, row == col ? 1.0 : 0.0));
      return arith::ConstantOp::create(builder, location, type,
                                       DenseElementsAttr::get(type, values));
    }
    if (callee == "sym_pow")
      return SymPowOp::create(
          builder, location, emit(*expr.getArgs()[0], elem),
          builder.getF64FloatAttr(*sema::getNumberLiteral(*expr.getArgs()[1])));
    if (callee == "take")
      return emitTake(expr, elem, location);
    if (callee == "conv1d")
      return emitConv1d(expr, elem, location);
    SmallVector<Value> args;
    for (const ast::ExprPtr &arg : expr.getArgs())
      args.push_back(emit(*arg, elem));
    if (std::optional<UnaryFn> fn = symbolizeUnaryFn(callee))
      return UnaryOp::create(builder, location, *fn, args[0]);
    if (std::optional<BinaryFn> fn = symbolizeBinaryFn(callee))
      return BinaryOp::create(builder, location, *fn, args[0], args[1]);
    if (callee == "dot")
      return ContractOp::create(builder, location, "i,i->", args);
    if (callee == "einsum")
      return ContractOp::create(builder, location, *expr.getSpec(), args);
    if (callee == "einsum_max" || callee == "einsum_min")
      return ContractOp::create(builder, location, *expr.getSpec(), args,
                                callee == "einsum_max" ? ContractKind::max
                                                       : ContractKind::min);
    if (callee.ends_with("_features"))
      return emitFeatureReduction(callee, args[0], location);
    if (callee == "concat")
      return ConcatOp::create(builder, location, args);
    if (callee == "select")
      return SelectOp::create(builder, location, args[0], args[1], args[2]);
    if (std::optional<ReduceAllKind> kind =
            llvm::StringSwitch<std::optional<ReduceAllKind>>(callee)
                .Case("sum_all", ReduceAllKind::sum)
                .Case("mean_all", ReduceAllKind::mean)
                .Case("max_all", ReduceAllKind::max)
                .Case("min_all", ReduceAllKind::min)
                .Default(std::nullopt))
      return ReduceAllOp::create(builder, location, *kind, args[0]);
    if (callee == "softmax_in")
      return SoftmaxOp::create(builder, location, args[0].getType(), graphArg,
                               args[0]);
    // sum_in mean_in max_in sum_out mean_out max_out
    ReduceKind kind = llvm::StringSwitch<ReduceKind>(callee)
                          .StartsWith("sum_", ReduceKind::sum)
                          .StartsWith("mean_", ReduceKind::mean)
                          .Default(ReduceKind::max);
    return ReduceOp::create(builder, location, kind, graphArg, args[0],
                            /*out=*/callee.ends_with("_out"));
  }

  const sema::Model &model;
  MLIRContext &context;
  OpBuilder builder;
  std::string file;
  RegionKind region = RegionKind::Init;
  Value graphArg, timeArg;
  std::map<std::pair<std::string, mlir::Type>, Value,
           std::function<bool(const std::pair<std::string, mlir::Type> &,
                              const std::pair<std::string, mlir::Type> &)>>
      memo{[](const auto &a, const auto &b) {
        if (a.first != b.first)
          return a.first < b.first;
        return a.second.getAsOpaquePointer() < b.second.getAsOpaquePointer();
      }};
};

} // namespace

OwningOpRef<ModuleOp> grade::generateMLIR(const sema::Model &model,
                                          MLIRContext &context) {
  context.getOrLoadDialect<GradeDialect>();
  context.getOrLoadDialect<arith::ArithDialect>();
  return Generator(model, context).run();
}
