//===- GradeOps.td - operations of the grade dialect -------*- tablegen -*-===//
//
// Three groups of operations:
//  - structure: the model symbol table, its declarations, the regions that
//    compute initial values, right-hand sides and steps, and the solve clause;
//  - graph calculus on fields: gathers, reductions (over in-edges and over
//    the whole field), edge softmax, degree,
//    weights, elementwise math, and contractions over feature axes (dot
//    products, matrix products, per-head dots);
//  - the interface to generated code after lowering (`grade.slot`).
//
// The value ops of graph calculus type themselves (InferTypeOpInterface) by
// the rules in GradeTyping.h, the one place that states them.
//
//===----------------------------------------------------------------------===//

#ifndef GRADE_DIALECTS_GRADE_IR_GRADEOPS_TD
#define GRADE_DIALECTS_GRADE_IR_GRADEOPS_TD

include "dialects/Grade/IR/GradeAttrs.td"
include "dialects/Grade/IR/GradeDialect.td"
include "dialects/Grade/IR/GradeEnums.td"
include "dialects/Grade/IR/GradeInterfaces.td"
include "dialects/Grade/IR/GradeTypes.td"
include "mlir/IR/BuiltinAttributes.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/IR/RegionKindInterface.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def Grade_AnyField : Type<CPred<"::llvm::isa<::grade::FieldType>($_self)">,
                          "node or edge field", "::grade::FieldType">;
def Grade_Float : AnyTypeOf<[F32, F64], "f32 or f64">;
def Grade_Tensor : RankedTensorOf<[F32, F64]>;
def Grade_LLVMPointer
    : Type<CPred<"::llvm::isa<::mlir::LLVM::LLVMPointerType>($_self)">,
           "LLVM pointer">,
      BuildableType<"::mlir::LLVM::LLVMPointerType::get($_builder.getContext())">;
def Grade_Value : AnyTypeOf<[Grade_AnyField, Grade_Float, Grade_Tensor],
                            "field, float or float tensor">;

//===----------------------------------------------------------------------===//
// Structure
//===----------------------------------------------------------------------===//

def Grade_ModelOp : Grade_Op<"model", [
    Symbol, SymbolTable, IsolatedFromAbove, NoTerminator, SingleBlock,
    NoRegionArguments
  ]> {
  let summary = "a differential model on a graph";
  let description = [{
    The root of a model: a symbol table holding one `grade.graph`, the
    field declarations (`grade.decl`), and the regions `grade.init`,
    `grade.rhs` (or, after scheme expansion, also `grade.step`) and
    `grade.solve`. An IMEX scheme's model also holds the two parts of its
    split right-hand side (`grade.rhs explicit`, `grade.rhs implicit`),
    each assigning every state (zero where a state has no such part). After lowering, only the declarations remain, together
    with the temporaries the kernels use and the attributes telling the
    runtime support code how to wire them (`rhs_outputs`, `swaps`).

    ```mlir
    grade.model @heat {
      grade.graph @G weight(f64)
      grade.decl input @x0 : !grade.field<node, f64>
      grade.decl state @x : !grade.field<node, f64> output
      grade.init targets [@x] (%G: !grade.graph) {
        %0 = grade.load @x0 : !grade.field<node, f64>
        grade.yield %0 : !grade.field<node, f64>
      }
      ...
      grade.solve rk4 dt(1.0e-02) over [0.0, 1.0]
    }
    ```
  }];
  let arguments = (ins
    SymbolNameAttr:$sym_name,
    OptionalAttr<StrAttr>:$source,
    OptionalAttr<FlatSymbolRefArrayAttr>:$rhs_outputs,
    OptionalAttr<ArrayAttr>:$swaps,
    OptionalAttr<FlatSymbolRefArrayAttr>:$jvp_outputs,
    OptionalAttr<FlatSymbolRefArrayAttr>:$diagonal_outputs,
    OptionalAttr<Grade_SymmetryAttr>:$symmetry,
    OptionalAttr<Grade_LieAttr>:$lie
  );
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$sym_name attr-dict-with-keyword $body";
  let hasRegionVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [OpBuilder<(ins "::llvm::StringRef":$name)>];
  let extraClassDeclaration = [{
    /// The graph declaration (null if missing).
    GraphOp getGraphOp();
    /// The unique region ops of a model (null when absent); the rhs, jvp
    /// and diagonal of the whole right-hand side, or of one part of a
    /// split (IMEX) one.
    InitOp getInitOp();
    ReadoutOp getReadoutOp();
    RhsOp getRhsOp(std::optional<RhsPart> part = std::nullopt);
    StepOp getStepOp();
    JvpOp getJvpOp(std::optional<RhsPart> part = std::nullopt);
    DiagonalOp getDiagonalOp(std::optional<RhsPart> part = std::nullopt);
    /// The vector entry of `kind` (null when absent).
    VectorOp getVectorOp(VectorKind kind);
    /// The region ops that become the library's entry points, in the
    /// order the descriptor lists them (see getEntryName).
    ::llvm::SmallVector<::mlir::Operation *> getEntryRegions();
    SolveOp getSolveOp();
    /// The declaration named `name`, or null.
    DeclOp lookupDecl(::llvm::StringRef name);
    /// All declarations in order.
    ::llvm::SmallVector<DeclOp> getDecls();
    /// Declarations of states in order.
    ::llvm::SmallVector<DeclOp> getStates();
  }];
}

