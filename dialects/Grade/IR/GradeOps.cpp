//===- GradeOps.cpp - operations of the grade dialect ---------------------===//
//
// Verifiers, builders, type inference, custom syntax and folders of the
// grade operations. The value ops infer and verify their result types by
// the rules of GradeTyping.h, which the frontend's Sema calls too, so IR
// produced by any pass, or written by hand for grade-opt, is held to the
// same rules, with the same reasons, as a model file.
//
//===----------------------------------------------------------------------===//

#include "dialects/Grade/IR/GradeOps.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallSet.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace grade;

//===----------------------------------------------------------------------===//
// ModelOp
//===----------------------------------------------------------------------===//

void ModelOp::build(OpBuilder &builder, OperationState &state,
                    StringRef name) {
  state.getOrAddProperties<Properties>().sym_name =
      builder.getStringAttr(name);
  Region *body = state.addRegion();
  body->emplaceBlock();
}

/// The unique op of type OpTy directly inside the model, or null.
template <typename OpTy>
static OpTy getUniqueChild(ModelOp model) {
  auto range = model.getBody().front().getOps<OpTy>();
  return range.empty() ? OpTy() : *range.begin();
}

/// The op of type OpTy directly inside the model computing `part` of the
/// right-hand side (none: the whole), or null.
template <typename OpTy>
static OpTy getPartChild(ModelOp model, std::optional<RhsPart> part) {
  for (OpTy op : model.getBody().front().getOps<OpTy>())
    if (op.getPart() == part)
      return op;
  return OpTy();
}

GraphOp ModelOp::getGraphOp() { return getUniqueChild<GraphOp>(*this); }

IntegerType GraphOp::getNodeIndexType() {
  if (std::optional<Type> type = getIndexType())
    return cast<IntegerType>(*type);
  return IntegerType::get(getContext(), 64);
}
InitOp ModelOp::getInitOp() { return getUniqueChild<InitOp>(*this); }
ReadoutOp ModelOp::getReadoutOp() {
  return getUniqueChild<ReadoutOp>(*this);
}
RhsOp ModelOp::getRhsOp(std::optional<RhsPart> part) {
  return getPartChild<RhsOp>(*this, part);
}
StepOp ModelOp::getStepOp() { return getUniqueChild<StepOp>(*this); }
JvpOp ModelOp::getJvpOp(std::optional<RhsPart> part) {
  return getPartChild<JvpOp>(*this, part);
}
DiagonalOp ModelOp::getDiagonalOp(std::optional<RhsPart> part) {
  return getPartChild<DiagonalOp>(*this, part);
}
VectorOp ModelOp::getVectorOp(VectorKind kind) {
  for (VectorOp op : getBody().front().getOps<VectorOp>())
    if (op.getKind() == kind)
      return op;
  return VectorOp();
}

SmallVector<Operation *> ModelOp::getEntryRegions() {
  SmallVector<Operation *> regions;
  auto add = [&](Operation *op) {
    if (op)
      regions.push_back(op);
  };
  add(getInitOp());
  add(getRhsOp());
  add(getStepOp());
  add(getJvpOp());
  add(getDiagonalOp());
  add(getRhsOp(RhsPart::ExplicitPart));
  add(getRhsOp(RhsPart::ImplicitPart));
  add(getJvpOp(RhsPart::ImplicitPart));
  add(getDiagonalOp(RhsPart::ImplicitPart));
  add(getReadoutOp());
  for (uint32_t kind = 0; kind <= getMaxEnumValForVectorKind(); ++kind)
    add(getVectorOp(static_cast<VectorKind>(kind)));
  return regions;
}

std::string grade::getEntryName(Operation *region) {
  std::optional<RhsPart> part;
  if (auto rhs = dyn_cast<RhsOp>(region))
    part = rhs.getPart();
  else if (auto jvp = dyn_cast<JvpOp>(region))
    part = jvp.getPart();
  else if (auto diagonal = dyn_cast<DiagonalOp>(region))
    part = diagonal.getPart();
  else if (auto vector = dyn_cast<VectorOp>(region))
    return ("vector_" + stringifyVectorKind(vector.getKind())).str();
  std::string base = llvm::TypeSwitch<Operation *, std::string>(region)
                         .Case([](InitOp) { return "init"; })
                         .Case([](ReadoutOp) { return "readout"; })
                         .Case([](RhsOp) { return "rhs"; })
                         .Case([](StepOp) { return "step"; })
                         .Case([](JvpOp) { return "jvp"; })
                         .Case([](DiagonalOp) { return "diagonal"; })
                         .Default([](Operation *) { return ""; });
  if (!part)
    return base;
  return (stringifyRhsPart(*part) + "_" + base).str();
}
FlatSymbolRefAttr grade::declareFor(OpBuilder &builder, ModelOp model,
                                    Role role, DeclOp state, StringRef suffix,
                                    Type type) {
  std::string name = (state.getSymName() + "__" + suffix).str();
  for (unsigned n = 1; model.lookupDecl(name); ++n)
    name = (state.getSymName() + "__" + suffix + Twine(n)).str();
  auto decl = DeclOp::create(builder, state.getLoc(), role, name, type,
                             /*output=*/false,
                             FlatSymbolRefAttr::get(state.getSymNameAttr()));
  return FlatSymbolRefAttr::get(decl.getSymNameAttr());
}

SolveOp ModelOp::getSolveOp() { return getUniqueChild<SolveOp>(*this); }

DeclOp ModelOp::lookupDecl(StringRef name) {
  return dyn_cast_or_null<DeclOp>(mlir::SymbolTable::lookupSymbolIn(
      *this, StringAttr::get(getContext(), name)));
}

SmallVector<DeclOp> ModelOp::getDecls() {
  return llvm::to_vector(getBody().front().getOps<DeclOp>());
}

SmallVector<DeclOp> ModelOp::getStates() {
  SmallVector<DeclOp> states;
  for (DeclOp decl : getBody().front().getOps<DeclOp>())
    if (decl.getRole() == Role::state)
      states.push_back(decl);
  return states;
}

/// Checks that `region` assigns every state exactly once.
static LogicalResult verifyStatesCovered(ModelOp model, Operation *regionOp,
                                         ArrayAttr targets,
                                         StringRef what) {
  llvm::SmallSet<StringRef, 8> assigned;
  for (Attribute target : targets)
    assigned.insert(cast<FlatSymbolRefAttr>(target).getValue());
  for (DeclOp state : model.getStates()) {
    if (assigned.contains(state.getSymName()))
      continue;
    return regionOp->emitOpError()
               .append("does not assign ", what, " of state '@",
                       state.getSymName(), "'")
               .attachNote(state.getLoc())
           << "state declared here";
  }
  return success();
}

