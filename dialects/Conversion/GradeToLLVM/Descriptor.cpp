//===- Descriptor.cpp - the static model descriptor (model ABI v2) --------===//
//
// grade-emit-descriptor: the lowered model becomes the constant data of
// grade/model_abi.h. The structs are built field by field in the order and
// with the types of the C header, which this file includes so that every
// enum value and the descriptor's size come from one place; the header's
// static_asserts pin the layout.
//
// Slot numbering is the kernels' (convert-grade-to-loops): the graph's CSR
// arrays first, then one slot per declaration in order, temporaries last.
//
//===----------------------------------------------------------------------===//

#include "dialects/Conversion/Passes.h"
#include "dialects/Grade/IR/GradeLaws.h"

#include "grade/model_abi.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSwitch.h"

#define DEBUG_TYPE "grade-emit-descriptor"

namespace grade {
#define GEN_PASS_DEF_EMITDESCRIPTOR
#include "dialects/Conversion/Passes.h.inc"
} // namespace grade

using namespace mlir;
using namespace grade;

namespace {

/// The graph arrays of slots 0..5, as convert-grade-to-loops numbers them:
/// the CSR index, the weights and the transposed index (out-edges), the
/// latter used only by a model the lowering marked with kOutEdgesAttr.
[[maybe_unused]] constexpr int kFirstDeclSlot = 6; // checked by an assert
constexpr StringLiteral kOutEdgesAttr = "grade.out_edges";
/// Set by convert-gk-to-scf when a kernel flags non-finite states.
constexpr llvm::StringLiteral kStatusAttr = "grade.status_slot";

constexpr StringLiteral kDescriptorSymbol = GRADE_MODEL_DESCRIPTOR_SYMBOL;

int32_t dtypeOf(Type type) {
  return getElementTypeOf(type).isF32() ? GRADE_DTYPE_F32 : GRADE_DTYPE_F64;
}

int32_t kindOf(Type type) {
  std::optional<FieldKind> kind = getFieldKind(type);
  if (!kind)
    return GRADE_KIND_GLOBAL;
  return *kind == FieldKind::node ? GRADE_KIND_NODE : GRADE_KIND_EDGE;
}

int32_t roleOf(Role role) {
  switch (role) {
  case Role::input:
    return GRADE_ROLE_INPUT;
  case Role::param:
    return GRADE_ROLE_PARAM;
  case Role::state:
    return GRADE_ROLE_STATE;
  case Role::let:
    return GRADE_ROLE_LET;
  case Role::readout:
    return GRADE_ROLE_READOUT;
  case Role::temp:
  case Role::slope:
  case Role::midpoint:
  case Role::error:
  case Role::rtol:
  case Role::atol:
  case Role::tangent:
  case Role::vector_x:
  case Role::vector_y:
  case Role::vector_z:
  case Role::vector_out:
  case Role::result:
    break;
  }
  return 0;
}

/// The slot kind of a declaration the runtime shares with the entries
/// (the adaptive controller's, the JVP's tangents, the vector entries'
/// operands and result); 0 for any other.
int32_t adaptiveSlotKind(Role role) {
  switch (role) {
  case Role::slope:
    return GRADE_SLOT_SLOPE;
  case Role::midpoint:
    return GRADE_SLOT_MIDPOINT;
  case Role::error:
    return GRADE_SLOT_ERROR;
  case Role::rtol:
    return GRADE_SLOT_RTOL;
  case Role::atol:
    return GRADE_SLOT_ATOL;
  case Role::tangent:
    return GRADE_SLOT_TANGENT;
  case Role::vector_x:
    return GRADE_SLOT_VECTOR_X;
  case Role::vector_y:
    return GRADE_SLOT_VECTOR_Y;
  case Role::vector_z:
    return GRADE_SLOT_VECTOR_Z;
  case Role::vector_out:
    return GRADE_SLOT_VECTOR_OUT;
  case Role::result:
    return GRADE_SLOT_RESULT;
  default:
    return 0;
  }
}

/// Builds constant globals: strings, arrays of numbers, and structs whose
/// initializer regions insert one value per field.
class ConstantEmitter {
public:
  ConstantEmitter(ModuleOp module, Location loc, StringRef prefix)
      : module(module), context(module.getContext()), loc(loc),
        prefix(prefix.str()), builder(context) {
    ptr = LLVM::LLVMPointerType::get(context);
    i32 = IntegerType::get(context, 32);
    i64 = IntegerType::get(context, 64);
    f64 = Float64Type::get(context);
  }

  /// A private NUL-terminated string; returns its symbol.
  std::string string(StringRef text) {
    std::string value = text.str();
    value.push_back('\0');
    auto type = LLVM::LLVMArrayType::get(IntegerType::get(context, 8),
                                         value.size());
    std::string name = newName("str");
    atEnd();
    LLVM::GlobalOp::create(builder, loc, type, /*isConstant=*/true,
                           LLVM::Linkage::Private, name,
                           builder.getStringAttr(value));
    return name;
  }

  /// A private constant array of doubles or int32s; returns its symbol.
  std::string doubles(ArrayRef<double> values) {
    return array(values.size(), f64, [&](OpBuilder &b, size_t i) -> Value {
      return LLVM::ConstantOp::create(b, loc, f64,
                                      b.getF64FloatAttr(values[i]));
    });
  }
  std::string ints(ArrayRef<int32_t> values) {
    return array(values.size(), i32, [&](OpBuilder &b, size_t i) -> Value {
      return LLVM::ConstantOp::create(b, loc, i32,
                                      b.getI32IntegerAttr(values[i]));
    });
  }