def Grade_GraphOp : Grade_Op<"graph", [Symbol, HasParent<"ModelOp">]> {
  let summary = "declares the graph the model runs on";
  let description = [{
    Declares the graph bound at run time. With `weight(T)` the model reads
    edge weights of element type `T` through `grade.weight`; a graph bound
    without weights then reads every weight as 1. `default` is the graph
    the model file names, used when the caller binds none: a generator spec
    `"gen:cycle:64"` or a file's absolute path. `index(T)` is the element
    type of the node numbers in the kernels' graph arrays (the sources of
    the in-edges, the targets of the out-edges): `i32` halves their
    traffic and limits the graph to 2^31 - 1 nodes; without it they are
    `i64`. Offsets and edge numbers are always `i64`, so the number of
    edges is never limited. `convert-gk-to-scf` sets it where it is absent.

    ```mlir
    grade.graph @G weight(f64) index(i32)
    ```
  }];
  let arguments = (ins
    SymbolNameAttr:$sym_name,
    OptionalAttr<TypeAttrOf<Grade_Float>>:$weight_type,
    OptionalAttr<TypeAttrOf<AnyTypeOf<[I32, I64]>>>:$index_type,
    OptionalAttr<StrAttr>:$default_graph
  );
  let assemblyFormat =
      "$sym_name (`weight` `(` $weight_type^ `)`)? "
      "(`index` `(` $index_type^ `)`)? "
      "(`default` `(` $default_graph^ `)`)? attr-dict";
  let extraClassDeclaration = [{
    /// The element type of the node numbers in the graph arrays (i64 where
    /// `index` is absent).
    mlir::IntegerType getNodeIndexType();
  }];
}

def Grade_DeclOp : Grade_Op<"decl", [Symbol, HasParent<"ModelOp">]> {
  let summary = "declares an input, parameter, state, let or temporary";
  let description = [{
    Declares a named array of the model. Inputs and parameters are bound by
    the caller, lets are computed by `grade.init`, states are integrated,
    and temporaries are scratch buffers introduced by lowering. The scheme
    expansion of an adaptive scheme declares the buffers the step shares
    with the runtime's step-size controller: `slope of @x` and
    `midpoint of @x` (fields of the state's type), `error of @x` (f64: the
    step's sum of squared scaled errors of the state), `rtol of @x` and
    `atol of @x` (f64, set by the runtime). States, lets
    and temporaries are fields; inputs and parameters may also be global
    scalars or tensors. `output` marks the fields the model exposes as
    results.

    ```mlir
    grade.decl param @Wk : tensor<64x16xf32>
    grade.decl param @alpha : f64 default(5.000000e-01)
    grade.decl state @x : !grade.field<node, 64xf32> output
    grade.decl slope @x__slope of @x : !grade.field<node, 64xf32>
    ```

    A global scalar parameter may have a default value (`default`), used
    when the caller binds none. In a model with a `symmetry` clause, `law`
    says how the field transforms under its groups (absent: invariant).
  }];
  let arguments = (ins
    Grade_Role:$role,
    SymbolNameAttr:$sym_name,
    TypeAttr:$type,
    UnitAttr:$output,
    OptionalAttr<FlatSymbolRefAttr>:$of,
    OptionalAttr<F64Attr>:$default_value,
    OptionalAttr<Grade_LawAttr>:$law
  );
  let builders = [
    OpBuilder<(ins "::grade::Role":$role, "::llvm::StringRef":$sym_name,
                   "::mlir::Type":$type, "bool":$output,
                   "::mlir::FlatSymbolRefAttr":$of), [{
      build($_builder, $_state, role, sym_name, type, output, of,
            ::mlir::FloatAttr(), LawAttr());
    }]>
  ];
  let assemblyFormat =
    "$role $sym_name (`of` $of^)? `:` $type (`default` `(` $default_value^ `)`)? "
    "(`output` $output^)? (`law` $law^)? attr-dict";
  let hasVerifier = 1;
}

class Grade_RegionOp<string mnemonic, list<Trait> traits = []>
    : Grade_Op<mnemonic, !listconcat(traits, [
        HasParent<"ModelOp">, IsolatedFromAbove, SingleBlock,
        DeclareOpInterfaceMethods<OpAsmOpInterface,
                                  ["getAsmBlockArgumentNames"]>])> {
  let arguments = (ins FlatSymbolRefArrayAttr:$targets);
  let regions = (region SizedRegion<1>:$body);
  let hasCustomAssemblyFormat = 1;
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    /// The terminator of the body.
    YieldOp getYield();
    /// The graph argument of the body.
    ::mlir::BlockArgument getGraphArg() { return getBody().getArgument(0); }
  }];
}