LogicalResult ModelOp::verifyRegions() {
  Block &body = getBody().front();
  unsigned numGraphs = 0, numInits = 0, numSteps = 0, numSolves = 0,
           numReadouts = 0;
  // Region ops of a right-hand side part (or the whole), by name.
  llvm::StringMap<unsigned> numParts;
  for (Operation &op : body) {
    numGraphs += isa<GraphOp>(op);
    numInits += isa<InitOp>(op);
    numReadouts += isa<ReadoutOp>(op);
    numSteps += isa<StepOp>(op);
    numSolves += isa<SolveOp>(op);
    if (isa<RhsOp, JvpOp, DiagonalOp, VectorOp>(op) &&
        ++numParts[getEntryName(&op)] > 1)
      return op.emitOpError("is the model's second ")
             << (getEntryName(&op) == op.getName().stripDialect()
                     ? std::string("one")
                     : "'" + getEntryName(&op) + "'")
             << "; a model holds at most one of each";
  }
  if (numGraphs != 1)
    return emitOpError("must declare exactly one graph, found ") << numGraphs;
  if (numInits > 1 || numSteps > 1 || numSolves > 1 || numReadouts > 1)
    return emitOpError("may hold at most one 'grade.init', 'grade.step', "
                       "'grade.readout' and 'grade.solve'");
  // Before lowering (which erases the region ops), every readout is
  // computed by the readout region.
  if (ReadoutOp readout = getReadoutOp()) {
    llvm::SmallSet<StringRef, 8> readouts;
    for (Attribute target : readout.getTargets())
      readouts.insert(cast<FlatSymbolRefAttr>(target).getValue());
    for (DeclOp decl : getDecls())
      if (decl.getRole() == Role::readout &&
          !readouts.contains(decl.getSymName()))
        return decl.emitOpError("readout '@")
               << decl.getSymName() << "' is not computed by 'grade.readout'";
  }
  if (bool split = getRhsOp(RhsPart::ExplicitPart) ||
                   getRhsOp(RhsPart::ImplicitPart);
      split && !(getRhsOp(RhsPart::ExplicitPart) &&
                 getRhsOp(RhsPart::ImplicitPart) && getRhsOp()))
    return emitOpError("holds a part of a split right-hand side without the "
                       "other part or the whole; a split needs all three");

  if (InitOp init = getInitOp()) {
    if (failed(verifyStatesCovered(*this, init, init.getTargets(),
                                   "the initial value")))
      return failure();
    llvm::SmallSet<StringRef, 8> computed;
    for (Attribute target : init.getTargets())
      computed.insert(cast<FlatSymbolRefAttr>(target).getValue());
    for (DeclOp decl : getDecls())
      if (decl.getRole() == Role::let && !computed.contains(decl.getSymName()))
        return decl.emitOpError("let '@")
               << decl.getSymName() << "' is not computed by 'grade.init'";
  }
  for (RhsOp rhs : body.getOps<RhsOp>())
    if (failed(verifyStatesCovered(*this, rhs, rhs.getTargets(),
                                   "the derivative")))
      return failure();
  if (StepOp step = getStepOp())
    if (failed(verifyStatesCovered(*this, step, step.getTargets(),
                                   "the new value")))
      return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// DeclOp
//===----------------------------------------------------------------------===//

LogicalResult DeclOp::verify() {
  Type type = getType();
  bool isField = isa<FieldType>(type);
  Role role = getRole();
  bool isAuxiliary = role == Role::slope || role == Role::midpoint ||
                     role == Role::error || role == Role::rtol ||
                     role == Role::atol || role == Role::tangent ||
                     role == Role::vector_x || role == Role::vector_y ||
                     role == Role::vector_z || role == Role::vector_out;
  if (getOf() && !isAuxiliary)
    return emitOpError("a ") << stringifyRole(role)
                             << " does not belong to a state ('of')";
  if (isAuxiliary && !getOf())
    return emitOpError("a ") << stringifyRole(role)
                             << " names the state it belongs to ('of @x')";
  if (std::optional<APFloat> value = getDefaultValue()) {
    if (role != Role::param || !isa<FloatType>(type))
      return emitOpError("only a global scalar parameter has a default, not ")
             << stringifyRole(role) << " '@" << getSymName() << "' of type "
             << type;
    if (!value->isFinite())
      return emitOpError("default of '@") << getSymName()
                                          << "' must be finite";
  }
  switch (role) {
  case Role::state:
  case Role::let:
  case Role::temp:
  case Role::slope:
  case Role::midpoint:
  case Role::tangent:
  case Role::readout:
  case Role::vector_x:
  case Role::vector_y:
  case Role::vector_z:
  case Role::vector_out:
    if (!isField)
      return emitOpError("a ")
             << stringifyRole(getRole()) << " must be a node or edge field, got "
             << type;
    return success();
  case Role::error:
  case Role::rtol:
  case Role::atol:
    if (!type.isF64())
      return emitOpError("an adaptive step's ")
             << stringifyRole(role) << " is an f64, got " << type;
    return success();
  case Role::result:
    if (!type.isF64())
      return emitOpError("a vector entry's result is an f64, got ") << type;
    return success();
  case Role::input:
  case Role::param:
    if (isField || type.isF32() || type.isF64())
      return success();
    if (auto tensor = dyn_cast<RankedTensorType>(type)) {
      if (!tensor.hasStaticShape() ||
          !(tensor.getElementType().isF32() ||
            tensor.getElementType().isF64()))
        return emitOpError("a global ")
               << stringifyRole(getRole())
               << " must be a statically shaped tensor of f32 or f64, got "
               << type;
      if (tensor.getRank() > 4)
        return emitOpError("tensor rank ")
               << tensor.getRank() << " exceeds the maximum of 4";
      return success();
    }
    return emitOpError("unsupported type ") << type;
  }
  llvm_unreachable("unknown role");
}

//===----------------------------------------------------------------------===//
// InitOp, RhsOp, StepOp
//===----------------------------------------------------------------------===//

/// Whether a region op's kind can compute a part of a split right-hand
/// side (`grade.rhs implicit targets ...`).
template <typename OpTy>
constexpr bool kHasPart = std::is_same_v<OpTy, RhsOp> ||
                          std::is_same_v<OpTy, JvpOp> ||
                          std::is_same_v<OpTy, DiagonalOp>;

/// Parses `[explicit|implicit] targets [@a, @b] (%G: !grade.graph, ...)
/// attr-dict region` (the part only for the ops that have one).
template <typename OpTy>
static ParseResult parseRegionOp(OpAsmParser &parser,
                                 OperationState &result) {
  ArrayAttr targets;
  SmallVector<OpAsmParser::Argument> args;
  if constexpr (kHasPart<OpTy>) {
    StringRef keyword;
    if (succeeded(parser.parseOptionalKeyword(&keyword,
                                              {"explicit", "implicit"})))
      result.getOrAddProperties<typename OpTy::Properties>().part =
          RhsPartAttr::get(parser.getContext(),
                           *symbolizeRhsPart(keyword));
  }
  if constexpr (std::is_same_v<OpTy, VectorOp>) {
    StringRef keyword;
    SMLoc loc = parser.getCurrentLocation();
    if (parser.parseKeyword(&keyword))
      return failure();
    std::optional<VectorKind> kind = symbolizeVectorKind(keyword);
    if (!kind)
      return parser.emitError(loc, "unknown vector entry '") << keyword << "'";
    result.getOrAddProperties<typename OpTy::Properties>().kind =
        VectorKindAttr::get(parser.getContext(), *kind);
  }
  if (parser.parseKeyword("targets") || parser.parseAttribute(targets) ||
      parser.parseArgumentList(args, OpAsmParser::Delimiter::Paren,
                               /*allowType=*/true) ||
      parser.parseOptionalAttrDictWithKeyword(result.attributes))
    return failure();
  result.getOrAddProperties<typename OpTy::Properties>().targets = targets;
  Region *body = result.addRegion();
  return parser.parseRegion(*body, args);
}

template <typename OpTy>
static void printRegionOp(OpTy op, OpAsmPrinter &printer) {
  if constexpr (kHasPart<OpTy>)
    if (std::optional<RhsPart> part = op.getPart())
      printer << " " << stringifyRhsPart(*part);
  if constexpr (std::is_same_v<OpTy, VectorOp>)
    printer << " " << stringifyVectorKind(op.getKind());
  printer << " targets " << op.getTargets() << " (";
  llvm::interleaveComma(op.getBody().getArguments(), printer,
                        [&](BlockArgument arg) {
                          printer.printRegionArgument(arg);
                        });
  printer << ")";
  printer.printOptionalAttrDictWithKeyword(op->getAttrs(),
                                           {"targets", "part", "kind"});
  printer << " ";
  printer.printRegion(op.getBody(), /*printEntryBlockArgs=*/false,
                      /*printBlockTerminators=*/true);
}

/// Verifies the body's arguments (a graph followed by `numScalars` f64s),
/// its yield and its targets, whose roles must be in `roles`.
template <typename OpTy>
static LogicalResult verifyRegionOp(OpTy op, unsigned numScalars,
                                    ArrayRef<Role> roles, StringRef argNames) {
  Block &block = op.getBody().front();
  if (block.getNumArguments() != 1 + numScalars ||
      !isa<grade::GraphType>(block.getArgument(0).getType()) ||
      llvm::any_of(block.getArguments().drop_front(),
                   [](BlockArgument arg) { return !arg.getType().isF64(); }))
    return op.emitOpError("body must take ") << argNames;
  auto yield = dyn_cast<YieldOp>(block.back());
  if (!yield)
    return op.emitOpError("body must end with 'grade.yield'");
  ArrayAttr targets = op.getTargets();
  if (yield.getValues().size() != targets.size())
    return yield.emitOpError("yields ")
           << yield.getValues().size() << " values for " << targets.size()
           << " targets";
  auto model = op->template getParentOfType<ModelOp>();
  llvm::SmallSet<StringRef, 8> seen;
  for (auto [target, value] : llvm::zip(targets, yield.getValues())) {
    StringRef name = cast<FlatSymbolRefAttr>(target).getValue();
    if (!seen.insert(name).second)
      return op.emitOpError("assigns '@") << name << "' twice";
    DeclOp decl = model.lookupDecl(name);
    if (!decl)
      return op.emitOpError("target '@") << name
                                          << "' is not a declaration";
    if (!llvm::is_contained(roles, decl.getRole()))
      return op.emitOpError("cannot assign ")
             << stringifyRole(decl.getRole()) << " '@" << name << "'";
    if (value.getType() != decl.getType())
      return yield.emitOpError("value for '@")
             << name << "' has type " << value.getType() << ", declared as "
             << decl.getType();
  }
  return success();
}

/// Names the body arguments %G, %t, %dt in printed IR.
static void nameRegionArgs(Region &region, OpAsmSetValueNameFn setName) {
  static const char *const names[] = {"G", "t", "dt"};
  for (auto [arg, name] : llvm::zip(region.getArguments(), names))
    setName(arg, name);
}

void InitOp::getAsmBlockArgumentNames(Region &region,
                                      OpAsmSetValueNameFn setName) {
  nameRegionArgs(region, setName);
}
void ReadoutOp::getAsmBlockArgumentNames(Region &region,
                                         OpAsmSetValueNameFn setName) {
  nameRegionArgs(region, setName);
}
YieldOp ReadoutOp::getYield() {
  return cast<YieldOp>(getBody().front().getTerminator());
}
ParseResult ReadoutOp::parse(OpAsmParser &parser, OperationState &result) {
  return parseRegionOp<ReadoutOp>(parser, result);
}
void ReadoutOp::print(OpAsmPrinter &printer) { printRegionOp(*this, printer); }
LogicalResult ReadoutOp::verifyRegions() {
  return verifyRegionOp(*this, 1, {Role::readout},
                        "(!grade.graph, f64 time)");
}
void RhsOp::getAsmBlockArgumentNames(Region &region,
                                     OpAsmSetValueNameFn setName) {
  nameRegionArgs(region, setName);
}
void StepOp::getAsmBlockArgumentNames(Region &region,
                                      OpAsmSetValueNameFn setName) {
  nameRegionArgs(region, setName);
}
void JvpOp::getAsmBlockArgumentNames(Region &region,
                                     OpAsmSetValueNameFn setName) {
  nameRegionArgs(region, setName);
}

YieldOp InitOp::getYield() {
  return cast<YieldOp>(getBody().front().getTerminator());
}
YieldOp RhsOp::getYield() {
  return cast<YieldOp>(getBody().front().getTerminator());
}
YieldOp StepOp::getYield() {
  return cast<YieldOp>(getBody().front().getTerminator());
}
YieldOp JvpOp::getYield() {
  return cast<YieldOp>(getBody().front().getTerminator());
}
YieldOp DiagonalOp::getYield() {
  return cast<YieldOp>(getBody().front().getTerminator());
}
void DiagonalOp::getAsmBlockArgumentNames(Region &region,
                                          OpAsmSetValueNameFn setName) {
  nameRegionArgs(region, setName);
}
ParseResult DiagonalOp::parse(OpAsmParser &parser, OperationState &result) {
  return parseRegionOp<DiagonalOp>(parser, result);
}
void DiagonalOp::print(OpAsmPrinter &printer) {
  printRegionOp(*this, printer);
}
LogicalResult DiagonalOp::verifyRegions() {
  return verifyRegionOp(*this, 1, {Role::state}, "(!grade.graph, f64 time)");
}

YieldOp VectorOp::getYield() {
  return cast<YieldOp>(getBody().front().getTerminator());
}
void VectorOp::getAsmBlockArgumentNames(Region &region,
                                        OpAsmSetValueNameFn setName) {
  nameRegionArgs(region, setName);
}
ParseResult VectorOp::parse(OpAsmParser &parser, OperationState &result) {
  return parseRegionOp<VectorOp>(parser, result);
}
void VectorOp::print(OpAsmPrinter &printer) { printRegionOp(*this, printer); }
LogicalResult VectorOp::verifyRegions() {
  return verifyRegionOp(*this, 2, {Role::vector_out, Role::result},
                        "(!grade.graph, f64, f64)");
}

ParseResult InitOp::parse(OpAsmParser &parser, OperationState &result) {
  return parseRegionOp<InitOp>(parser, result);
}
void InitOp::print(OpAsmPrinter &printer) { printRegionOp(*this, printer); }
LogicalResult InitOp::verifyRegions() {
  return verifyRegionOp(*this, 0, {Role::let, Role::state},
                        "(!grade.graph)");
}

ParseResult RhsOp::parse(OpAsmParser &parser, OperationState &result) {
  return parseRegionOp<RhsOp>(parser, result);
}
void RhsOp::print(OpAsmPrinter &printer) { printRegionOp(*this, printer); }
LogicalResult RhsOp::verifyRegions() {
  return verifyRegionOp(*this, 1, {Role::state}, "(!grade.graph, f64 time)");
}

ParseResult JvpOp::parse(OpAsmParser &parser, OperationState &result) {
  return parseRegionOp<JvpOp>(parser, result);
}
void JvpOp::print(OpAsmPrinter &printer) { printRegionOp(*this, printer); }
LogicalResult JvpOp::verifyRegions() {
  return verifyRegionOp(*this, 1, {Role::state}, "(!grade.graph, f64 time)");
}

ParseResult StepOp::parse(OpAsmParser &parser, OperationState &result) {
  return parseRegionOp<StepOp>(parser, result);
}
void StepOp::print(OpAsmPrinter &printer) { printRegionOp(*this, printer); }
LogicalResult StepOp::verifyRegions() {
  return verifyRegionOp(*this, 2,
                        {Role::state, Role::slope, Role::midpoint, Role::error},
                        "(!grade.graph, f64 time, f64 step size)");
}

//===----------------------------------------------------------------------===//
// SolveOp
//===----------------------------------------------------------------------===//

/// A built-in scheme prints as its bare name (`grade.solve rk4 ...`), any
/// other tableau as the attribute.
static ParseResult parseScheme(OpAsmParser &parser, TableauAttr &scheme) {
  StringRef name;
  SMLoc loc = parser.getCurrentLocation();
  if (succeeded(parser.parseOptionalKeyword(&name))) {
    scheme = TableauAttr::getNamed(parser.getContext(), name);
    if (!scheme) {
      std::string known;
      llvm::raw_string_ostream os(known);
      llvm::interleaveComma(TableauAttr::getNamedSchemes(), os);
      return parser.emitError(loc, "unknown scheme '")
             << name << "' (built in: " << known
             << "; write any other as a #grade.tableau attribute)";
    }
    return success();
  }
  return parser.parseAttribute(scheme);
}

static void printScheme(OpAsmPrinter &printer, SolveOp, TableauAttr scheme) {
  if (scheme.isNamed())
    printer << scheme.getName();
  else
    printer.printAttribute(scheme);
}

LogicalResult SolveOp::verify() {
  double dt = getDt().convertToDouble(), t0 = getT0().convertToDouble(),
         t1 = getT1().convertToDouble();
  if (!std::isfinite(dt) || !std::isfinite(t0) || !std::isfinite(t1))
    return emitOpError("time interval and step must be finite");
  // BDF2 is adaptive when given tolerances.
  bool adaptive = getScheme().isAdaptive() ||
                  (getScheme().getBdfOrder() &&
                   (getRtol() || getAtol() || getStateTolerancesAttr()));
  if (adaptive ? dt < 0 : dt <= 0)
    return emitOpError(adaptive ? "first step must be >= 0 (0: automatic), got "
                                : "step size must be positive, got ")
           << dt;
  if (t1 <= t0)
    return emitOpError("interval end ")
           << t1 << " must be greater than its start " << t0;
  for (auto [name, tolerance] : {std::pair{"rtol", getRtol()},
                                 std::pair{"atol", getAtol()}}) {
    if (!tolerance)
      continue;
    if (!adaptive)
      return emitOpError("'") << name << "' needs an adaptive scheme, not '"
                              << getScheme().getName() << "'";
    double value = tolerance->convertToDouble();
    if (!std::isfinite(value) || value < 0)
      return emitOpError("'") << name << "' must be finite and >= 0, got "
                              << value;
  }
  if (DictionaryAttr own = getStateTolerancesAttr()) {
    if (!adaptive)
      return emitOpError("per-state tolerances need an adaptive scheme, not '")
             << getScheme().getName() << "'";
    auto model = (*this)->getParentOfType<ModelOp>();
    for (NamedAttribute entry : own) {
      DeclOp decl = model ? model.lookupDecl(entry.getName()) : DeclOp();
      if (!decl || decl.getRole() != Role::state)
        return emitOpError("has tolerances for '")
               << entry.getName().getValue() << "', which is not a state";
      auto pair = dyn_cast<DenseF64ArrayAttr>(entry.getValue());
      if (!pair || pair.size() != 2 ||
          llvm::any_of(pair.asArrayRef(), [](double value) {
            return !std::isfinite(value) || value < 0;
          }))
        return emitOpError("tolerances of '")
               << entry.getName().getValue()
               << "' must be array<f64: rtol, atol>, finite and >= 0 (0: the "
                  "default)";
    }
  }
  return success();
}

//===----------------------------------------------------------------------===//
// LoadOp
//===----------------------------------------------------------------------===//

LogicalResult LoadOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto model = (*this)->getParentOfType<ModelOp>();
  if (!model)
    return emitOpError("must be nested in a 'grade.model'");
  auto decl = symbolTable.lookupSymbolIn<DeclOp>(model, getDeclAttr());
  if (!decl)
    return emitOpError("'@") << getDecl() << "' does not name a declaration";
  if (decl.getType() != getType())
    return emitOpError("type ")
           << getType() << " does not match the declared type "
           << decl.getType() << " of '@" << getDecl() << "'";
  Role role = decl.getRole();
  if (role == Role::temp)
    return emitOpError("cannot read temporary '@") << getDecl() << "'";
  if (role == Role::readout)
    return emitOpError("cannot read readout '@")
           << getDecl() << "': readouts are results, computed last";
  if ((*this)->getParentOfType<InitOp>() && role != Role::input &&
      role != Role::param)
    return emitOpError("'grade.init' can read only inputs and parameters, "
                       "not ")
           << stringifyRole(role) << " '@" << getDecl() << "'";
  return success();
}

