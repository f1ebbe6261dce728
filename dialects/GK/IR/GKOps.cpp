//===- GKOps.cpp - the gk (kernel) dialect --------------------------------===//

#include "dialects/GK/IR/GKOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace grade;
using namespace grade::gk;

#include "dialects/GK/IR/GKOpsDialect.cpp.inc"
#include "dialects/GK/IR/GKOpsEnums.cpp.inc"

void GKDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/GK/IR/GKOps.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Queries
//===----------------------------------------------------------------------===//

std::optional<int64_t> gk::getEdgePass(ReduceOp reduce) {
  if (auto pass = reduce->getAttrOfType<IntegerAttr>(kPassAttr))
    return pass.getInt();
  return std::nullopt;
}

FuncOp gk::lookupCallee(LaunchOp launch, SymbolTableCollection *symbols) {
  // Kernels are module-level symbols; the entry is inside a model, which is
  // a symbol table of its own.
  Operation *from = launch;
  if (auto model = launch->getParentOfType<ModelOp>())
    from = model->getParentOp();
  if (!from)
    return FuncOp();
  return symbols ? symbols->lookupNearestSymbolFrom<FuncOp>(
                       from, launch.getCalleeAttr())
                 : SymbolTable::lookupNearestSymbolFrom<FuncOp>(
                       from, launch.getCalleeAttr());
}

/// The `buffers` attribute of a kernel, or of the kernel a launch runs.
static ArrayAttr getBuffersAttr(Operation *op,
                                SymbolTableCollection *symbols = nullptr) {
  if (auto kernel = dyn_cast<KernelOp>(op))
    return kernel.getBuffersAttr();
  if (auto launch = dyn_cast<LaunchOp>(op))
    if (FuncOp callee = lookupCallee(launch, symbols))
      return callee.getBuffersAttr();
  return {};
}

FlatSymbolRefAttr gk::getBuffer(Value value, SymbolTableCollection *symbols) {
  if (!isa<FieldType>(value.getType()))
    return {};
  Operation *op = value.getDefiningOp();
  if (!op)
    return {};
  if (auto load = dyn_cast<LoadOp>(op))
    return load.getDeclAttr();
  ArrayAttr buffers = getBuffersAttr(op, symbols);
  if (!buffers)
    return {};
  unsigned index = cast<OpResult>(value).getResultNumber();
  if (index >= buffers.size())
    return {};
  return dyn_cast<FlatSymbolRefAttr>(buffers[index]);
}

SmallVector<FlatSymbolRefAttr>
gk::getWrittenBuffers(Operation *op, SymbolTableCollection *symbols) {
  SmallVector<FlatSymbolRefAttr> result;
  if (ArrayAttr buffers = getBuffersAttr(op, symbols))
    for (Attribute buffer : buffers)
      if (auto symbol = dyn_cast<FlatSymbolRefAttr>(buffer))
        result.push_back(symbol);
  return result;
}

StringRef gk::getKernelName(Operation *op) {
  if (auto kernel = dyn_cast<KernelOp>(op))
    return kernel.getKernelName();
  if (auto launch = dyn_cast<LaunchOp>(op))
    return launch.getCallee();
  if (auto func = dyn_cast<FuncOp>(op))
    return func.getSymName();
  return op->getName().getStringRef();
}

//===----------------------------------------------------------------------===//
// Shared syntax of gk.kernel and gk.func
//===----------------------------------------------------------------------===//
//
//   gk.kernel "name" over nodes (%a = %v : type access, ...)
//       -> (type in @buffer, type, ...) passes N vectors(B) attr-dict region
//   gk.func @name over blocks(1024) (%a : type access, ...)
//       -> (type in @buffer, ...) passes N vectors(B) attr-dict region

static void printIterationSpace(OpAsmPrinter &printer,
                                std::optional<int64_t> blockRows,
                                std::optional<int64_t> balancedChunks) {
  printer << " over ";
  if (blockRows)
    printer << "blocks(" << *blockRows << ")";
  else if (balancedChunks)
    printer << "balanced(" << *balancedChunks << ")";
  else
    printer << "nodes";
}