  /// A private constant array of `count` elements of `type`, element i
  /// built by `element`.
  std::string array(size_t count, Type type,
                    function_ref<Value(OpBuilder &, size_t)> element,
                    LLVM::Linkage linkage = LLVM::Linkage::Private) {
    auto arrayType = LLVM::LLVMArrayType::get(type, count);
    std::string name = newName("array");
    global(name, arrayType, linkage, [&](OpBuilder &b) -> Value {
      Value value = LLVM::PoisonOp::create(b, loc, arrayType);
      for (size_t i = 0; i < count; ++i)
        value = LLVM::InsertValueOp::create(b, loc, value, element(b, i),
                                            ArrayRef<int64_t>{int64_t(i)});
      return value;
    });
    return name;
  }

  /// A constant global whose initializer `build` returns.
  void global(StringRef name, Type type, LLVM::Linkage linkage,
              function_ref<Value(OpBuilder &)> build) {
    atEnd();
    auto op = LLVM::GlobalOp::create(builder, loc, type, /*isConstant=*/true,
                                     linkage, name, Attribute());
    Block *block = builder.createBlock(&op.getInitializerRegion());
    OpBuilder body = OpBuilder::atBlockEnd(block);
    LLVM::ReturnOp::create(body, loc, build(body));
  }

  // Values inside an initializer region.
  Value addressOf(OpBuilder &b, StringRef symbol) {
    return LLVM::AddressOfOp::create(b, loc, ptr, symbol);
  }
  Value null(OpBuilder &b) { return LLVM::ZeroOp::create(b, loc, ptr); }
  Value int32(OpBuilder &b, int64_t value) {
    return LLVM::ConstantOp::create(b, loc, i32, b.getI32IntegerAttr(value));
  }
  Value int64(OpBuilder &b, int64_t value) {
    return LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(value));
  }
  Value float64(OpBuilder &b, double value) {
    return LLVM::ConstantOp::create(b, loc, f64, b.getF64FloatAttr(value));
  }
  /// A [GRADE_MAX_RANK x i64] shape, zero-padded.
  Value shape(OpBuilder &b, ArrayRef<int64_t> dims) {
    auto type = LLVM::LLVMArrayType::get(i64, GRADE_MAX_RANK);
    Value value = LLVM::PoisonOp::create(b, loc, type);
    for (int64_t d = 0; d < GRADE_MAX_RANK; ++d)
      value = LLVM::InsertValueOp::create(
          b, loc, value, int64(b, d < int64_t(dims.size()) ? dims[d] : 0),
          ArrayRef<int64_t>{d});
    return value;
  }
  /// A literal struct of the given field values.
  Value makeStruct(OpBuilder &b, ArrayRef<Value> fields) {
    SmallVector<Type> types;
    for (Value field : fields)
      types.push_back(field.getType());
    auto type = LLVM::LLVMStructType::getLiteral(context, types);
    Value value = LLVM::PoisonOp::create(b, loc, type);
    for (auto [i, field] : llvm::enumerate(fields))
      value = LLVM::InsertValueOp::create(b, loc, value, field,
                                          ArrayRef<int64_t>{int64_t(i)});
    return value;
  }

  Type ptr, i32, i64, f64;

private:
  std::string newName(StringRef kind) {
    return (prefix + "." + kind + "." + Twine(counter++)).str();
  }
  void atEnd() { builder.setInsertionPointToEnd(module.getBody()); }

  ModuleOp module;
  MLIRContext *context;
  Location loc;
  std::string prefix;
  OpBuilder builder;
  unsigned counter = 0;
};

/// The runtime functions a GPU entry calls: MLIR's mgpu* names and types
/// (gpu-to-llvm and the gpu.launch_func translation), each defined in the
/// library as a call through its slot of grade_gpu_hooks_t (`hook`), or
/// by itself (`hook` < 0): the module "load" of a constructor that runs at
/// dlopen, before the runtime is known, returns its argument (the images
/// are the descriptor's), and the unload does nothing; the synchronisation
/// the translation places after every launch does nothing either, since
/// convert-kernels-to-gpu places gradegen_gpu_wait (-3: the stream's
/// synchronisation) where the host needs the launches' results.
struct MgpuFunction {
  StringLiteral name;
  int hook;
};
constexpr MgpuFunction kMgpuFunctions[] = {
    {"mgpuModuleLoadJIT", -1},     {"mgpuModuleUnload", -2},
    {"mgpuModuleGetFunction", 0},  {"mgpuStreamCreate", 1},
    {"mgpuStreamSynchronize", -2}, {"mgpuStreamDestroy", 3},
    {"gradegen_gpu_wait", -3},     {"mgpuLaunchKernel", 4},
    {"mgpuMemAlloc", 5},           {"mgpuMemFree", 6}};
constexpr int64_t kNumHooks = sizeof(grade_gpu_hooks_t) / sizeof(void *);

LLVM::LLVMFunctionType mgpuType(MLIRContext *context, StringRef name) {
  Type ptr = LLVM::LLVMPointerType::get(context);
  Type none = LLVM::LLVMVoidType::get(context);
  Type i8 = IntegerType::get(context, 8), i32 = IntegerType::get(context, 32),
       i64 = IntegerType::get(context, 64);
  auto fn = [](Type result, ArrayRef<Type> args) {
    return LLVM::LLVMFunctionType::get(result, args);
  };
  return llvm::StringSwitch<LLVM::LLVMFunctionType>(name)
      .Case("mgpuModuleLoadJIT", fn(ptr, {ptr, i32}))
      .Case("mgpuModuleUnload", fn(none, {ptr}))
      .Case("mgpuModuleGetFunction", fn(ptr, {ptr, ptr}))
      .Case("mgpuStreamCreate", fn(ptr, {}))
      .Case("mgpuStreamSynchronize", fn(none, {ptr}))
      .Case("mgpuStreamDestroy", fn(none, {ptr}))
      .Case("mgpuLaunchKernel", fn(none, {ptr, i64, i64, i64, i64, i64, i64,
                                          i32, ptr, ptr, ptr, i64}))
      .Case("mgpuMemAlloc", fn(ptr, {i64, ptr, i8}))
      .Case("mgpuMemFree", fn(none, {ptr, ptr}))
      .Case("gradegen_gpu_wait", fn(none, {}));
}