//===----------------------------------------------------------------------===//
// Graph calculus: type inference and verification
//===----------------------------------------------------------------------===//
//
// Every value op's result type is a function of its operand types given by
// GradeTyping.h. inferReturnTypes reports a broken rule at the location it
// is given, the verifiers at the op; both with the rule's own message.

/// The result of inferring `op`'s type, reported as emitOpError would.
static LogicalResult reportInferred(std::optional<Location> location,
                                    StringRef opName, FailureOr<Type> type,
                                    const TypeError &error,
                                    SmallVectorImpl<Type> &inferred) {
  if (failed(type))
    return emitOptionalError(location, "'", opName, "' op ", error.message);
  inferred.push_back(*type);
  return success();
}

/// Checks an op's result type against the type its operands give.
static LogicalResult verifyInferred(Operation *op, FailureOr<Type> expected,
                                    const TypeError &error) {
  if (failed(expected))
    return op->emitOpError(error.message);
  Type actual = op->getResult(0).getType();
  if (*expected != actual)
    return op->emitOpError("result type must be ")
           << *expected << ", got " << actual;
  return success();
}

/// Defines inferReturnTypes and verify of a value op whose type is
/// `infer(operand types...)`.
#define GRADE_INFERRED_TYPE(OpTy, infer, ...)                                  \
  LogicalResult OpTy::inferReturnTypes(                                        \
      MLIRContext *, std::optional<Location> location, ValueRange operands,    \
      DictionaryAttr, OpaqueProperties, RegionRange,                           \
      SmallVectorImpl<Type> &inferred) {                                       \
    TypeError error;                                                           \
    return reportInferred(location, getOperationName(),                        \
                          infer(__VA_ARGS__, &error), error, inferred);        \
  }