static ParseResult parseIterationSpace(OpAsmParser &parser,
                                       OperationState &result,
                                       StringRef blockRowsName,
                                       StringRef balancedChunksName) {
  if (parser.parseKeyword("over"))
    return failure();
  if (succeeded(parser.parseOptionalKeyword("nodes")))
    return success();
  bool balanced = succeeded(parser.parseOptionalKeyword("balanced"));
  int64_t count;
  if ((!balanced && parser.parseKeyword("blocks")) || parser.parseLParen() ||
      parser.parseInteger(count) || parser.parseRParen())
    return failure();
  if (count <= 0)
    return parser.emitError(parser.getCurrentLocation(),
                            balanced ? "the number of chunks must be positive"
                                     : "block size must be positive");
  result.addAttribute(balanced ? balancedChunksName : blockRowsName,
                      parser.getBuilder().getI64IntegerAttr(count));
  return success();
}

static void printCaptures(OpAsmPrinter &printer, Block &body,
                          OperandRange operands, ArrayAttr access) {
  printer << " (";
  for (unsigned i = 0, e = body.getNumArguments(); i < e; ++i) {
    if (i)
      printer << ", ";
    BlockArgument arg = body.getArgument(i);
    printer.printOperand(arg);
    if (!operands.empty())
      printer << " = " << operands[i];
    printer << " : ";
    printer.printType(arg.getType());
    if (i < access.size())
      if (auto kind = dyn_cast<AccessAttr>(access[i]))
        printer << " " << stringifyAccess(kind.getValue());
  }
  printer << ")";
}

static void printResults(OpAsmPrinter &printer, TypeRange types,
                         ArrayAttr buffers,
                         std::optional<ArrayRef<int64_t>> checked) {
  printer << " -> (";
  for (auto [index, type] : llvm::enumerate(types)) {
    if (index)
      printer << ", ";
    printer.printType(type);
    if (buffers && index < buffers.size())
      if (auto symbol = dyn_cast<FlatSymbolRefAttr>(buffers[index]))
        printer << " in " << symbol;
    if (checked && llvm::is_contained(*checked, int64_t(index)))
      printer << " checked";
  }
  printer << ")";
}

/// Parses the captures; `withOperands` for gk.kernel (`%a = %v : type`).
static ParseResult
parseCaptures(OpAsmParser &parser, bool withOperands,
              SmallVectorImpl<OpAsmParser::Argument> &args,
              SmallVectorImpl<OpAsmParser::UnresolvedOperand> &operands,
              SmallVectorImpl<Attribute> &access) {
  return parser.parseCommaSeparatedList(
      OpAsmParser::Delimiter::Paren, [&]() -> ParseResult {
        OpAsmParser::Argument arg;
        if (parser.parseArgument(arg))
          return failure();
        if (withOperands) {
          OpAsmParser::UnresolvedOperand operand;
          if (parser.parseEqual() || parser.parseOperand(operand))
            return failure();
          operands.push_back(operand);
        }
        StringRef keyword;
        if (parser.parseColonType(arg.type))
          return failure();
        SMLoc loc = parser.getCurrentLocation();
        if (parser.parseKeyword(&keyword))
          return failure();
        std::optional<Access> kind = symbolizeAccess(keyword);
        if (!kind)
          return parser.emitError(loc, "expected an access (local, remote, "
                                       "both or uniform), got '")
                 << keyword << "'";
        access.push_back(AccessAttr::get(parser.getContext(), *kind));
        args.push_back(arg);
        return success();
      });
}