/// Defines the mgpu* functions of the library (internal: they do not clash
/// with another GPU runtime of the process) over the hooks table `hooks`.
LogicalResult defineMgpuFunctions(ModuleOp module, StringRef hooks) {
  MLIRContext *context = module.getContext();
  Location loc = module.getLoc();
  Type ptr = LLVM::LLVMPointerType::get(context);
  auto table = LLVM::LLVMArrayType::get(ptr, kNumHooks);
  OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
  for (const MgpuFunction &mgpu : kMgpuFunctions) {
    LLVM::LLVMFunctionType type = mgpuType(context, mgpu.name);
    auto func = module.lookupSymbol<LLVM::LLVMFuncOp>(mgpu.name);
    if (func && (!func.isExternal() || func.getFunctionType() != type))
      return func.emitOpError("is not the declaration of the GPU runtime's '")
             << mgpu.name << "' the library defines";
    if (!func)
      func = LLVM::LLVMFuncOp::create(builder, loc, mgpu.name, type);
    func.setLinkage(LLVM::Linkage::Internal);
    Block *body = func.addEntryBlock(builder);
    OpBuilder b = OpBuilder::atBlockEnd(body);
    bool returnsVoid = isa<LLVM::LLVMVoidType>(type.getReturnType());
    if (mgpu.hook == -1) {
      LLVM::ReturnOp::create(b, loc, body->getArgument(0));
      continue;
    }
    if (mgpu.hook == -2) {
      LLVM::ReturnOp::create(b, loc, ValueRange{});
      continue;
    }
    if (mgpu.hook == -3) {
      // stream_synchronize(stream_create()), when the runtime set both.
      auto load = [&](int64_t index) -> Value {
        Value slot = LLVM::GEPOp::create(
            b, loc, ptr, table, LLVM::AddressOfOp::create(b, loc, ptr, hooks),
            ArrayRef<LLVM::GEPArg>{0, int32_t(index)});
        return LLVM::LoadOp::create(b, loc, ptr, slot);
      };
      Value create = load(1), synchronize = load(2);
      Value null = LLVM::ZeroOp::create(b, loc, ptr);
      Value unset = LLVM::OrOp::create(
          b, loc,
          LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::eq, create, null),
          LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::eq, synchronize,
                               null));
      Block *call = func.addBlock(), *none = func.addBlock();
      LLVM::CondBrOp::create(b, loc, unset, none, call);
      b.setInsertionPointToEnd(call);
      auto stream = LLVM::CallOp::create(
          b, loc, LLVM::LLVMFunctionType::get(ptr, {}), ValueRange{create});
      LLVM::CallOp::create(
          b, loc,
          LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(context), {ptr}),
          ValueRange{synchronize, stream.getResult()});
      LLVM::ReturnOp::create(b, loc, ValueRange{});
      b.setInsertionPointToEnd(none);
      LLVM::ReturnOp::create(b, loc, ValueRange{});
      continue;
    }
    // Through the hook, when the runtime has set it; else nothing (NULL).
    Value slot = LLVM::GEPOp::create(
        b, loc, ptr, table, LLVM::AddressOfOp::create(b, loc, ptr, hooks),
        ArrayRef<LLVM::GEPArg>{0, mgpu.hook});
    Value hook = LLVM::LoadOp::create(b, loc, ptr, slot);
    Value unset = LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::eq, hook,
                                       LLVM::ZeroOp::create(b, loc, ptr));
    Block *call = func.addBlock(), *none = func.addBlock();
    LLVM::CondBrOp::create(b, loc, unset, none, call);
    b.setInsertionPointToEnd(call);
    SmallVector<Value> operands = {hook};
    llvm::append_range(operands, body->getArguments());
    auto result = LLVM::CallOp::create(b, loc, type, operands);
    if (returnsVoid)
      LLVM::ReturnOp::create(b, loc, ValueRange{});
    else
      LLVM::ReturnOp::create(b, loc, result.getResult());
    b.setInsertionPointToEnd(none);
    if (returnsVoid)
      LLVM::ReturnOp::create(b, loc, ValueRange{});
    else
      LLVM::ReturnOp::create(
          b, loc,
          ValueRange{LLVM::ZeroOp::create(b, loc, type.getReturnType())});
  }
  return success();
}

/// One slot of the table, as the descriptor lists it.
struct Slot {
  std::string name;
  int32_t slotKind;
  int32_t index;
  int32_t kind;
  int32_t dtype;
  SmallVector<int64_t> shape;
};