GRADE_INFERRED_TYPE(GatherOp, inferGatherType, operands[1].getType())
GRADE_INFERRED_TYPE(ReduceOp, inferReduceType, operands[1].getType())
GRADE_INFERRED_TYPE(ReduceAllOp, inferReduceAllType, operands[0].getType())
GRADE_INFERRED_TYPE(SoftmaxOp, inferSoftmaxType, operands[1].getType())
GRADE_INFERRED_TYPE(NonEmptyOp, inferNonEmptyType, operands[1].getType())
GRADE_INFERRED_TYPE(UnaryOp, inferUnaryType, operands[0].getType())
GRADE_INFERRED_TYPE(BinaryOp, inferBinaryType, operands[0].getType(),
                    operands[1].getType())

#undef GRADE_INFERRED_TYPE

LogicalResult GatherOp::verify() {
  TypeError error;
  return verifyInferred(*this, inferGatherType(getInput().getType(), &error),
                        error);
}

void ReduceOp::build(OpBuilder &builder, OperationState &state,
                     ReduceKind kind, Value graph, Value input, bool out) {
  build(builder, state, kind, out, graph, input);
}

LogicalResult ReduceOp::verify() {
  TypeError error;
  return verifyInferred(*this, inferReduceType(getInput().getType(), &error),
                        error);
}