static ParseResult parseResults(OpAsmParser &parser,
                                SmallVectorImpl<Type> &types,
                                SmallVectorImpl<Attribute> &buffers,
                                bool &anyBuffer,
                                SmallVectorImpl<int64_t> &checked) {
  anyBuffer = false;
  if (parser.parseArrow())
    return failure();
  return parser.parseCommaSeparatedList(
      OpAsmParser::Delimiter::Paren, [&]() -> ParseResult {
        Type type;
        if (parser.parseType(type))
          return failure();
        types.push_back(type);
        if (succeeded(parser.parseOptionalKeyword("in"))) {
          FlatSymbolRefAttr symbol;
          if (parser.parseAttribute(symbol))
            return failure();
          buffers.push_back(symbol);
          anyBuffer = true;
        } else {
          buffers.push_back(UnitAttr::get(parser.getContext()));
        }
        if (succeeded(parser.parseOptionalKeyword("checked")))
          checked.push_back(static_cast<int64_t>(types.size()) - 1);
        return success();
      });
}

static ParseResult parsePasses(OpAsmParser &parser, OperationState &result,
                               StringRef name) {
  if (failed(parser.parseOptionalKeyword("passes")))
    return success();
  int64_t passes;
  if (parser.parseInteger(passes))
    return failure();
  result.addAttribute(name, parser.getBuilder().getI64IntegerAttr(passes));
  return success();
}

static void printPasses(OpAsmPrinter &printer,
                        std::optional<int64_t> numPasses) {
  if (numPasses)
    printer << " passes " << *numPasses;
}

static ParseResult parseVectors(OpAsmParser &parser, OperationState &result,
                                StringRef name) {
  if (failed(parser.parseOptionalKeyword("vectors")))
    return success();
  int64_t bits;
  if (parser.parseLParen() || parser.parseInteger(bits) || parser.parseRParen())
    return failure();
  result.addAttribute(name, parser.getBuilder().getI64IntegerAttr(bits));
  return success();
}

static void printVectors(OpAsmPrinter &printer,
                         std::optional<int64_t> vectorBits) {
  if (vectorBits)
    printer << " vectors(" << *vectorBits << ")";
}

/// What gk.kernel and gk.func spell alike, after the name: the iteration
/// space, the captures, the results with their buffers, the passes and the
/// attribute dictionary; the attributes go into `result`.
struct KernelSignature {
  SmallVector<OpAsmParser::Argument> args;
  SmallVector<OpAsmParser::UnresolvedOperand> operands;
  SmallVector<Type> resultTypes;

  SmallVector<Type> argTypes() const {
    SmallVector<Type> types;
    for (const OpAsmParser::Argument &arg : args)
      types.push_back(arg.type);
    return types;
  }
};

template <typename OpTy>
static ParseResult parseKernelSignature(OpAsmParser &parser,
                                        OperationState &result,
                                        bool withOperands,
                                        KernelSignature &signature) {
  SmallVector<Attribute> access, buffers;
  SmallVector<int64_t> checked;
  bool anyBuffer;
  OperationName opName = result.name;
  if (parseIterationSpace(parser, result,
                          OpTy::getBlockRowsAttrName(opName).getValue(),
                          OpTy::getBalancedChunksAttrName(opName).getValue()) ||
      parseCaptures(parser, withOperands, signature.args, signature.operands,
                    access) ||
      parseResults(parser, signature.resultTypes, buffers, anyBuffer,
                   checked) ||
      parsePasses(parser, result,
                  OpTy::getNumPassesAttrName(opName).getValue()) ||
      parseVectors(parser, result,
                   OpTy::getVectorBitsAttrName(opName).getValue()) ||
      parser.parseOptionalAttrDictWithKeyword(result.attributes))
    return failure();
  Builder &builder = parser.getBuilder();
  result.addAttribute(OpTy::getAccessAttrName(opName),
                      builder.getArrayAttr(access));
  if (anyBuffer)
    result.addAttribute(OpTy::getBuffersAttrName(opName),
                        builder.getArrayAttr(buffers));
  if (!checked.empty())
    result.addAttribute(OpTy::getCheckedAttrName(opName),
                        builder.getDenseI64ArrayAttr(checked));
  return success();
}