def Grade_InitOp : Grade_RegionOp<"init"> {
  let summary = "values computed once, before integration";
  let description = [{
    Computes the stored lets and the initial states from inputs and
    parameters. The body takes the graph and yields one value per target,
    in order; targets are lets or states.

    ```mlir
    grade.init targets [@a, @x] (%G: !grade.graph) {
      ...
      grade.yield %a, %x0 : !grade.field<edge, f32>, !grade.field<node, 64xf32>
    }
    ```
  }];
}

def Grade_ReadoutOp : Grade_RegionOp<"readout"> {
  let summary = "fields computed from the states, after the solve";
  let description = [{
    Computes the readouts (`readout logits = relu(x) @ W2 + b2;`): fields
    of the states' current values (`grade.load` of a state), the inputs,
    parameters and stored lets, at time `%t`. The runtime evaluates it when
    a readout is read after the states changed (after an integration, at
    each output time). The body takes the graph and the time and yields one
    value per target; targets are readouts.

    ```mlir
    grade.readout targets [@logits] (%G: !grade.graph, %t: f64) {
      %x = grade.load @x : !grade.field<node, 64xf32>
      ...
      grade.yield %logits : !grade.field<node, 7xf32>
    }
    ```
  }];
}

def Grade_RhsOp : Grade_RegionOp<"rhs"> {
  let summary = "the right-hand side dx/dt = f(x, t)";
  let description = [{
    Yields d(target)/dt for every target state, evaluated at the states'
    current values (`grade.load` of a state) and the time argument `%t`.
    The body holds the mathematics only: the scheme is applied by
    `grade-expand-scheme`. With `explicit` or `implicit`, it is that part
    of a split right-hand side (an IMEX scheme's model holds the whole and
    both parts; the runtime solves the implicit part's stages and
    evaluates the explicit part's).

    ```mlir
    grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
      %x = grade.load @x : !grade.field<node, f64>
      ...
      grade.yield %dx : !grade.field<node, f64>
    }
    ```
  }];
  let arguments = (ins FlatSymbolRefArrayAttr:$targets,
                       OptionalAttr<Grade_RhsPart>:$part);
  let builders = [
    OpBuilder<(ins "::mlir::ArrayAttr":$targets), [{
      build($_builder, $_state, targets, RhsPartAttr());
    }]>
  ];
}

def Grade_StepOp : Grade_RegionOp<"step"> {
  let summary = "one step of the discretised system";
  let description = [{
    Yields the new value of every target state after one step of size
    `%dt` from time `%t`, with `grade.load` of a state reading its value at
    the start of the step. Produced by `grade-expand-scheme`; the stage
    structure is visible as plain values, which the lowering fuses into
    kernels.

    ```mlir
    grade.step targets [@x] (%G: !grade.graph, %t: f64, %dt: f64) {
      ...
      grade.yield %xnew : !grade.field<node, f64>
    }
    ```
  }];
}

def Grade_JvpOp : Grade_RegionOp<"jvp"> {
  let summary = "the Jacobian-vector product of the right-hand side";
  let description = [{
    Yields J(y, t) v for every target state: the directional derivative of
    the state's right-hand side at the current states y and time `%t` along
    the tangents v, read as `grade.load` of the states' `tangent`
    declarations. Built by `grade-generate-jvp` from `grade.rhs` through
    each op's TangentOpInterface (forward mode, no finite differences);
    implicit schemes solve their stages with it. `implicit`: the JVP of
    the implicit part of a split right-hand side (IMEX schemes).

    ```mlir
    grade.jvp targets [@x] (%G: !grade.graph, %t: f64) {
      %x = grade.load @x : !grade.field<node, f64>
      %v = grade.load @x__tangent : !grade.field<node, f64>
      ...
      grade.yield %jv : !grade.field<node, f64>
    }
    ```
  }];
  let arguments = (ins FlatSymbolRefArrayAttr:$targets,
                       OptionalAttr<Grade_RhsPart>:$part);
  let builders = [
    OpBuilder<(ins "::mlir::ArrayAttr":$targets), [{
      build($_builder, $_state, targets, RhsPartAttr());
    }]>
  ];
}

def Grade_DiagonalOp : Grade_RegionOp<"jacobian_diagonal"> {
  let summary = "the diagonal of the right-hand side's Jacobian";
  let description = [{
    Yields, for every target state, the derivative of each of its values'
    right-hand sides with respect to that value itself (each node's own
    value: its loads and its reads as the destination of in-edges; a
    neighbour's value read through `x[src]` counts as independent). Built
    by `grade-generate-jvp` for implicit schemes; the runtime's Krylov
    solves precondition with it (Jacobi). Exact for scalar states without
    self-loops or out-edge reductions, an approximation otherwise (only
    the solver's speed depends on it).
  }];
  let arguments = (ins FlatSymbolRefArrayAttr:$targets,
                       OptionalAttr<Grade_RhsPart>:$part);
  let builders = [
    OpBuilder<(ins "::mlir::ArrayAttr":$targets), [{
      build($_builder, $_state, targets, RhsPartAttr());
    }]>
  ];
}

def Grade_VectorOp : Grade_RegionOp<"vector"> {
  let summary = "an operation on vectors of the states' shapes";
  let description = [{
    One of the vector entries an implicit scheme's Newton-Krylov solves
    run where the kernels run (`grade-generate-vector-ops`; the kinds are
    listed with `VectorKind`): a linear combination, an elementwise
    product, a Jacobi inverse, or a reduction to the f64 `result` (dot
    products, scaled sums of squares; summed over the states in their
    order, each by the fixed-order global reduction). The operands are the
    states' `vector_x`, `vector_y` and `vector_z` declarations, which the
    runtime points at its vectors, the output their `vector_out`; `%t` and
    `%dt` carry the entry's coefficients.

    ```mlir
    grade.vector lincomb targets [@x__out] (%G: !grade.graph, %t: f64, %dt: f64) {
      %a = grade.load @x__vx : !grade.field<node, f64>
      %b = grade.load @x__vy : !grade.field<node, f64>
      ...
      grade.yield %r : !grade.field<node, f64>
    }
    ```
  }];
  let arguments = (ins FlatSymbolRefArrayAttr:$targets,
                       Grade_VectorKind:$kind);
}

def Grade_SolveOp : Grade_Op<"solve", [HasParent<"ModelOp">]> {
  let summary = "the time discretisation and interval";
  let description = [{
    The scheme is a Butcher tableau (`#grade.tableau`); a built-in scheme
    prints by its name alone. An adaptive scheme's `dt` is its first step
    (0: chosen by the runtime) and `rtol`/`atol` its default tolerances;
    `tolerances` maps states to their own `array<f64: rtol, atol>` (0: the
    default), from the model file's `rtol(x) = ...`, `atol(x) = ...`.

    ```mlir
    grade.solve rk4 dt(1.000000e-02) over [0.000000e+00, 1.000000e+00]
    grade.solve #grade.tableau<"mine", order 1, a = [[0]], b = [1], c = [0]>
        dt(1.000000e-02) over [0.000000e+00, 1.000000e+00]
    ```
  }];
  let arguments = (ins
    Grade_TableauAttr:$scheme,
    F64Attr:$dt,
    F64Attr:$t0,
    F64Attr:$t1,
    OptionalAttr<F64Attr>:$rtol,
    OptionalAttr<F64Attr>:$atol,
    OptionalAttr<DictionaryAttr>:$state_tolerances
  );
  let assemblyFormat =
    "custom<Scheme>($scheme) `dt` `(` $dt `)` `over` ` ` `[` $t0 `,` $t1 `]` "
    "(`rtol` `(` $rtol^ `)`)? (`atol` `(` $atol^ `)`)? "
    "(`tolerances` $state_tolerances^)? attr-dict";
  let hasVerifier = 1;
}

def Grade_YieldOp : Grade_Op<"yield", [
    Pure, Terminator,
    ParentOneOf<["InitOp", "RhsOp", "StepOp", "JvpOp", "DiagonalOp", "VectorOp",
                 "ReadoutOp"]>
  ]> {
  let summary = "yields the values of a region's targets";
  let description = [{
    One value per target of the region: fields, and in `grade.step` also
    the f64 errors an adaptive step reports (`error` declarations).
  }];
  let arguments = (ins Variadic<AnyTypeOf<[Grade_AnyField, F64]>>:$values);
  let assemblyFormat = "attr-dict ($values^ `:` qualified(type($values)))?";
}

def Grade_LoadOp : Grade_Op<"load", [
    Pure, DeclareOpInterfaceMethods<SymbolUserOpInterface>
  ]> {
  let summary = "the value of a declared field";
  let description = [{
    Reads a declaration of the enclosing model: an input or parameter, a
    stored let, or a state (its value at the point of evaluation: the
    current state in `grade.rhs`, the state at the start of the step in
    `grade.step`). `grade.init` may read only inputs and parameters.

    ```mlir
    %x = grade.load @x : !grade.field<node, 64xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$decl);
  let results = (outs Grade_Value:$result);
  let assemblyFormat = "$decl attr-dict `:` qualified(type($result))";
}

//===----------------------------------------------------------------------===//
// Graph calculus
//===----------------------------------------------------------------------===//

def Grade_GatherOp : Grade_Op<"gather", [
    Pure, DeclareOpInterfaceMethods<InferTypeOpInterface>,
    DeclareOpInterfaceMethods<Grade_TangentOpInterface>,
    DeclareOpInterfaceMethods<Grade_LawOpInterface>
  ]> {
  let summary = "a node field read at each edge's source or destination";
  let description = [{
    `gather src` gives every edge j -> i the value x_j, `gather dst` the
    value x_i.

    ```mlir
    %e = grade.gather src %G, %x : !grade.field<node, 64xf32> -> !grade.field<edge, 64xf32>
    ```
  }];
  let arguments = (ins Grade_GatherEnd:$end, Grade_GraphType:$graph,
                       Grade_AnyField:$input);
  let results = (outs Grade_AnyField:$result);
  let assemblyFormat = [{
    $end $graph `,` $input attr-dict `:` qualified(type($input)) `->` qualified(type($result))
  }];
  let hasVerifier = 1;
}

def Grade_ReduceOp : Grade_Op<"reduce", [
    Pure, DeclareOpInterfaceMethods<InferTypeOpInterface>,
    DeclareOpInterfaceMethods<Grade_TangentOpInterface>,
    DeclareOpInterfaceMethods<Grade_LawOpInterface>
  ]> {
  let summary = "a reduction over each node's in-edges or out-edges";
  let description = [{
    For every node i, reduces the edge field over the in-edges j -> i
    (the default) or, with `out`, over the out-edges i -> j: `sum`, `mean`
    or `max`, elementwise over features. A node without such edges gets 0
    from every kind; `mean` divides by the in-degree or the out-degree.

    ```mlir
    %r = grade.reduce sum %G, %e : !grade.field<edge, f64> -> !grade.field<node, f64>
    %o = grade.reduce sum out %G, %e : !grade.field<edge, f64> -> !grade.field<node, f64>
    ```
  }];
  let arguments = (ins Grade_ReduceKind:$kind, UnitAttr:$out,
                       Grade_GraphType:$graph, Grade_AnyField:$input);
  let results = (outs Grade_AnyField:$result);
  let assemblyFormat = [{
    $kind (`out` $out^)? $graph `,` $input attr-dict `:` qualified(type($input)) `->` qualified(type($result))
  }];
  let hasVerifier = 1;
  let builders = [
    OpBuilder<(ins "::grade::ReduceKind":$kind, "::mlir::Value":$graph,
                   "::mlir::Value":$input, CArg<"bool", "false">:$out)>
  ];
}

def Grade_ReduceAllOp : Grade_Op<"reduce_all", [
    Pure, DeclareOpInterfaceMethods<InferTypeOpInterface>,
    DeclareOpInterfaceMethods<Grade_TangentOpInterface>,
    DeclareOpInterfaceMethods<Grade_LawOpInterface>
  ]> {
  let summary = "a reduction of a whole node or edge field to a global";
  let description = [{
    Reduces the field over all nodes (a node field) or all edges (an edge
    field), elementwise over features: `sum`, `mean`, `max` or `min`. The
    result is a global with the field's element type and feature shape: a
    scalar for a scalar field, a `tensor` of the feature shape otherwise.
    Over an empty set (no nodes, or no edges) every kind gives 0; NaN
    propagates through every kind.

    The value is only known after a full pass over the field: the lowering
    computes it in the kernel that computes the field, in fixed blocks of
    rows combined in a fixed order, so that it has the same bits at any
    thread count, and uses it from the next kernel on.

    ```mlir
    %s = grade.reduce_all sum %e : !grade.field<edge, f64> -> f64
    %m = grade.reduce_all max %x : !grade.field<node, 4xf32> -> tensor<4xf32>
    ```
  }];
  let arguments = (ins Grade_ReduceAllKind:$kind, Grade_AnyField:$input);
  let results = (outs AnyTypeOf<[Grade_Float, Grade_Tensor]>:$result);
  let assemblyFormat = [{
    $kind $input attr-dict `:` qualified(type($input)) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Grade_SoftmaxOp : Grade_Op<"softmax", [
    Pure, DeclareOpInterfaceMethods<InferTypeOpInterface>,
    DeclareOpInterfaceMethods<Grade_TangentOpInterface>,
    DeclareOpInterfaceMethods<Grade_LawOpInterface>
  ]> {
  let summary = "softmax over each node's in-edges";
  let description = [{
    a_e = exp(s_e) / sum over the in-edges e' of dst(e) of exp(s_e'),
    elementwise over features. `grade-expand-softmax` rewrites it into a
    max-shifted form built from `grade.reduce`.

    ```mlir
    %a = grade.softmax %G, %s : !grade.field<edge, f32>
    ```
  }];
  let arguments = (ins Grade_GraphType:$graph, Grade_AnyField:$input);
  let results = (outs Grade_AnyField:$result);
  let assemblyFormat = "$graph `,` $input attr-dict `:` qualified(type($input))";
  let hasVerifier = 1;
}

def Grade_NonEmptyOp : Grade_Op<"nonempty_in", [
    Pure, DeclareOpInterfaceMethods<InferTypeOpInterface>,
    DeclareOpInterfaceMethods<Grade_TangentOpInterface>,
    DeclareOpInterfaceMethods<Grade_LawOpInterface>
  ]> {
  let summary = "a node field kept only at nodes with in-edges";
  let description = [{
    The input at every node that has at least one in-edge, 0 at the others:
    what a linear reduction over in-edges gives at a node without them,
    whatever its factors. `grade-simplify-graph-calculus` wraps the factors
    it pulls out of `sum_in`/`mean_in` in it, so that
    `sum_in(c[dst] * e) = nonempty_in(c * sum_in(e))` stays 0 there rather
    than `c * 0`, which is NaN where `c` is not finite.

    ```mlir
    %r = grade.nonempty_in %G, %v : !grade.field<node, 4xf32>
    ```
  }];
  let arguments = (ins Grade_GraphType:$graph, Grade_AnyField:$input);
  let results = (outs Grade_AnyField:$result);
  let assemblyFormat = "$graph `,` $input attr-dict `:` qualified(type($input))";
  let hasVerifier = 1;
}

def Grade_DegreeOp : Grade_Op<"degree", [Pure,
    DeclareOpInterfaceMethods<Grade_TangentOpInterface>,
    DeclareOpInterfaceMethods<Grade_LawOpInterface>]> {
  let summary = "the number of in-edges of every node";
  let description = [{
    ```mlir
    %d = grade.degree %G : !grade.field<node, f64>
    ```
  }];
  let arguments = (ins Grade_GraphType:$graph);
  let results = (outs Grade_AnyField:$result);
  let assemblyFormat = "$graph attr-dict `:` qualified(type($result))";
  let hasVerifier = 1;
}

def Grade_GraphSizeOp : Grade_Op<"size", [Pure,
    DeclareOpInterfaceMethods<Grade_TangentOpInterface>,
    DeclareOpInterfaceMethods<Grade_LawOpInterface>]> {
  let summary = "the number of nodes (or edges) of the graph";
  let description = [{
    The language's `N` and `E`: a global float, the size of the graph bound
    at run time (the kernels' `num_nodes` and `num_edges`).

    ```mlir
    %n = grade.size nodes %G : f64
    %e = grade.size edges %G : f32
    ```
  }];
  let arguments = (ins Grade_GraphType:$graph, UnitAttr:$edges);
  let results = (outs Grade_Float:$result);
  let assemblyFormat =
      "(`edges` $edges^) : (`nodes`)? $graph attr-dict `:` type($result)";
}

def Grade_WeightOp : Grade_Op<"weight", [Pure,
    DeclareOpInterfaceMethods<Grade_TangentOpInterface>,
    DeclareOpInterfaceMethods<Grade_LawOpInterface>]> {
  let summary = "the weight of every edge";
  let description = [{
    Needs a graph declared with `weight(T)`; the result is a scalar edge
    field of element type `T`.

    ```mlir
    %w = grade.weight %G : !grade.field<edge, f64>
    ```
  }];
  let arguments = (ins Grade_GraphType:$graph);
  let results = (outs Grade_AnyField:$result);
  let assemblyFormat = "$graph attr-dict `:` qualified(type($result))";
  let hasVerifier = 1;
}

def Grade_UnaryOp : Grade_Op<"unary", [Pure,
    DeclareOpInterfaceMethods<InferTypeOpInterface>,
    DeclareOpInterfaceMethods<Grade_FieldComputeOpInterface>,
    DeclareOpInterfaceMethods<Grade_TangentOpInterface>,
    DeclareOpInterfaceMethods<Grade_LawOpInterface>]> {
  let summary = "an elementwise unary function";
  let description = [{
    `neg exp log sqrt tanh relu sigmoid abs sin cos tan asin acos atan sinh
    cosh floor ceil round sign`, applied to every element of a field or a
    global value. `round` rounds halfway cases to even; `sign` is -1, 0 or
    1 (0 for either zero, NaN for NaN).

    ```mlir
    %y = grade.unary tanh %x : !grade.field<node, 64xf32>
    ```
  }];
  let arguments = (ins Grade_UnaryFn:$fn, Grade_Value:$input);
  let results = (outs Grade_Value:$result);
  let assemblyFormat = "$fn $input attr-dict `:` qualified(type($input))";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Grade_BinaryOp : Grade_Op<"binary", [Pure,
    DeclareOpInterfaceMethods<InferTypeOpInterface>,
    DeclareOpInterfaceMethods<Grade_FieldComputeOpInterface>,
    DeclareOpInterfaceMethods<Grade_TangentOpInterface>,
    DeclareOpInterfaceMethods<Grade_LawOpInterface>]> {
  let summary = "an elementwise binary function with broadcasting";
  let description = [{
    `add sub mul div min max pow atan2` (`atan2 %y, %x` is the angle of the
    point (x, y), in [-pi, pi]). The operands have the same kind (node,
    edge) or one of them is a global; feature shapes are equal or one is
    empty (a scalar broadcast over features); element types are equal. A
    global vector of the field's feature shape combines with every element
    (a bias vector added to every node); a global matrix beside a field
    must have the field's feature shape (products with a matrix are
    `grade.contract`). The rules are `grade::inferBinaryType`
    (GradeTyping.h), which the op's type inference and verifier share with
    the frontend.

    ```mlir
    %z = grade.binary mul %a, %x : !grade.field<edge, f32>, !grade.field<edge, 64xf32> -> !grade.field<edge, 64xf32>
    ```
  }];
  let arguments = (ins Grade_BinaryFn:$fn, Grade_Value:$lhs,
                       Grade_Value:$rhs);
  let results = (outs Grade_Value:$result);
  let assemblyFormat = [{
    $fn $lhs `,` $rhs attr-dict `:` qualified(type($lhs)) `,` qualified(type($rhs)) `->` qualified(type($result))
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Grade_ConcatOp : Grade_Op<"concat", [
    Pure, DeclareOpInterfaceMethods<InferTypeOpInterface>,
    DeclareOpInterfaceMethods<Grade_TangentOpInterface>,
    DeclareOpInterfaceMethods<Grade_LawOpInterface>
  ]> {
  let summary = "joins scalars and vectors along the feature axis";
  let description = [{
    The feature vector whose features are those of the operands, in order,
    row by row (a scalar counts as one feature): the `[x_i ‖ x_j]` of
    message-passing layers. Fields have one kind; a global (a float or a
    vector) is the same for every row; at least one operand is a field.
    Element types are equal. The rule is `grade::inferConcatType`.

    ```mlir
    %m = grade.concat %xi, %xj, %d : !grade.field<edge, 16xf64>, !grade.field<edge, 16xf64>, !grade.field<edge, f64> -> !grade.field<edge, 33xf64>
    ```
  }];
  let arguments = (ins Variadic<Grade_Value>:$inputs);
  let results = (outs Grade_Value:$result);
  let assemblyFormat = [{
    $inputs attr-dict `:` qualified(type($inputs)) `->` qualified(type($result))
  }];
  let hasVerifier = 1;
}

def Grade_SelectOp : Grade_Op<"select", [Pure,
    DeclareOpInterfaceMethods<InferTypeOpInterface>,
    DeclareOpInterfaceMethods<Grade_FieldComputeOpInterface>,
    DeclareOpInterfaceMethods<Grade_TangentOpInterface>,
    DeclareOpInterfaceMethods<Grade_LawOpInterface>]> {
  let summary = "chooses elementwise between two values by a condition";
  let description = [{
    Where the condition is non-zero, the element of the second operand,
    else that of the third (a NaN condition is false). The three broadcast
    as `grade.binary`'s operands do (`grade::inferSelectType`), so a mask
    per node picks between two node fields, or a field and a number.

    ```mlir
    %y = grade.select %fixed, %x, %dx : !grade.field<node, f64>, !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
    ```
  }];
  let arguments = (ins Grade_Value:$condition, Grade_Value:$true_value,
                       Grade_Value:$false_value);
  let results = (outs Grade_Value:$result);
  let assemblyFormat = [{
    $condition `,` $true_value `,` $false_value attr-dict `:` qualified(type($condition)) `,` qualified(type($true_value)) `,` qualified(type($false_value)) `->` qualified(type($result))
  }];
  let hasVerifier = 1;
}

def Grade_ContractOp : Grade_Op<"contract", [
    Pure, DeclareOpInterfaceMethods<InferTypeOpInterface>,
    DeclareOpInterfaceMethods<Grade_TangentOpInterface>,
    DeclareOpInterfaceMethods<Grade_LawOpInterface>
  ]> {
  let summary = "an einsum-like contraction over feature axes";
  let description = [{
    Multiplies its operands element by element and sums over the indices
    that the output does not keep, like `numpy.einsum` with an explicit
    output; with `max` or `min` it takes the maximum or minimum of the
    products instead of their sum (NaN propagates; the maximum of nothing is
    -inf). A reduction over feature axes is a contraction of one operand:
    `max "hd->"` is the largest of all of a field's features, per row. `spec` names the feature axes of each operand with one letter
    each (`a`-`z`, `A`-`Z`), operands separated by commas, then `->` and
    the output's letters: `ij,j->i` is a matrix times a vector.

    Only feature axes are indexed. A field keeps its rows (nodes or edges):
    the contraction is done row by row and never crosses rows, so every
    field operand has the same kind and the result is a field of that kind;
    a node field and an edge field are combined by gathering the node field
    first. Globals (floats, tensors: parameters, inputs, global reductions)
    are the same for every row. A scalar operand has an empty subscript.

    A letter has the same size wherever it appears (it may appear twice in
    one operand: `ii->` is a trace); the output's letters are distinct and
    each appears in some input. At least one operand is a field (kernels
    compute per node or edge). The result has the output's feature shape,
    the operands' element type and the fields' kind. The rules are
    `grade::inferContractType` (GradeTyping.h). The language's `dot(a, b)`
    and `a . b` are `i,i->`, `x @ W` is `i,ij->j`.

    ```mlir
    // dot product of two edge vectors
    %s = grade.contract "i,i->" %k, %q : !grade.field<edge, 16xf32>, !grade.field<edge, 16xf32> -> !grade.field<edge, f32>
    // one dot product per attention head
    %h = grade.contract "hd,hd->h" %k, %q : !grade.field<edge, 4x8xf32>, !grade.field<edge, 4x8xf32> -> !grade.field<edge, 4xf32>
    // a node vector times a parameter matrix
    %y = grade.contract "i,ij->j" %x, %W : !grade.field<node, 64xf32>, tensor<64x16xf32> -> !grade.field<node, 16xf32>
    // a per-edge matrix (a sheaf restriction map) times a gathered vector
    %r = grade.contract "ij,j->i" %F, %xs : !grade.field<edge, 2x2xf64>, !grade.field<edge, 2xf64> -> !grade.field<edge, 2xf64>
    // outer product
    %o = grade.contract "i,j->ij" %a, %b : !grade.field<node, 3xf64>, !grade.field<node, 2xf64> -> !grade.field<node, 3x2xf64>
    // the largest score of each edge over its heads
    %m = grade.contract max "h->" %s : !grade.field<edge, 4xf32> -> !grade.field<edge, f32>
    ```
  }];
  let arguments = (ins StrAttr:$spec, Variadic<Grade_Value>:$inputs,
                       DefaultValuedAttr<Grade_ContractKind,
                                         "::grade::ContractKind::sum">:$kind);
  let results = (outs Grade_Value:$result);
  let assemblyFormat = [{
    custom<ContractSpec>($kind, $spec) $inputs attr-dict `:` qualified(type($inputs)) `->` qualified(type($result))
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The spec with its letters bound to axis sizes (the op must verify).
    ::grade::ContractSpec getContractSpec();
  }];
}

def Grade_SymPowOp : Grade_Op<"sym_pow", [
    Pure, SameOperandsAndResultType,
    DeclareOpInterfaceMethods<Grade_TangentOpInterface>,
    DeclareOpInterfaceMethods<Grade_LawOpInterface>
  ]> {
  let summary = "a real power of a symmetric positive semidefinite matrix";
  let description = [{
    M^p for the symmetric matrix M of each node or edge (a field of
    feature shape [d, d]), through its eigendecomposition M = V diag(l) V^T:
    V diag(l^p) V^T, the eigenvalues clamped at 0 from below, and, for
    p < 0, eigenvalues at most max(l) d eps (eps the element type's
    machine epsilon) contributing 0 (a pseudo-inverse power, as Neural
    Sheaf Diffusion's `batched_sym_matrix_pow`). The eigenvectors come from
    cyclic Jacobi rotations, a fixed number of sweeps that reaches rounding
    for the small d of per-node matrices (the normalisation (D + I)^-1/2 of
    a sheaf Laplacian's diagonal blocks). Only the symmetric part of M is
    read consistently: M must be symmetric.

    ```mlir
    %s = grade.sym_pow %m, -5.000000e-01 : !grade.field<node, 3x3xf64>
    ```
  }];
  let arguments = (ins Grade_AnyField:$input, F64Attr:$exponent);
  let results = (outs Grade_AnyField:$result);
  let assemblyFormat = [{
    $input `,` $exponent attr-dict `:` qualified(type($input))
  }];
  let hasVerifier = 1;
}

def Grade_ReindexOp : Grade_Op<"reindex", [
    Pure, DeclareOpInterfaceMethods<Grade_TangentOpInterface>,
    DeclareOpInterfaceMethods<Grade_LawOpInterface>
  ]> {
  let summary = "rearranges the features of each row by an affine map";
  let description = [{
    Element `r` of the result (a multi-index over its feature axes) is
    element `map(r)` of the input, row by row: the map's dimensions are the
    result's feature axes, its results the input's. Slices, windows,
    transposes, reshapes (with `floordiv` and `mod`) and broadcasts of a
    global along new axes are all reindexings. The input and the result
    have the same kind (node field, edge field, or global) and element
    type. Every result index must map into the input (checked by the
    verifier over the whole index space).

    Symbols are indices known only at run time (`take(W, floor(t))`: the
    layer of a stack of weights): each index operand is a global float,
    rounded down and clamped into the range of the input axis it selects
    (NaN selects 0); a symbol must be one whole result of the map and
    appear nowhere else.

    ```mlir
    // the windows of a 1-D convolution along the features, stride 3
    %u = grade.reindex %f by affine_map<(d0, d1, d2) -> (d0, d1 * 3 + d2)> : !grade.field<node, 1x128xf64> -> !grade.field<node, 1x38x16xf64>
    // the slice floor(t) of a stack of weight matrices
    %w = grade.reindex %W [%t] by affine_map<(d0, d1)[s0] -> (s0, d0, d1)> : tensor<6x38x16xf64>, f64 -> tensor<38x16xf64>
    ```
  }];
  let arguments = (ins Grade_Value:$input, Variadic<Grade_Float>:$indices,
                       AffineMapAttr:$map);
  let results = (outs Grade_Value:$result);
  let assemblyFormat = [{
    $input (`[` $indices^ `]`)? `by` $map attr-dict `:` qualified(type($input)) (`,` type($indices)^)? `->` qualified(type($result))
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The flat index into the input's features of flat result feature
    /// `index` (an `index` value), with the index operands' values
    /// `symbols` (floats, rounded down and clamped here).
    ::mlir::Value emitSourceIndex(::mlir::OpBuilder &builder,
                                  ::mlir::Location loc, ::mlir::Value index,
                                  ::mlir::ArrayRef<::mlir::Value> symbols);
  }];
}

//===----------------------------------------------------------------------===//
// Interface to generated code
//===----------------------------------------------------------------------===//

def Grade_SlotOp : Grade_Op<"slot", [Pure]> {
  let summary = "a buffer passed to a generated entry point";
  let description = [{
    Generated entry points receive their buffers as an array of pointers
    (`void **slots`) from the runtime support code. `grade.slot` views
    pointer number `index` as a one-dimensional memref of `size` elements.

    ```mlir
    %x = grade.slot %slots[3], %n : memref<?xf64>
    ```
  }];
  let arguments = (ins Grade_LLVMPointer:$slots, I64Attr:$index, Index:$size);
  let results = (outs MemRefRankOf<[AnyType], [1]>:$result);
  let assemblyFormat = [{
    $slots `[` $index `]` `,` $size attr-dict `:` qualified(type($result))
  }];
}

#endif // GRADE_DIALECTS_GRADE_IR_GRADEOPS_TD