LogicalResult ReduceAllOp::verify() {
  TypeError error;
  FailureOr<Type> expected = inferReduceAllType(getInput().getType(), &error);
  if (failed(expected))
    return emitOpError(error.message);
  if (getType() != *expected)
    return emitOpError("result type must be ")
           << *expected << " (the element type and feature shape of "
           << getInput().getType() << "), got " << getType();
  return success();
}

LogicalResult SoftmaxOp::verify() {
  TypeError error;
  return verifyInferred(*this, inferSoftmaxType(getInput().getType(), &error),
                        error);
}

LogicalResult NonEmptyOp::verify() {
  TypeError error;
  return verifyInferred(*this,
                        inferNonEmptyType(getInput().getType(), &error), error);
}

LogicalResult DegreeOp::verify() {
  auto type = cast<FieldType>(getType());
  if (type != getDegreeType(type.getElementType()))
    return emitOpError("result must be a scalar node field, got ") << type;
  return success();
}

/// The weight type (inferWeightType) is not inferred: it is the graph
/// declaration's, which the op sees only inside its model, not in a kernel
/// (gk.func) formed from it. Inside a model, the verifier holds it to the
/// declaration.
LogicalResult WeightOp::verify() {
  auto type = cast<FieldType>(getType());
  if (!type.isEdge() || !type.isScalar())
    return emitOpError("result must be a scalar edge field, got ") << type;
  auto model = (*this)->getParentOfType<ModelOp>();
  if (!model || !model.getGraphOp())
    return success();
  std::optional<Type> weightType = model.getGraphOp().getWeightType();
  TypeError error;
  FailureOr<Type> expected = inferWeightType(
      getContext(), weightType ? *weightType : Type(), &error);
  if (failed(expected))
    return emitOpError(error.message);
  if (*expected != type)
    return emitOpError("edge weights are ")
           << *weightType << ", result element type is "
           << type.getElementType();
  return success();
}

//===----------------------------------------------------------------------===//
// Elementwise operations
//===----------------------------------------------------------------------===//

LogicalResult UnaryOp::verify() {
  TypeError error;
  return verifyInferred(*this, inferUnaryType(getInput().getType(), &error),
                        error);
}

LogicalResult BinaryOp::verify() {
  TypeError error;
  return verifyInferred(
      *this,
      inferBinaryType(getLhs().getType(), getRhs().getType(), &error), error);
}
/// Evaluates a binary function on doubles (the folder's arithmetic).
static double evalBinary(BinaryFn fn, double a, double b) {
  switch (fn) {
  case BinaryFn::add:
    return a + b;
  case BinaryFn::sub:
    return a - b;
  case BinaryFn::mul:
    return a * b;
  case BinaryFn::div:
    return a / b;
  // Like arith.minimumf/maximumf in the kernels: NaN propagates.
  case BinaryFn::min:
    return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b);
  case BinaryFn::max:
    return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b);
  case BinaryFn::pow:
    return std::pow(a, b);
  case BinaryFn::atan2:
    return std::atan2(a, b);
  case BinaryFn::lt:
    return a < b;
  case BinaryFn::le:
    return a <= b;
  case BinaryFn::gt:
    return a > b;
  case BinaryFn::ge:
    return a >= b;
  case BinaryFn::eq:
    return a == b;
  case BinaryFn::ne:
    return a != b;
  }
  llvm_unreachable("unknown binary function");
}

/// The value of a float constant attribute, if `attr` is one.
static std::optional<double> getConstantValue(Attribute attr) {
  if (auto floatAttr = dyn_cast_or_null<FloatAttr>(attr))
    return floatAttr.getValueAsDouble();
  return std::nullopt;
}

OpFoldResult BinaryOp::fold(FoldAdaptor adaptor) {
  std::optional<double> lhs = getConstantValue(adaptor.getLhs());
  std::optional<double> rhs = getConstantValue(adaptor.getRhs());
  if (lhs && rhs)
    return FloatAttr::get(getType(), evalBinary(getFn(), *lhs, *rhs));
  // Identities, when they keep the type (no broadcast): x+0, x-0, x*1, x/1.
  if (rhs && getLhs().getType() == getType()) {
    BinaryFn fn = getFn();
    if ((*rhs == 0.0 && (fn == BinaryFn::add || fn == BinaryFn::sub)) ||
        (*rhs == 1.0 && (fn == BinaryFn::mul || fn == BinaryFn::div)))
      return getLhs();
  }
  if (lhs && getRhs().getType() == getType()) {
    BinaryFn fn = getFn();
    if ((*lhs == 0.0 && fn == BinaryFn::add) ||
        (*lhs == 1.0 && fn == BinaryFn::mul))
      return getRhs();
  }
  return {};
}