//===----------------------------------------------------------------------===//
// Shared verification of kernel bodies
//===----------------------------------------------------------------------===//

static bool isField(Type type) { return isa<FieldType>(type); }

/// Accesses agree with the captured types, buffers with the results.
static LogicalResult verifySignature(Operation *op, TypeRange captures,
                                     ArrayAttr access, TypeRange results,
                                     ArrayAttr buffers,
                                     std::optional<ArrayRef<int64_t>> checked) {
  if (checked)
    for (int64_t index : *checked)
      if (index < 0 || index >= static_cast<int64_t>(results.size()) ||
          !isField(results[index]))
        return op->emitOpError("checks result #")
               << index << ", which is not a field result";
  if (access.size() != captures.size())
    return op->emitOpError("has ")
           << access.size() << " accesses for " << captures.size()
           << " captures";
  for (auto [index, pair] : llvm::enumerate(llvm::zip(captures, access))) {
    auto [type, attr] = pair;
    auto kind = dyn_cast<AccessAttr>(attr);
    if (!kind)
      return op->emitOpError("access #") << index << " is not an access";
    bool uniform = kind.getValue() == Access::uniform;
    if (isField(type) == uniform)
      return op->emitOpError("capture #")
             << index << " of type " << type << " cannot be read '"
             << stringifyAccess(kind.getValue()) << "'"
             << (uniform ? ": a field is read per row"
                         : ": only fields are read per row");
  }
  if (!buffers)
    return success();
  if (buffers.size() != results.size())
    return op->emitOpError("has ")
           << buffers.size() << " buffers for " << results.size()
           << " results";
  for (auto [index, pair] : llvm::enumerate(llvm::zip(results, buffers))) {
    auto [type, buffer] = pair;
    if (isField(type) != isa<FlatSymbolRefAttr>(buffer))
      return op->emitOpError("result #")
             << index
             << (isField(type) ? " is a field and needs a buffer"
                               : " is a global and has no buffer");
  }
  return success();
}

/// The body computes the results from the captures; reductions are in
/// passes after those of the reductions they read.
static LogicalResult verifyBody(Operation *op, Block &body,
                                TypeRange captures, TypeRange results,
                                std::optional<int64_t> numPasses,
                                std::optional<int64_t> blockRows) {
  if (body.getArgumentTypes() != captures)
    return op->emitOpError("body arguments must match the captures");
  auto yield = dyn_cast<gk::YieldOp>(body.getTerminator());
  if (!yield)
    return op->emitOpError("body must end with 'gk.yield'");
  if (yield.getValues().getTypes() != results)
    return yield.emitOpError("yields ")
           << yield.getValues().size()
           << " values whose types do not match the kernel's results";
  // The pass after which each value is available (0: before the first).
  llvm::DenseMap<Value, int64_t> availableAfter;
  for (Operation &inner : body.without_terminator()) {
    if (isa<ReduceAllOp>(inner) && !blockRows)
      return inner.emitOpError(
          "is a global reduction in a kernel over nodes; it needs a "
          "kernel over blocks of nodes (a deterministic order)");
    if (isa<LoadOp>(inner))
      return inner.emitOpError(
          "inside a kernel: a kernel reads declarations through its captures");
    int64_t after = 0;
    for (Value operand : inner.getOperands())
      after = std::max(after, availableAfter.lookup(operand));
    if (auto reduce = dyn_cast<ReduceOp>(inner)) {
      std::optional<int64_t> pass = getEdgePass(reduce);
      if (numPasses && !pass)
        return reduce.emitOpError("has no edge pass ('gk.pass') in a "
                                  "scheduled kernel");
      if (pass) {
        if (*pass < 0 || (numPasses && *pass >= *numPasses))
          return reduce.emitOpError("is in edge pass ")
                 << *pass << " of a kernel with "
                 << (numPasses ? *numPasses : 0) << " passes";
        if (*pass < after)
          return reduce.emitOpError("is in edge pass ")
                 << *pass << " but reads a reduction completed only after "
                 << "pass " << after - 1;
        after = *pass + 1;
      }
    }
    for (Value result : inner.getResults())
      availableAfter[result] = after;
  }
  return success();
}