LogicalResult emitDescriptor(ModelOp model, ModuleOp module) {
  SolveOp solve = model.getSolveOp();
  if (!solve)
    return model.emitOpError("has no 'grade.solve'");
  if (!model.getEntryRegions().empty())
    return model.emitOpError("must be lowered (convert-grade-to-loops) "
                             "before its descriptor is emitted");
  // init and rhs always; step for an explicit scheme (the runtime solves an
  // implicit one's stages); jvp where the model has one.
  static constexpr std::pair<StringLiteral, int32_t> kAllEntries[] = {
      {"init", GRADE_ENTRY_INIT},
      {"rhs", GRADE_ENTRY_RHS},
      {"step", GRADE_ENTRY_STEP},
      {"jvp", GRADE_ENTRY_JVP},
      {"diagonal", GRADE_ENTRY_DIAGONAL},
      {"explicit_rhs", GRADE_ENTRY_EXPLICIT_RHS},
      {"implicit_rhs", GRADE_ENTRY_IMPLICIT_RHS},
      {"implicit_jvp", GRADE_ENTRY_IMPLICIT_JVP},
      {"implicit_diagonal", GRADE_ENTRY_IMPLICIT_DIAGONAL},
      {"readout", GRADE_ENTRY_READOUT},
      {"vector_lincomb", GRADE_ENTRY_VECTOR_LINCOMB},
      {"vector_multiply", GRADE_ENTRY_VECTOR_MULTIPLY},
      {"vector_jacobi", GRADE_ENTRY_VECTOR_JACOBI},
      {"vector_dot", GRADE_ENTRY_VECTOR_DOT},
      {"vector_residual", GRADE_ENTRY_VECTOR_RESIDUAL},
      {"vector_error", GRADE_ENTRY_VECTOR_ERROR}};
  TableauAttr scheme = solve.getScheme();
  bool implicit = scheme.isImplicit(), imex = scheme.isImex();
  SmallVector<std::pair<StringLiteral, int32_t>> entryKinds;
  // The CPU's entries, the GPU's, or both (convert-gk-to-scf{cpu,cuda}).
  auto binary = module.lookupSymbol<gpu::BinaryOp>(kGpuModuleName);
  bool hasCpu = llvm::any_of(kAllEntries, [&](auto entry) {
    return module.lookupSymbol<LLVM::LLVMFuncOp>(
        (kEntryPrefix + entry.first).str());
  });
  for (auto [region, kind] : kAllEntries) {
    std::string entry =
        ((hasCpu ? kEntryPrefix : kGpuEntryPrefix) + region).str();
    bool required = kind == GRADE_ENTRY_INIT || kind == GRADE_ENTRY_RHS ||
                    (kind == GRADE_ENTRY_STEP && !implicit) ||
                    (kind == GRADE_ENTRY_JVP && implicit && !imex) ||
                    (imex && (kind == GRADE_ENTRY_EXPLICIT_RHS ||
                              kind == GRADE_ENTRY_IMPLICIT_RHS ||
                              kind == GRADE_ENTRY_IMPLICIT_JVP));
    if (module.lookupSymbol<LLVM::LLVMFuncOp>(entry)) {
      std::string gpuEntry = (kGpuEntryPrefix + region).str();
      if (binary && !module.lookupSymbol<LLVM::LLVMFuncOp>(gpuEntry))
        return model.emitOpError("has no GPU entry '")
               << gpuEntry << "' beside '" << entry << "'";
      entryKinds.push_back({region, kind});
      continue;
    }
    if (required)
      return model.emitOpError("has no '")
             << entry << "' entry point as an LLVM function; a library "
             << "needs 'grade.init', 'grade.rhs' and, for an explicit "
             << "scheme 'grade.step', for an implicit one 'grade.jvp', "
             << "for an IMEX one both parts of the right-hand side and "
             << "the implicit part's 'grade.jvp', lowered to LLVM";
  }
  std::string modelName = model.getSymName().str();
  if (module.lookupSymbol(kDescriptorSymbol))
    return model.emitOpError("cannot be the second model of a library: '")
           << kDescriptorSymbol << "' is defined already";

  // Fields (the public declarations) and the slot table.
  std::optional<Type> weights = model.getGraphOp().getWeightType();
  SmallVector<DeclOp> decls = model.getDecls();
  // Node numbers as convert-gk-to-scf typed them; offsets are always i64.
  int32_t nodeIndex =
      model.getGraphOp().getNodeIndexType().getWidth() == 32 ? GRADE_DTYPE_I32
                                                             : GRADE_DTYPE_I64;
  SmallVector<Slot> slots = {
      {"in_offsets", GRADE_SLOT_GRAPH, GRADE_GRAPH_IN_OFFSETS, 0,
       GRADE_DTYPE_I64, {}},
      {"in_sources", GRADE_SLOT_GRAPH, GRADE_GRAPH_IN_SOURCES, 0, nodeIndex,
       {}},
      weights ? Slot{"weights", GRADE_SLOT_GRAPH, GRADE_GRAPH_WEIGHTS, 0,
                     dtypeOf(*weights), {}}
              : Slot{"", GRADE_SLOT_UNUSED, 0, 0, 0, {}}};
  if (model->hasAttr(kOutEdgesAttr)) {
    slots.push_back({"out_offsets", GRADE_SLOT_GRAPH, GRADE_GRAPH_OUT_OFFSETS,
                     0, GRADE_DTYPE_I64, {}});
    slots.push_back({"out_targets", GRADE_SLOT_GRAPH, GRADE_GRAPH_OUT_TARGETS,
                     0, nodeIndex, {}});
    slots.push_back({"out_edges", GRADE_SLOT_GRAPH, GRADE_GRAPH_OUT_EDGES, 0,
                     GRADE_DTYPE_I64, {}});
  } else {
    slots.append(3, Slot{"", GRADE_SLOT_UNUSED, 0, 0, 0, {}});
  }
  llvm::StringMap<int32_t> fieldIndex, slotIndex;
  SmallVector<DeclOp> fields;
  for (DeclOp decl : decls)
    if (roleOf(decl.getRole()) != 0) {
      fieldIndex[decl.getSymName()] = fields.size();
      fields.push_back(decl);
    }
  // Derivative outputs of the rhs entry and J v outputs of the jvp entry,
  // by slot name.
  llvm::StringMap<int32_t> derivativeOf, productOf, diagonalOf;
  for (auto [attr, map, name] :
       {std::tuple{model.getRhsOutputsAttr(), &derivativeOf, "rhs_outputs"},
        std::tuple{model.getJvpOutputsAttr(), &productOf, "jvp_outputs"},
        std::tuple{model.getDiagonalOutputsAttr(), &diagonalOf,
                   "diagonal_outputs"}}) {
    if (!attr)
      continue;
    SmallVector<DeclOp> states = model.getStates();
    if (states.size() != attr.size())
      return model.emitOpError("'") << name << "' does not match the states";
    for (auto [state, output] : llvm::zip(states, attr))
      (*map)[cast<FlatSymbolRefAttr>(output).getValue()] =
          fieldIndex.lookup(state.getSymName());
  }
  for (DeclOp decl : decls) {
    Type type = decl.getType();
    Slot slot{decl.getSymName().str(), GRADE_SLOT_TEMP, 0, kindOf(type),
              dtypeOf(type), llvm::to_vector(getFeatureShape(type))};
    if (roleOf(decl.getRole()) != 0) {
      slot.slotKind = GRADE_SLOT_FIELD;
      slot.index = fieldIndex.lookup(decl.getSymName());
    } else if (int32_t kind = adaptiveSlotKind(decl.getRole())) {
      slot.slotKind = kind;
      slot.index = decl.getOf() ? fieldIndex.lookup(*decl.getOf()) : 0;
    } else if (auto it = derivativeOf.find(decl.getSymName());
               it != derivativeOf.end()) {
      slot.slotKind = GRADE_SLOT_DERIVATIVE;
      slot.index = it->second;
    } else if (auto it = productOf.find(decl.getSymName());
               it != productOf.end()) {
      slot.slotKind = GRADE_SLOT_JVP;
      slot.index = it->second;
    } else if (auto it = diagonalOf.find(decl.getSymName());
               it != diagonalOf.end()) {
      slot.slotKind = GRADE_SLOT_DIAGONAL;
      slot.index = it->second;
    }
    slotIndex[decl.getSymName()] = slots.size();
    slots.push_back(std::move(slot));
  }
  assert(slots.size() == size_t(kFirstDeclSlot) + decls.size());
  // The step's status flags, after the declarations (convert-gk-to-scf
  // numbers it so).
  if (model->hasAttr(kStatusAttr))
    slots.push_back({"status", GRADE_SLOT_STATUS, 0, GRADE_KIND_GLOBAL,
                     GRADE_DTYPE_I32, {1}});

  SmallVector<int32_t> swaps;
  if (ArrayAttr swapPairs = model.getSwapsAttr())
    for (Attribute swap : swapPairs)
      for (Attribute end : cast<ArrayAttr>(swap))
        swaps.push_back(
            slotIndex.lookup(cast<FlatSymbolRefAttr>(end).getValue()));

  ConstantEmitter emit(module, model.getLoc(), "__grade_" + modelName);
  // Strings first: the tables below take their addresses.
  std::string nameStr = emit.string(modelName);
  std::string sourceStr = emit.string(model.getSource() ? *model.getSource()
                                                        : "");
  SmallVector<std::string> fieldNames, slotNames;
  for (DeclOp field : fields)
    fieldNames.push_back(emit.string(field.getSymName()));
  for (const Slot &slot : slots)
    slotNames.push_back(emit.string(slot.name));
  TableauAttr tableau = solve.getScheme();
  std::string schemeName = emit.string(tableau.getName());
  std::optional<StringRef> defaultGraph =
      model.getGraphOp().getDefaultGraph();
  std::string defaultGraphStr =
      defaultGraph ? emit.string(*defaultGraph) : std::string();
  std::string aArray = emit.doubles(tableau.getA());
  std::string bArray = emit.doubles(tableau.getB());
  std::string cArray = emit.doubles(tableau.getC());
  std::string bhatArray =
      tableau.isAdaptive() ? emit.doubles(tableau.getBhat()) : "";
  std::string midArray =
      tableau.getMid().empty() ? "" : emit.doubles(tableau.getMid());
  std::string qaArray =
      tableau.isPartitioned() ? emit.doubles(tableau.getQA()) : "";
  std::string qbArray =
      tableau.isPartitioned() ? emit.doubles(tableau.getQB()) : "";
  std::string eaArray =
      tableau.isImex() ? emit.doubles(tableau.getExplicitA()) : "";
  std::string ebArray =
      tableau.isImex() ? emit.doubles(tableau.getExplicitB()) : "";
  std::string toleranceArray;
  if (DictionaryAttr own = solve.getStateTolerancesAttr()) {
    SmallVector<double> values;
    for (DeclOp field : fields) {
      auto pair = own.getAs<DenseF64ArrayAttr>(field.getSymName());
      values.push_back(pair ? pair[0] : 0.0);
      values.push_back(pair ? pair[1] : 0.0);
    }
    toleranceArray = emit.doubles(values);
  }
  std::string defaultArray;
  if (llvm::any_of(fields, [](DeclOp f) { return f.getDefaultValue(); })) {
    SmallVector<double> values;
    for (DeclOp field : fields)
      values.push_back(field.getDefaultValue()
                           ? field.getDefaultValue()->convertToDouble()
                           : std::nan(""));
    defaultArray = emit.doubles(values);
  }
  std::string swapArray = swaps.empty() ? "" : emit.ints(swaps);
  SmallVector<std::string> entryNames;
  for (auto [region, kind] : entryKinds)
    entryNames.push_back(emit.string(region));

  auto ptr = emit.ptr;
  // The symmetry groups and each field's law (invariant where absent).
  SymmetryAttr symmetry = model.getSymmetryAttr();
  std::string spellingStr =
      emit.string(symmetry ? symmetry.getSpelling() : "permutation");
  std::string lawTable;
  if (!fields.empty())
    lawTable = emit.array(
        fields.size(),
        LLVM::LLVMStructType::getLiteral(
            module.getContext(),
            {emit.i32, emit.i32, emit.f64, emit.f64, emit.f64}),
        [&](OpBuilder &b, size_t i) {
          Law law;
          if (LawAttr attr = fields[i].getLawAttr())
            law = getLaw(attr);
          return emit.makeStruct(
              b, {emit.int32(b, int32_t(law.rep)), emit.int32(b, 0),
                  emit.float64(b, law.translate), emit.float64(b, law.boost),
                  emit.float64(b, law.weight)});
        });
  // The `lie` clause: its state and period, and the programs of each
  // transformation (pairs of doubles; none: the identity).
  LieAttr lie = model.getLieAttr();
  auto indexOf = [&](FlatSymbolRefAttr symbol) -> int64_t {
    auto it = fieldIndex.find(symbol.getValue());
    return it == fieldIndex.end() ? -1 : it->second;
  };
  struct LieEntry {
    std::string name, x, t, u;
    int64_t xLength = 0, tLength = 0, uLength = 0;
  };
  SmallVector<LieEntry> lieEntries;
  if (lie)
    for (auto transform : lie.getTransforms().getAsRange<DictionaryAttr>()) {
      LieEntry entry;
      entry.name = emit.string(transform.getAs<StringAttr>("name"));
      auto program = [&](StringRef key, std::string &global,
                         int64_t &length) {
        ArrayRef<double> values =
            transform.getAs<DenseF64ArrayAttr>(key).asArrayRef();
        length = int64_t(values.size() / 2);
        if (!values.empty())
          global = emit.doubles(values);
      };
      program("x", entry.x, entry.xLength);
      program("t", entry.t, entry.tLength);
      program("u", entry.u, entry.uLength);
      lieEntries.push_back(std::move(entry));
    }
  std::string lieTable;
  if (!lieEntries.empty())
    lieTable = emit.array(
        lieEntries.size(),
        LLVM::LLVMStructType::getLiteral(
            module.getContext(),
            {ptr, ptr, ptr, ptr, emit.i32, emit.i32, emit.i32, emit.i32}),
        [&](OpBuilder &b, size_t i) {
          const LieEntry &entry = lieEntries[i];
          auto address = [&](const std::string &global) {
            return global.empty() ? emit.null(b) : emit.addressOf(b, global);
          };
          return emit.makeStruct(
              b, {emit.addressOf(b, entry.name), address(entry.x),
                  address(entry.t), address(entry.u),
                  emit.int32(b, entry.xLength), emit.int32(b, entry.tLength),
                  emit.int32(b, entry.uLength), emit.int32(b, 0)});
        });
  int64_t lieState = lie ? indexOf(lie.getState()) : -1;
  auto periodSymbol =
      lie ? dyn_cast<FlatSymbolRefAttr>(lie.getPeriod()) : FlatSymbolRefAttr();
  int64_t periodField = periodSymbol ? indexOf(periodSymbol) : -1;
  double period = 0;
  if (lie)
    if (auto number = dyn_cast<FloatAttr>(lie.getPeriod()))
      period = number.getValueAsDouble();
  std::string symmetryDesc = emit.array(
      1,
      LLVM::LLVMStructType::getLiteral(
          module.getContext(), {emit.i32, emit.i32, emit.f64, ptr, ptr,
                                emit.i32, emit.i32, emit.f64, emit.i32,
                                emit.i32, ptr}),
      [&](OpBuilder &b, size_t) {
        return emit.makeStruct(
            b, {emit.int32(b, symmetry ? symmetry.getGroups()
                                       : int64_t(GRADE_GROUP_PERMUTATION)),
                emit.int32(b, symmetry ? symmetry.getDim() : 0),
                emit.float64(b, symmetry ? symmetry.getTimeWeight()
                                               .getValueAsDouble()
                                         : 0.0),
                emit.addressOf(b, spellingStr),
                lawTable.empty() ? emit.null(b)
                                 : emit.addressOf(b, lawTable),
                emit.int32(b, lieState), emit.int32(b, periodField),
                emit.float64(b, period),
                emit.int32(b, int64_t(lieEntries.size())), emit.int32(b, 0),
                lieTable.empty() ? emit.null(b)
                                 : emit.addressOf(b, lieTable)});
      });
  std::string fieldTable = emit.array(
      fields.size(),
      LLVM::LLVMStructType::getLiteral(
          module.getContext(),
          {ptr, emit.i32, emit.i32, emit.i32, emit.i32,
           LLVM::LLVMArrayType::get(emit.i64, GRADE_MAX_RANK), emit.i32,
           emit.i32}),
      [&](OpBuilder &b, size_t i) {
        DeclOp field = fields[i];
        Type type = field.getType();
        ArrayRef<int64_t> shape = getFeatureShape(type);
        return emit.makeStruct(
            b, {emit.addressOf(b, fieldNames[i]),
                emit.int32(b, roleOf(field.getRole())),
                emit.int32(b, kindOf(type)), emit.int32(b, dtypeOf(type)),
                emit.int32(b, int64_t(shape.size())), emit.shape(b, shape),
                emit.int32(b, field.getOutput() ? 1 : 0), emit.int32(b, 0)});
      });
  std::string slotTable = emit.array(
      slots.size(),
      LLVM::LLVMStructType::getLiteral(
          module.getContext(),
          {ptr, emit.i32, emit.i32, emit.i32, emit.i32, emit.i32, emit.i32,
           LLVM::LLVMArrayType::get(emit.i64, GRADE_MAX_RANK)}),
      [&](OpBuilder &b, size_t i) {
        const Slot &slot = slots[i];
        return emit.makeStruct(
            b, {emit.addressOf(b, slotNames[i]), emit.int32(b, slot.slotKind),
                emit.int32(b, slot.index), emit.int32(b, slot.kind),
                emit.int32(b, slot.dtype),
                emit.int32(b, int64_t(slot.shape.size())), emit.int32(b, 0),
                emit.shape(b, slot.shape)});
      });
  std::string entryTable = emit.array(
      std::size(entryKinds),
      LLVM::LLVMStructType::getLiteral(module.getContext(),
                                       {ptr, emit.i32, emit.i32, ptr, ptr}),
      [&](OpBuilder &b, size_t i) {
        auto [region, kind] = entryKinds[i];
        bool isStep = kind == GRADE_ENTRY_STEP && !swaps.empty();
        return emit.makeStruct(
            b, {emit.addressOf(b, entryNames[i]), emit.int32(b, kind),
                emit.int32(b, isStep ? int64_t(swaps.size() / 2) : 0),
                isStep ? emit.addressOf(b, swapArray) : emit.null(b),
                hasCpu ? emit.addressOf(b, (kEntryPrefix + region).str())
                       : emit.null(b)});
      });

  // The GPU code: the PTX image of each architecture, moved out of the
  // gpu.binary (whose launches the mgpu* functions serve from these), the
  // GPU entries and the hooks table the runtime fills.
  std::string gpuDesc;
  if (binary) {
    SmallVector<std::string> chipNames, images;
    for (Attribute attr : binary.getObjects()) {
      auto object = cast<gpu::ObjectAttr>(attr);
      auto target = dyn_cast<NVVM::NVVMTargetAttr>(object.getTarget());
      if (!target || object.getFormat() != gpu::CompilationTarget::Assembly)
        return binary.emitOpError("holds an object that is not PTX for an "
                                  "NVVM target");
      chipNames.push_back(emit.string(target.getChip()));
      images.push_back(emit.string(object.getObject().getValue()));
    }
    if (images.empty())
      return binary.emitOpError("holds no PTX image");
    auto first = cast<gpu::ObjectAttr>(binary.getObjects()[0]);
    binary.setObjectsAttr(ArrayAttr::get(
        module.getContext(),
        {gpu::ObjectAttr::get(
            module.getContext(), first.getTarget(), first.getFormat(),
            StringAttr::get(module.getContext(), ""), nullptr, nullptr)}));
    auto stringTable = [&](ArrayRef<std::string> symbols) {
      return emit.array(symbols.size(), ptr, [&](OpBuilder &b, size_t i) {
        return emit.addressOf(b, symbols[i]);
      });
    };
    std::string chipTable = stringTable(chipNames);
    std::string imageTable = stringTable(images);
    std::string gpuEntryTable =
        emit.array(entryKinds.size(), ptr, [&](OpBuilder &b, size_t i) {
          return emit.addressOf(b,
                                (kGpuEntryPrefix + entryKinds[i].first).str());
        });
    // The hooks: writable, zero until the runtime fills them.
    std::string hooks = "__grade_" + model.getSymName().str() + ".gpu_hooks";
    {
      auto hooksType = LLVM::LLVMArrayType::get(ptr, kNumHooks);
      OpBuilder top = OpBuilder::atBlockEnd(module.getBody());
      auto global = LLVM::GlobalOp::create(
          top, model.getLoc(), hooksType, /*isConstant=*/false,
          LLVM::Linkage::Internal, hooks, Attribute());
      OpBuilder init = OpBuilder::atBlockEnd(
          top.createBlock(&global.getInitializerRegion()));
      LLVM::ReturnOp::create(
          init, model.getLoc(),
          ValueRange{LLVM::ZeroOp::create(init, model.getLoc(), hooksType)});
    }
    if (failed(defineMgpuFunctions(module, hooks)))
      return failure();
    gpuDesc = emit.array(
        1,
        LLVM::LLVMStructType::getLiteral(
            module.getContext(), {emit.i32, emit.i32, ptr, ptr, ptr, ptr}),
        [&](OpBuilder &b, size_t) {
          return emit.makeStruct(
              b, {emit.int32(b, int64_t(images.size())),
                  emit.int32(b, hasCpu ? 1 : 0), emit.addressOf(b, chipTable),
                  emit.addressOf(b, imageTable),
                  emit.addressOf(b, gpuEntryTable), emit.addressOf(b, hooks)});
        });
  }

  // The kernels' thread pool is the library's OpenMP runtime.
  OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
  Location loc = model.getLoc();
  MLIRContext *context = module.getContext();
  auto voidType = LLVM::LLVMVoidType::get(context);
  if (!module.lookupSymbol("omp_set_num_threads"))
    LLVM::LLVMFuncOp::create(builder, loc, "omp_set_num_threads",
                             LLVM::LLVMFunctionType::get(voidType, {emit.i32}));
  if (!module.lookupSymbol("omp_get_num_procs"))
    LLVM::LLVMFuncOp::create(builder, loc, "omp_get_num_procs",
                             LLVM::LLVMFunctionType::get(emit.i32, {}));

  std::string descriptorName = "__grade_" + modelName + ".descriptor";
  SmallVector<Type> descriptorTypes;
  emit.global(
      descriptorName,
      // Placeholder replaced below: the type is the initializer's.
      LLVM::LLVMStructType::getLiteral(context, {}), LLVM::Linkage::Private,
      [&](OpBuilder &b) {
        SmallVector<Value> values = {
            emit.int32(b, GRADE_MODEL_ABI_VERSION),
            emit.int32(b, sizeof(grade_model_descriptor_t)),
            emit.addressOf(b, nameStr),
            emit.addressOf(b, sourceStr),
            emit.float64(b, solve.getT0().convertToDouble()),
            emit.float64(b, solve.getT1().convertToDouble()),
            emit.float64(b, solve.getDt().convertToDouble()),
            emit.int32(b, weights ? 1 : 0),
            emit.int32(b, weights ? dtypeOf(*weights) : 0),
            emit.int32(b, int64_t(fields.size())),
            emit.int32(b, int64_t(slots.size())),
            fields.empty() ? emit.null(b) : emit.addressOf(b, fieldTable),
            emit.addressOf(b, slotTable),
            emit.makeStruct(b, {emit.addressOf(b, schemeName),
                                emit.int32(b, tableau.getOrder()),
                                emit.int32(b, tableau.getNumStages()),
                                emit.addressOf(b, aArray),
                                emit.addressOf(b, bArray),
                                emit.addressOf(b, cArray)}),
            emit.int32(b, int64_t(std::size(entryKinds))),
            emit.int32(b, 0),
            emit.addressOf(b, entryTable),
            emit.addressOf(b, "omp_set_num_threads"),
            emit.addressOf(b, "omp_get_num_procs"),
            emit.makeStruct(
                b,
                {bhatArray.empty() ? emit.null(b)
                                   : emit.addressOf(b, bhatArray),
                 emit.int32(b, tableau.getEmbeddedOrder()),
                 // The FSAL slopes of an explicit step; the runtime
                 // solves an implicit scheme's stages itself.
                 emit.int32(b, tableau.isAdaptive() && tableau.isFSAL() &&
                                   !tableau.isImplicit()),
                 midArray.empty() ? emit.null(b) : emit.addressOf(b, midArray),
                 emit.float64(b, solve.getRtol()
                                     ? solve.getRtol()->convertToDouble()
                                     : 0.0),
                 emit.float64(b, solve.getAtol()
                                     ? solve.getAtol()->convertToDouble()
                                     : 0.0)}),
            qaArray.empty() ? emit.null(b) : emit.addressOf(b, qaArray),
            qbArray.empty() ? emit.null(b) : emit.addressOf(b, qbArray),
            emit.int32(b, tableau.getBdfOrder()),
            emit.int32(b, 0),
            eaArray.empty() ? emit.null(b) : emit.addressOf(b, eaArray),
            ebArray.empty() ? emit.null(b) : emit.addressOf(b, ebArray),
            toleranceArray.empty() ? emit.null(b)
                                   : emit.addressOf(b, toleranceArray),
            defaultArray.empty() ? emit.null(b)
                                 : emit.addressOf(b, defaultArray),
            defaultGraphStr.empty() ? emit.null(b)
                                    : emit.addressOf(b, defaultGraphStr),
            emit.addressOf(b, symmetryDesc),
            gpuDesc.empty() ? emit.null(b) : emit.addressOf(b, gpuDesc)};
        Value value = emit.makeStruct(b, values);
        descriptorTypes.push_back(value.getType());
        return value;
      });
  auto descriptor = module.lookupSymbol<LLVM::GlobalOp>(descriptorName);
  descriptor.setGlobalType(descriptorTypes.front());

  // grade_model_descriptor() and grade_<model>_model_descriptor().
  auto fnType = LLVM::LLVMFunctionType::get(ptr, {});
  for (std::string symbol :
       {std::string(kDescriptorSymbol),
        "grade_" + modelName + "_model_descriptor"}) {
    auto fn = LLVM::LLVMFuncOp::create(builder, loc, symbol, fnType);
    Block *body = fn.addEntryBlock(builder);
    OpBuilder fnBuilder = OpBuilder::atBlockEnd(body);
    LLVM::ReturnOp::create(fnBuilder, loc,
                           LLVM::AddressOfOp::create(fnBuilder, loc, ptr,
                                                     descriptorName)
                               .getResult());
  }
  model.erase();
  return success();
}