OpFoldResult UnaryOp::fold(FoldAdaptor adaptor) {
  std::optional<double> x = getConstantValue(adaptor.getInput());
  if (!x)
    return {};
  double y;
  switch (getFn()) {
  case UnaryFn::neg:
    y = -*x;
    break;
  case UnaryFn::exp:
    y = std::exp(*x);
    break;
  case UnaryFn::log:
    y = std::log(*x);
    break;
  case UnaryFn::sqrt:
    y = std::sqrt(*x);
    break;
  case UnaryFn::tanh:
    y = std::tanh(*x);
    break;
  case UnaryFn::relu:
    y = std::isnan(*x) ? *x : (*x > 0 ? *x : 0.0);
    break;
  case UnaryFn::sigmoid:
    y = 1.0 / (1.0 + std::exp(-*x));
    break;
  case UnaryFn::abs:
    y = std::fabs(*x);
    break;
  case UnaryFn::sin:
    y = std::sin(*x);
    break;
  case UnaryFn::cos:
    y = std::cos(*x);
    break;
  case UnaryFn::tan:
    y = std::tan(*x);
    break;
  case UnaryFn::asin:
    y = std::asin(*x);
    break;
  case UnaryFn::acos:
    y = std::acos(*x);
    break;
  case UnaryFn::atan:
    y = std::atan(*x);
    break;
  case UnaryFn::sinh:
    y = std::sinh(*x);
    break;
  case UnaryFn::cosh:
    y = std::cosh(*x);
    break;
  case UnaryFn::floor:
    y = std::floor(*x);
    break;
  case UnaryFn::ceil:
    y = std::ceil(*x);
    break;
  case UnaryFn::round:
    // Halfway cases to even, as math.roundeven in the kernels.
    y = std::nearbyint(*x);
    break;
  case UnaryFn::sign:
    y = std::isnan(*x) ? *x : (*x > 0 ? 1.0 : (*x < 0 ? -1.0 : 0.0));
    break;
  }
  return FloatAttr::get(getType(), y);
}

//===----------------------------------------------------------------------===//
// ContractOp
//===----------------------------------------------------------------------===//

LogicalResult ConcatOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> location, ValueRange operands,
    DictionaryAttr, OpaqueProperties, RegionRange,
    SmallVectorImpl<Type> &inferred) {
  TypeError error;
  return reportInferred(location, getOperationName(),
                        inferConcatType(operands.getTypes(), &error), error,
                        inferred);
}

LogicalResult ConcatOp::verify() {
  TypeError error;
  return verifyInferred(*this, inferConcatType(getInputs().getTypes(), &error),
                        error);
}

/// A contraction's kind and spec: `max "hd->h"`, `min "i->"`, or the spec
/// alone for a sum.
static ParseResult parseContractSpec(OpAsmParser &parser,
                                     ContractKindAttr &kind, StringAttr &spec) {
  ContractKind value = ContractKind::sum;
  if (succeeded(parser.parseOptionalKeyword("max")))
    value = ContractKind::max;
  else if (succeeded(parser.parseOptionalKeyword("min")))
    value = ContractKind::min;
  kind = ContractKindAttr::get(parser.getContext(), value);
  std::string text;
  if (parser.parseString(&text))
    return failure();
  spec = parser.getBuilder().getStringAttr(text);
  return success();
}

static void printContractSpec(OpAsmPrinter &printer, ContractOp,
                              ContractKindAttr kind, StringAttr spec) {
  if (kind && kind.getValue() != ContractKind::sum)
    printer << stringifyContractKind(kind.getValue()) << ' ';
  printer.printAttributeWithoutType(spec);
}

LogicalResult ContractOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> location, ValueRange operands,
    DictionaryAttr attributes, OpaqueProperties properties, RegionRange regions,
    SmallVectorImpl<Type> &inferred) {
  ContractOp::Adaptor adaptor(operands, attributes, properties, regions);
  TypeError error;
  return reportInferred(
      location, getOperationName(),
      inferContractType(adaptor.getSpec(), operands.getTypes(), &error), error,
      inferred);
}

LogicalResult ContractOp::verify() {
  TypeError error;
  return verifyInferred(
      *this, inferContractType(getSpec(), getInputs().getTypes(), &error),
      error);
}

ContractSpec ContractOp::getContractSpec() {
  std::optional<ContractSpec> spec =
      ContractSpec::get(getSpec(), getInputs().getTypes());
  assert(spec && "verified op");
  return *spec;
}

//===----------------------------------------------------------------------===//
// SymPowOp
//===----------------------------------------------------------------------===//

LogicalResult SymPowOp::verify() {
  ArrayRef<int64_t> shape = getFeatureShape(getInput().getType());
  if (shape.size() != 2 || shape[0] != shape[1])
    return emitOpError("needs a field of square matrices [d, d], got ")
           << getInput().getType();
  if (!std::isfinite(getExponent().convertToDouble()))
    return emitOpError("exponent must be finite");
  return success();
}

//===----------------------------------------------------------------------===//
// ReindexOp
//===----------------------------------------------------------------------===//

/// The value of `expr` at the dimension and symbol values `dims`, `syms`.
static int64_t evaluateAffine(AffineExpr expr, ArrayRef<int64_t> dims,
                              ArrayRef<int64_t> syms) {
  if (auto dim = dyn_cast<AffineDimExpr>(expr))
    return dims[dim.getPosition()];
  if (auto sym = dyn_cast<AffineSymbolExpr>(expr))
    return syms[sym.getPosition()];
  if (auto constant = dyn_cast<AffineConstantExpr>(expr))
    return constant.getValue();
  auto binary = cast<AffineBinaryOpExpr>(expr);
  int64_t lhs = evaluateAffine(binary.getLHS(), dims, syms);
  int64_t rhs = evaluateAffine(binary.getRHS(), dims, syms);
  switch (expr.getKind()) {
  case AffineExprKind::Add:
    return lhs + rhs;
  case AffineExprKind::Mul:
    return lhs * rhs;
  case AffineExprKind::FloorDiv:
    return llvm::divideFloorSigned(lhs, rhs);
  case AffineExprKind::CeilDiv:
    return llvm::divideCeilSigned(lhs, rhs);
  case AffineExprKind::Mod:
    return lhs - rhs * llvm::divideFloorSigned(lhs, rhs);
  default:
    llvm_unreachable("not a binary affine expression");
  }
}