/// No value a kernel reads has been overwritten since it was produced, and
/// the kernel does not overwrite what it reads at other rows.
static LogicalResult verifyHazards(Operation *op, ValueRange captures,
                                   ArrayAttr access,
                                   ArrayRef<FlatSymbolRefAttr> written,
                                   SymbolTableCollection *symbols = nullptr) {
  Block *block = op->getBlock();
  // The first writer of each buffer in the block before `op`, with the
  // writers in order: one pass over the block, however many captures.
  DenseMap<Attribute, SmallVector<Operation *, 1>> writers;
  for (Operation &it : *block) {
    if (&it == op)
      break;
    for (FlatSymbolRefAttr buffer : getWrittenBuffers(&it, symbols))
      writers[buffer].push_back(&it);
  }
  for (auto [index, pair] : llvm::enumerate(llvm::zip(captures, access))) {
    auto [capture, attr] = pair;
    FlatSymbolRefAttr buffer = getBuffer(capture, symbols);
    if (!buffer)
      continue;
    auto kind = cast<AccessAttr>(attr).getValue();
    if ((kind == Access::remote || kind == Access::both) &&
        llvm::is_contained(written, buffer))
      return op->emitOpError("writes buffer ")
             << buffer << " while it reads capture #" << index
             << " from it at other rows";
    // A capture made in this block (not a load) may be overwritten only
    // before it is made.
    Operation *producer = capture.getDefiningOp();
    bool fromHere =
        producer && producer->getBlock() == block && !isa<LoadOp>(producer);
    auto found = writers.find(buffer);
    if (found == writers.end())
      continue;
    for (Operation *writer : found->second) {
      if (fromHere && !producer->isBeforeInBlock(writer))
        continue;
      InFlightDiagnostic diag =
          op->emitOpError("reads capture #")
          << index << " from buffer " << buffer << " after kernel '"
          << getKernelName(writer) << "' overwrote it";
      diag.attachNote(writer->getLoc()) << "buffer written here";
      return diag;
    }
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Names of block arguments in printed IR
//===----------------------------------------------------------------------===//

/// %g for the graph, the declaration's name for a load, %c<n> otherwise.
static void nameCaptures(Block &body, ValueRange captures,
                         OpAsmSetValueNameFn setName) {
  for (BlockArgument arg : body.getArguments()) {
    if (isa<grade::GraphType>(arg.getType())) {
      setName(arg, "g");
      continue;
    }
    if (arg.getArgNumber() < captures.size()) {
      Value capture = captures[arg.getArgNumber()];
      if (auto load = capture.getDefiningOp<LoadOp>()) {
        setName(arg, load.getDecl());
        continue;
      }
    }
    setName(arg, "c" + std::to_string(arg.getArgNumber()));
  }
}

void KernelOp::getAsmBlockArgumentNames(Region &region,
                                        OpAsmSetValueNameFn setName) {
  nameCaptures(region.front(), getCaptures(), setName);
}

void FuncOp::getAsmBlockArgumentNames(Region &region,
                                      OpAsmSetValueNameFn setName) {
  nameCaptures(region.front(), {}, setName);
}

void EntryOp::getAsmBlockArgumentNames(Region &region,
                                       OpAsmSetValueNameFn setName) {
  static const char *const names[] = {"G", "t", "dt"};
  for (auto [arg, name] : llvm::zip(region.getArguments(), names))
    setName(arg, name);
}

//===----------------------------------------------------------------------===//
// KernelOp
//===----------------------------------------------------------------------===//

void KernelOp::print(OpAsmPrinter &printer) {
  printer << " ";
  printer.printAttributeWithoutType(getKernelNameAttr());
  printIterationSpace(printer, getBlockRows(), getBalancedChunks());
  printCaptures(printer, getBody().front(), getCaptures(), getAccess());
  printResults(printer, getResultTypes(), getBuffersAttr(), getChecked());
  printPasses(printer, getNumPasses());
  printVectors(printer, getVectorBits());
  printer.printOptionalAttrDictWithKeyword(
      (*this)->getAttrs(),
      {getKernelNameAttrName(), getAccessAttrName(), getBlockRowsAttrName(),
       getNumPassesAttrName(), getBuffersAttrName(), getCheckedAttrName(),
       getBalancedChunksAttrName(), getVectorBitsAttrName()});
  printer << " ";
  printer.printRegion(getBody(), /*printEntryBlockArgs=*/false);
}

ParseResult KernelOp::parse(OpAsmParser &parser, OperationState &result) {
  StringAttr name;
  if (parser.parseAttribute(name))
    return failure();
  result.addAttribute(getKernelNameAttrName(result.name), name);
  KernelSignature signature;
  if (parseKernelSignature<KernelOp>(parser, result, /*withOperands=*/true,
                                     signature) ||
      parser.resolveOperands(signature.operands, signature.argTypes(),
                             parser.getNameLoc(), result.operands))
    return failure();
  result.addTypes(signature.resultTypes);
  return parser.parseRegion(*result.addRegion(), signature.args);
}

/// One iteration space: blocks (global reductions) or balanced chunks.
static LogicalResult verifyIterationSpace(Operation *op,
                                          std::optional<int64_t> blockRows,
                                          std::optional<int64_t> chunks) {
  if (blockRows && chunks)
    return op->emitOpError("runs over blocks or over balanced chunks, not "
                           "both");
  if (chunks && *chunks <= 0)
    return op->emitOpError("needs a positive number of chunks");
  return success();
}

/// A vector width the CPU code generator knows.
static LogicalResult verifyVectorBits(Operation *op,
                                      std::optional<int64_t> bits) {
  if (bits && *bits != 128 && *bits != 256 && *bits != 512)
    return op->emitOpError("asks for vectors of ")
           << *bits << " bits (128, 256 or 512)";
  return success();
}

LogicalResult KernelOp::verify() {
  if (failed(
          verifyIterationSpace(*this, getBlockRows(), getBalancedChunks())) ||
      failed(verifyVectorBits(*this, getVectorBits())))
    return failure();
  if (failed(verifySignature(*this, getCaptures().getTypes(), getAccess(),
                             getResultTypes(), getBuffersAttr(), getChecked())))
    return failure();
  return verifyHazards(*this, getCaptures(), getAccess(),
                       getWrittenBuffers(*this));
}

LogicalResult KernelOp::verifyRegions() {
  return verifyBody(*this, getBody().front(), getCaptures().getTypes(),
                    getResultTypes(), getNumPasses(), getBlockRows());
}

//===----------------------------------------------------------------------===//
// FuncOp
//===----------------------------------------------------------------------===//

void FuncOp::print(OpAsmPrinter &printer) {
  printer << " ";
  printer.printSymbolName(getSymName());
  printIterationSpace(printer, getBlockRows(), getBalancedChunks());
  printCaptures(printer, getBody().front(), OperandRange(nullptr, 0),
                getAccess());
  printResults(printer, getFunctionType().getResults(), getBuffersAttr(),
               getChecked());
  printPasses(printer, getNumPasses());
  printVectors(printer, getVectorBits());
  printer.printOptionalAttrDictWithKeyword(
      (*this)->getAttrs(),
      {getSymNameAttrName(), getFunctionTypeAttrName(), getAccessAttrName(),
       getBlockRowsAttrName(), getNumPassesAttrName(), getBuffersAttrName(),
       getCheckedAttrName(), getBalancedChunksAttrName(),
       getVectorBitsAttrName()});
  printer << " ";
  printer.printRegion(getBody(), /*printEntryBlockArgs=*/false);
}

ParseResult FuncOp::parse(OpAsmParser &parser, OperationState &result) {
  StringAttr name;
  OperationName opName = result.name;
  KernelSignature signature;
  if (parser.parseSymbolName(name, getSymNameAttrName(opName),
                             result.attributes) ||
      parseKernelSignature<FuncOp>(parser, result, /*withOperands=*/false,
                                   signature))
    return failure();
  result.addAttribute(getFunctionTypeAttrName(opName),
                      TypeAttr::get(parser.getBuilder().getFunctionType(
                          signature.argTypes(), signature.resultTypes)));
  return parser.parseRegion(*result.addRegion(), signature.args);
}

LogicalResult FuncOp::verifyRegions() {
  if (failed(
          verifyIterationSpace(*this, getBlockRows(), getBalancedChunks())) ||
      failed(verifyVectorBits(*this, getVectorBits())))
    return failure();
  FunctionType type = getFunctionType();
  if (failed(verifySignature(*this, type.getInputs(), getAccess(),
                             type.getResults(), getBuffersAttr(), getChecked())))
    return failure();
  return verifyBody(*this, getBody().front(), type.getInputs(),
                    type.getResults(), getNumPasses(), getBlockRows());
}

//===----------------------------------------------------------------------===//
// LaunchOp
//===----------------------------------------------------------------------===//

LogicalResult LaunchOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  FuncOp callee = lookupCallee(*this, &symbolTable);
  if (!callee)
    return emitOpError("launches '")
           << getCallee() << "', which is not a 'gk.func'";
  FunctionType type = callee.getFunctionType();
  if (TypeRange(type.getInputs()) != TypeRange(getCaptures().getTypes()) ||
      TypeRange(type.getResults()) != TypeRange(getResultTypes()))
    return emitOpError("does not match the signature of '")
           << getCallee() << "' " << type;
  return verifyHazards(*this, getCaptures(), callee.getAccess(),
                       getWrittenBuffers(*this, &symbolTable), &symbolTable);
}

//===----------------------------------------------------------------------===//
// StoreOp
//===----------------------------------------------------------------------===//

LogicalResult StoreOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto model = (*this)->getParentOfType<ModelOp>();
  auto decl = symbolTable.lookupSymbolIn<DeclOp>(model, getDeclAttr());
  if (!decl)
    return emitOpError("stores to '")
           << getDecl() << "', which is not a declaration of the model";
  if (decl.getType() != getValue().getType())
    return emitOpError("stores a ")
           << getValue().getType() << " to '" << getDecl() << "' of type "
           << decl.getType();
  return success();
}