/// For each kernel's host twin `<kernel>_emulated` (convert-kernels-to-gpu
/// {emulate}), the exported `gradegen_emulated_<kernel>(params, grid,
/// block)`: the twin's arguments read from the launch's parameter array
/// (one pointer per lowered argument, as cuLaunchKernel takes them), then
/// every thread of every block in turn.
void emitEmulationWrappers(ModuleOp module) {
  MLIRContext *context = module.getContext();
  Type ptr = LLVM::LLVMPointerType::get(context);
  Type i64 = IntegerType::get(context, 64);
  SmallVector<LLVM::LLVMFuncOp> twins;
  for (auto func : module.getOps<LLVM::LLVMFuncOp>())
    if (func.getName().ends_with(kEmulatedSuffix) && !func.isExternal())
      twins.push_back(func);
  for (LLVM::LLVMFuncOp twin : twins) {
    Location loc = twin.getLoc();
    StringRef kernel = twin.getName().drop_back(kEmulatedSuffix.size());
    OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
    auto wrapper = LLVM::LLVMFuncOp::create(
        builder, loc, (kEmulatedPrefix + kernel).str(),
        LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(context),
                                    {ptr, i64, i64}));
    Block *entry = wrapper.addEntryBlock(builder);
    Value params = entry->getArgument(0), grid = entry->getArgument(1),
          block = entry->getArgument(2);
    OpBuilder b = OpBuilder::atBlockEnd(entry);
    ArrayRef<Type> types = twin.getFunctionType().getParams();
    SmallVector<Value> args;
    for (auto [index, type] : llvm::enumerate(types.drop_back(3))) {
      Value slot = LLVM::GEPOp::create(b, loc, ptr, ptr, params,
                                       ArrayRef<LLVM::GEPArg>{int32_t(index)});
      args.push_back(LLVM::LoadOp::create(
          b, loc, type, LLVM::LoadOp::create(b, loc, ptr, slot)));
    }
    Value zero = LLVM::ConstantOp::create(b, loc, i64, 0);
    Value one = LLVM::ConstantOp::create(b, loc, i64, 1);
    Region &body = wrapper.getBody();
    // for (i = 0; i < count; ++i) emitBody(i), entered from `from`;
    // returns the block after the loop.
    auto loop = [&](Block *from, Value count,
                    function_ref<void(Value)> emitBody) -> Block * {
      Block *header = b.createBlock(&body, body.end(), {i64}, {loc});
      Block *loopBody = b.createBlock(&body, body.end());
      Block *after = b.createBlock(&body, body.end());
      b.setInsertionPointToEnd(from);
      LLVM::BrOp::create(b, loc, ValueRange{zero}, header);
      b.setInsertionPointToEnd(header);
      Value i = header->getArgument(0);
      LLVM::CondBrOp::create(
          b, loc,
          LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::slt, i, count),
          loopBody, after);
      b.setInsertionPointToEnd(loopBody);
      emitBody(i);
      LLVM::BrOp::create(
          b, loc, ValueRange{LLVM::AddOp::create(b, loc, i, one)}, header);
      return after;
    };
    Block *exit = loop(entry, grid, [&](Value blockId) {
      Block *next = loop(b.getInsertionBlock(), block, [&](Value thread) {
        SmallVector<Value> call(args);
        call.append({blockId, block, thread});
        LLVM::CallOp::create(b, loc, twin, call);
      });
      b.setInsertionPointToEnd(next);
    });
    b.setInsertionPointToEnd(exit);
    LLVM::ReturnOp::create(b, loc, ValueRange{});
  }
}

struct EmitDescriptorPass
    : public grade::impl::EmitDescriptorBase<EmitDescriptorPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    emitEmulationWrappers(module);
    for (ModelOp model : llvm::make_early_inc_range(module.getOps<ModelOp>()))
      if (failed(emitDescriptor(model, module)))
        return signalPassFailure();
  }
};

} // namespace