/// Emits `expr` on index values.
static Value emitAffine(OpBuilder &builder, Location loc, AffineExpr expr,
                        ArrayRef<Value> dims, ArrayRef<Value> syms) {
  if (auto dim = dyn_cast<AffineDimExpr>(expr))
    return dims[dim.getPosition()];
  if (auto sym = dyn_cast<AffineSymbolExpr>(expr))
    return syms[sym.getPosition()];
  if (auto constant = dyn_cast<AffineConstantExpr>(expr))
    return arith::ConstantIndexOp::create(builder, loc, constant.getValue());
  auto binary = cast<AffineBinaryOpExpr>(expr);
  Value lhs = emitAffine(builder, loc, binary.getLHS(), dims, syms);
  Value rhs = emitAffine(builder, loc, binary.getRHS(), dims, syms);
  switch (expr.getKind()) {
  case AffineExprKind::Add:
    return arith::AddIOp::create(builder, loc, lhs, rhs);
  case AffineExprKind::Mul:
    return arith::MulIOp::create(builder, loc, lhs, rhs);
  case AffineExprKind::FloorDiv:
    return arith::FloorDivSIOp::create(builder, loc, lhs, rhs);
  case AffineExprKind::CeilDiv:
    return arith::CeilDivSIOp::create(builder, loc, lhs, rhs);
  case AffineExprKind::Mod: {
    Value quotient = arith::FloorDivSIOp::create(builder, loc, lhs, rhs);
    return arith::SubIOp::create(
        builder, loc, lhs, arith::MulIOp::create(builder, loc, rhs, quotient));
  }
  default:
    llvm_unreachable("not a binary affine expression");
  }
}

/// Row-major strides of `shape`.
static SmallVector<int64_t> stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t axis = int64_t(shape.size()) - 2; axis >= 0; --axis)
    strides[axis] = strides[axis + 1] * shape[axis + 1];
  return strides;
}

LogicalResult ReindexOp::verify() {
  Type inputType = getInput().getType(), resultType = getType();
  if (getFieldKind(inputType) != getFieldKind(resultType) ||
      isa<FieldType>(inputType) != isa<FieldType>(resultType))
    return emitOpError("result must be of the input's kind (")
           << inputType << " and " << resultType << ")";
  if (getElementTypeOf(inputType) != getElementTypeOf(resultType))
    return emitOpError("result must have the input's element type");
  ArrayRef<int64_t> in = getFeatureShape(inputType),
                    out = getFeatureShape(resultType);
  AffineMap map = getMap();
  if (map.getNumDims() != out.size())
    return emitOpError("map has ")
           << map.getNumDims() << " dimensions, but the result has "
           << out.size() << " feature axes";
  if (map.getNumResults() != in.size())
    return emitOpError("map has ")
           << map.getNumResults() << " results, but the input has "
           << in.size() << " feature axes";
  if (map.getNumSymbols() != getIndices().size())
    return emitOpError("map has ")
           << map.getNumSymbols() << " symbols, but there are "
           << getIndices().size() << " index operands";
  // A symbol is one whole result: its value is clamped into that axis.
  for (unsigned sym = 0; sym < map.getNumSymbols(); ++sym) {
    int uses = 0;
    for (AffineExpr result : map.getResults()) {
      if (auto whole = dyn_cast<AffineSymbolExpr>(result);
          whole && whole.getPosition() == sym) {
        ++uses;
        continue;
      }
      if (result.isFunctionOfSymbol(sym))
        return emitOpError("symbol s")
               << sym << " must be a whole result of the map, alone";
    }
    if (uses != 1)
      return emitOpError("symbol s") << sym << " must be exactly one result "
                                     << "of the map";
  }
  int64_t count = getNumElements(out);
  if (count > (int64_t(1) << 22))
    return emitOpError("result of ") << count << " features is too large";
  // Every result index maps into the input (symbols: any value in range,
  // checked at 0 since they are whole results).
  SmallVector<int64_t> dims(out.size(), 0), syms(map.getNumSymbols(), 0);
  for (int64_t flat = 0; flat < count; ++flat) {
    for (auto [axis, result] : llvm::enumerate(map.getResults())) {
      if (isa<AffineSymbolExpr>(result))
        continue;
      int64_t value = evaluateAffine(result, dims, syms);
      if (value < 0 || value >= in[axis]) {
        InFlightDiagnostic diag = emitOpError("maps result index [");
        llvm::interleaveComma(dims, diag);
        return diag << "] to " << value << " on input axis " << axis
                    << " of size " << in[axis];
      }
    }
    for (int64_t axis = int64_t(out.size()) - 1; axis >= 0; --axis) {
      if (++dims[axis] < out[axis])
        break;
      dims[axis] = 0;
    }
  }
  return success();
}

Value ReindexOp::emitSourceIndex(OpBuilder &builder, Location loc,
                                 Value index, ArrayRef<Value> symbols) {
  ArrayRef<int64_t> in = getFeatureShape(getInput().getType()),
                    out = getFeatureShape(getType());
  AffineMap map = getMap();
  // The result's multi-index from its flat index.
  SmallVector<Value> dims;
  SmallVector<int64_t> outStrides = stridesOf(out);
  for (auto [axis, stride] : llvm::enumerate(outStrides)) {
    Value dim = index;
    if (axis > 0)
      dim = arith::RemUIOp::create(
          builder, loc, dim,
          arith::ConstantIndexOp::create(builder, loc, stride * out[axis]));
    if (stride != 1)
      dim = arith::DivUIOp::create(
          builder, loc, dim, arith::ConstantIndexOp::create(builder, loc, stride));
    dims.push_back(dim);
  }
  // Each symbol: floor, clamped into its axis (NaN: 0).
  SmallVector<Value> syms(map.getNumSymbols());
  for (auto [axis, result] : llvm::enumerate(map.getResults())) {
    auto sym = dyn_cast<AffineSymbolExpr>(result);
    if (!sym)
      continue;
    Value value = symbols[sym.getPosition()];
    Type type = value.getType();
    auto constant = [&](double c) -> Value {
      return arith::ConstantOp::create(builder, loc, type,
                                       builder.getFloatAttr(type, c));
    };
    value = math::FloorOp::create(builder, loc, value);
    value = arith::MaxNumFOp::create(builder, loc, value, constant(0));
    value = arith::MinNumFOp::create(builder, loc, value,
                                     constant(double(in[axis] - 1)));
    value = arith::FPToSIOp::create(builder, loc, builder.getI64Type(), value);
    syms[sym.getPosition()] = arith::IndexCastOp::create(
        builder, loc, builder.getIndexType(), value);
  }
  // The input's flat index.
  SmallVector<int64_t> inStrides = stridesOf(in);
  Value flat;
  for (auto [axis, result] : llvm::enumerate(map.getResults())) {
    Value term = emitAffine(builder, loc, result, dims, syms);
    if (inStrides[axis] != 1)
      term = arith::MulIOp::create(
          builder, loc, term,
          arith::ConstantIndexOp::create(builder, loc, inStrides[axis]));
    flat = flat ? arith::AddIOp::create(builder, loc, flat, term).getResult()
                : term;
  }
  return flat ? flat : arith::ConstantIndexOp::create(builder, loc, 0);
}

//===----------------------------------------------------------------------===//
// FieldComputeOpInterface: the scalar code of one element
//===----------------------------------------------------------------------===//