//===----------------------------------------------------------------------===//
// EntryOp
//===----------------------------------------------------------------------===//

LogicalResult EntryOp::verifyRegions() {
  StringRef kind = getKind();
  StringRef vectorKind = kind;
  bool vector = vectorKind.consume_front("vector_") &&
                symbolizeVectorKind(vectorKind).has_value();
  if (!vector &&
      !llvm::is_contained({"init", "rhs", "step", "jvp", "diagonal",
                           "explicit_rhs", "implicit_rhs", "implicit_jvp",
                           "implicit_diagonal", "readout"},
                          kind))
    return emitOpError("kind must be 'init', 'rhs', 'step', 'jvp', "
                       "'diagonal', 'readout', for a split right-hand side "
                       "'explicit_rhs', 'implicit_rhs', 'implicit_jvp' or "
                       "'implicit_diagonal', or a vector entry ('vector_' "
                       "and lincomb, multiply, jacobi, dot, residual or "
                       "error), got '")
           << kind << "'";
  for (Operation &op : getBody().front())
    if (isa<KernelOp>(op))
      return op.emitOpError("inside an entry point must be outlined "
                            "(gk-lower-entry-points)");
  return success();
}

#define GET_OP_CLASSES
#include "dialects/GK/IR/GKOps.cpp.inc"