/// Sums and products may be contracted into fused multiply-adds.
static arith::FastMathFlagsAttr contractFlag(OpBuilder &builder) {
  return arith::FastMathFlagsAttr::get(builder.getContext(),
                                       arith::FastMathFlags::contract);
}

static Value emitUnaryScalar(OpBuilder &builder, Location loc, UnaryFn fn,
                             Value x) {
  Type type = x.getType();
  auto constant = [&](double value) -> Value {
    return arith::ConstantOp::create(builder, loc, type,
                                     builder.getFloatAttr(type, value));
  };
  switch (fn) {
  case UnaryFn::neg:
    return arith::NegFOp::create(builder, loc, x);
  case UnaryFn::exp:
    return math::ExpOp::create(builder, loc, x);
  case UnaryFn::log:
    return math::LogOp::create(builder, loc, x);
  case UnaryFn::sqrt:
    return math::SqrtOp::create(builder, loc, x);
  case UnaryFn::tanh:
    return math::TanhOp::create(builder, loc, x);
  case UnaryFn::relu:
    // maximumf propagates NaN, so a diverging model stays detectable.
    return arith::MaximumFOp::create(builder, loc, x, constant(0.0));
  case UnaryFn::sigmoid: {
    Value e = math::ExpOp::create(builder, loc,
                                  arith::NegFOp::create(builder, loc, x));
    Value one = constant(1.0);
    return arith::DivFOp::create(builder, loc, one,
                                 arith::AddFOp::create(builder, loc, one, e));
  }
  case UnaryFn::abs:
    return math::AbsFOp::create(builder, loc, x);
  case UnaryFn::sin:
    return math::SinOp::create(builder, loc, x);
  case UnaryFn::cos:
    return math::CosOp::create(builder, loc, x);
  case UnaryFn::tan:
    return math::TanOp::create(builder, loc, x);
  case UnaryFn::asin:
    return math::AsinOp::create(builder, loc, x);
  case UnaryFn::acos:
    return math::AcosOp::create(builder, loc, x);
  case UnaryFn::atan:
    return math::AtanOp::create(builder, loc, x);
  case UnaryFn::sinh:
    return math::SinhOp::create(builder, loc, x);
  case UnaryFn::cosh:
    return math::CoshOp::create(builder, loc, x);
  case UnaryFn::floor:
    return math::FloorOp::create(builder, loc, x);
  case UnaryFn::ceil:
    return math::CeilOp::create(builder, loc, x);
  case UnaryFn::round:
    // Halfway cases to even (numpy's and PyTorch's round).
    return math::RoundEvenOp::create(builder, loc, x);
  case UnaryFn::sign: {
    // -1, 0 or 1; NaN stays NaN.
    Value zero = constant(0.0);
    Value positive =
        arith::CmpFOp::create(builder, loc, arith::CmpFPredicate::OGT, x, zero);
    Value negative =
        arith::CmpFOp::create(builder, loc, arith::CmpFPredicate::OLT, x, zero);
    Value isNaN =
        arith::CmpFOp::create(builder, loc, arith::CmpFPredicate::UNO, x, x);
    Value sign = arith::SelectOp::create(
        builder, loc, positive, constant(1.0),
        arith::SelectOp::create(builder, loc, negative, constant(-1.0), zero));
    return arith::SelectOp::create(builder, loc, isNaN, x, sign);
  }
  }
  llvm_unreachable("unknown unary function");
}

static Value emitBinaryScalar(OpBuilder &builder, Location loc, BinaryFn fn,
                              Value a, Value b) {
  switch (fn) {
  case BinaryFn::add:
    return arith::AddFOp::create(builder, loc, a, b, contractFlag(builder));
  case BinaryFn::sub:
    return arith::SubFOp::create(builder, loc, a, b, contractFlag(builder));
  case BinaryFn::mul:
    return arith::MulFOp::create(builder, loc, a, b, contractFlag(builder));
  case BinaryFn::div:
    return arith::DivFOp::create(builder, loc, a, b);
  case BinaryFn::min:
    return arith::MinimumFOp::create(builder, loc, a, b);
  case BinaryFn::max:
    return arith::MaximumFOp::create(builder, loc, a, b);
  case BinaryFn::pow:
    return math::PowFOp::create(builder, loc, a, b);
  case BinaryFn::atan2:
    return math::Atan2Op::create(builder, loc, a, b);
  case BinaryFn::lt:
  case BinaryFn::le:
  case BinaryFn::gt:
  case BinaryFn::ge:
  case BinaryFn::eq:
  case BinaryFn::ne: {
    arith::CmpFPredicate predicate;
    switch (fn) {
    case BinaryFn::lt: predicate = arith::CmpFPredicate::OLT; break;
    case BinaryFn::le: predicate = arith::CmpFPredicate::OLE; break;
    case BinaryFn::gt: predicate = arith::CmpFPredicate::OGT; break;
    case BinaryFn::ge: predicate = arith::CmpFPredicate::OGE; break;
    case BinaryFn::eq: predicate = arith::CmpFPredicate::OEQ; break;
    default: predicate = arith::CmpFPredicate::UNE; break;
    }
    Value truth = arith::CmpFOp::create(builder, loc, predicate, a, b);
    return arith::UIToFPOp::create(builder, loc, a.getType(), truth);
  }
  }
  llvm_unreachable("unknown binary function");
}

Value UnaryOp::emitScalar(OpBuilder &builder, Location loc,
                          ValueRange operands) {
  return emitUnaryScalar(builder, loc, getFn(), operands[0]);
}

Value BinaryOp::emitScalar(OpBuilder &builder, Location loc,
                           ValueRange operands) {
  return emitBinaryScalar(builder, loc, getFn(), operands[0], operands[1]);
}

Value SelectOp::emitScalar(OpBuilder &builder, Location loc,
                           ValueRange operands) {
  // Non-zero is true; NaN is false (an ordered comparison).
  Value zero = arith::ConstantOp::create(
      builder, loc, operands[0].getType(),
      builder.getFloatAttr(operands[0].getType(), 0.0));
  Value truth = arith::CmpFOp::create(builder, loc, arith::CmpFPredicate::ONE,
                                      operands[0], zero);
  return arith::SelectOp::create(builder, loc, truth, operands[1],
                                 operands[2]);
}

LogicalResult SelectOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> location, ValueRange operands,
    DictionaryAttr, OpaqueProperties, RegionRange,
    SmallVectorImpl<Type> &inferred) {
  TypeError error;
  return reportInferred(location, getOperationName(),
                        inferSelectType(operands[0].getType(),
                                        operands[1].getType(),
                                        operands[2].getType(), &error),
                        error, inferred);
}

LogicalResult SelectOp::verify() {
  TypeError error;
  return verifyInferred(*this,
                        inferSelectType(getCondition().getType(),
                                        getTrueValue().getType(),
                                        getFalseValue().getType(), &error),
                        error);
}

#include "dialects/Grade/IR/GradeInterfaces.cpp.inc"

#define GET_OP_CLASSES
#include "dialects/Grade/IR/GradeOps.cpp.inc"
