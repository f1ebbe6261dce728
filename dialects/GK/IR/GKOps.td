//===- GKOps.td - the gk (kernel) dialect -------------------*- tablegen -*-===//
//
// `gk` sits between the mathematics (`grade`) and a target's loops. It makes
// the decisions of kernel formation visible as IR: which values one kernel
// computes (its results), what it reads and how (its captures, read at the
// rows it writes or at other rows), how many passes over each node's edges
// it needs, which buffer each result goes to, and the order in which an
// entry point launches its kernels. Every decision is made by one pass and
// checked by the verifier; the target lowering (convert-gk-to-scf) only
// transcribes it.
//
//===----------------------------------------------------------------------===//

#ifndef GRADE_DIALECTS_GK_IR_GKOPS_TD
#define GRADE_DIALECTS_GK_IR_GKOPS_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def GK_Dialect : Dialect {
  let name = "gk";
  let cppNamespace = "::grade::gk";
  let summary = "Fused graph kernels, their buffers and their schedule";
  let description = [{
    A `gk.kernel` is one fused loop nest over the nodes of the graph (and,
    inside it, over each node's in-edges or out-edges). Its body is `grade`
    mathematics on its captures; its results are node or edge fields written
    to buffers, or globals reduced over the whole field. Passes:

    - `grade-form-kernels` groups each region's values into kernels;
    - `gk-schedule-edge-passes` numbers the passes over edges and assigns
      each reduction to one (`gk.pass`);
    - `gk-allocate-buffers` gives each result a buffer (a declaration of the
      model: a state, a let, or a temporary reused by liveness) and records
      the swaps and the derivative outputs for the runtime;
    - `gk-lower-entry-points` outlines the kernels (`gk.func`) and turns each
      region into an entry point (`gk.entry`) that launches them in order;
    - `convert-gk-to-scf` writes the CPU loops.
  }];
  let dependentDialects = ["::grade::GradeDialect"];
}

class GK_Op<string mnemonic, list<Trait> traits = []>
    : Op<GK_Dialect, mnemonic, traits>;

def GK_Access : I32EnumAttr<"Access", "how a kernel reads a capture", [
    I32EnumAttrCase<"local", 0>,
    I32EnumAttrCase<"remote", 1>,
    I32EnumAttrCase<"both", 2>,
    I32EnumAttrCase<"uniform", 3>
  ]> {
  let cppNamespace = "::grade::gk";
  let description = [{
    `local`: a field read only at the rows the kernel writes (the node, or
    the node's own in-edges). `remote`: read at other rows (a node value at
    an edge's other end, an edge array over out-edges); it must be complete
    before the kernel starts and must not be overwritten by it. `both`: both.
    `uniform`: a global or the graph, the same for every row.
  }];
}

def GK_KernelOp : GK_Op<"kernel", [IsolatedFromAbove, SingleBlock,
                                   RecursiveMemoryEffects,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>]> {
  let summary = "one fused loop nest over the nodes of the graph";
  let description = [{
    Captures are the values the kernel reads but does not compute: loads of
    declarations, results of earlier kernels, globals and the graph, each
    with its access (`local`, `remote`, `both`, `uniform`). The body computes
    the results from the block arguments with `grade` operations; a result
    is a field (stored per node, or per edge inside the last pass over the
    in-edges) or a global computed by a `grade.reduce_all` in the body.

    `over nodes` runs every node in parallel; `over blocks(R)` runs blocks of
    R nodes in parallel and each block's nodes in order, which the global
    reductions need for results independent of the thread count.
    `over balanced(C)` (chosen by `gk-choose-schedule`) runs up to C chunks
    of consecutive nodes in parallel (one per 4096 in-edges plus nodes on a
    small graph), each chunk's nodes in order, the chunk
    boundaries placed so that every chunk holds about the same number of
    in-edges plus nodes: threads given equal numbers of chunks get equal
    work on a graph whose degrees are skewed along the node order (a
    power-law graph sorted by degree). Each node's arithmetic is the same
    in every iteration space, so the results have the same bits.

    After `gk-schedule-edge-passes`, `passes N` gives the number of passes
    over each node's edges and every `grade.reduce` in the body carries
    `gk.pass`, the pass that accumulates it. After `gk-allocate-buffers`,
    every field result names its buffer (`in @decl`). After
    `gk-check-finite`, the results that are new values of states are
    `checked`: the kernel raises the entry's status flag when one of their
    elements is NaN or infinite. `vectors(B)` (chosen by
    `gk-choose-schedule`) asks the CPU code generator for vectors of B bits
    in this kernel's loops; without it the target's default applies.

    ```mlir
    %r = gk.kernel "heat_rhs_kernel0" over nodes
        (%g = %G : !grade.graph uniform, %x = %u : !grade.field<node, f64> both)
        -> (!grade.field<node, f64> in @d_u_0) passes 1 {
      ...
      gk.yield %v : !grade.field<node, f64>
    }
    ```
  }];
  let arguments = (ins Variadic<AnyType>:$captures, StrAttr:$kernel_name,
                       TypedArrayAttrBase<GK_Access, "accesses">:$access,
                       OptionalAttr<I64Attr>:$block_rows,
                       OptionalAttr<I64Attr>:$num_passes,
                       OptionalAttr<ArrayAttr>:$buffers,
                       OptionalAttr<DenseI64ArrayAttr>:$checked,
                       OptionalAttr<I64Attr>:$balanced_chunks,
                       OptionalAttr<I64Attr>:$vector_bits);
  let results = (outs Variadic<AnyType>:$results);
  let regions = (region SizedRegion<1>:$body);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
}

def GK_FuncOp : GK_Op<"func", [IsolatedFromAbove, SingleBlock, Symbol,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>]> {
  let summary = "an outlined kernel";
  let description = [{
    A `gk.kernel` moved out of its entry point by `gk-lower-entry-points`:
    the same iteration space, accesses, passes, buffers and body, launched by
    `gk.launch`.
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       TypeAttrOf<FunctionType>:$function_type,
                       TypedArrayAttrBase<GK_Access, "accesses">:$access,
                       OptionalAttr<I64Attr>:$block_rows,
                       OptionalAttr<I64Attr>:$num_passes,
                       OptionalAttr<ArrayAttr>:$buffers,
                       OptionalAttr<DenseI64ArrayAttr>:$checked,
                       OptionalAttr<I64Attr>:$balanced_chunks,
                       OptionalAttr<I64Attr>:$vector_bits);
  let regions = (region SizedRegion<1>:$body);
  let hasCustomAssemblyFormat = 1;
  let hasRegionVerifier = 1;
}

def GK_YieldOp : GK_Op<"yield", [Pure, Terminator,
                                 ParentOneOf<["KernelOp", "FuncOp"]>]> {
  let summary = "the results of a kernel";
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "attr-dict ($values^ `:` qualified(type($values)))?";
}

def GK_LaunchOp : GK_Op<"launch", [
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "runs an outlined kernel from an entry point";
  let arguments = (ins FlatSymbolRefAttr:$callee, Variadic<AnyType>:$captures);
  let results = (outs Variadic<AnyType>:$results);
  let assemblyFormat = [{
    $callee `(` $captures `)` attr-dict `:` functional-type($captures, $results)
  }];
}

def GK_StoreOp : GK_Op<"store", [HasParent<"EntryOp">,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "stores a global of an entry point in a declaration";
  let description = [{
    Writes a global the entry computed (an adaptive step's error) to the
    buffer of a global declaration of the model, for the runtime to read
    after the call.

    ```mlir
    gk.store %err to @x__error : f64
    ```
  }];
  let arguments = (ins F64:$value, FlatSymbolRefAttr:$decl);
  let assemblyFormat = "$value `to` $decl attr-dict `:` type($value)";
}

def GK_EntryOp : GK_Op<"entry", [IsolatedFromAbove, SingleBlock,
    NoTerminator, HasParent<"::grade::ModelOp">,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>]> {
  let summary = "the host-side schedule of one entry point";
  let description = [{
    `init`, `rhs` or `step`: the order in which the runtime's call runs the
    kernels (`gk.launch`) and evaluates the globals between them. The body
    takes the graph and the time arguments of the region it came from;
    `grade.load` gives the buffers the runtime binds, launch results are in
    the buffers their kernels name.
  }];
  let arguments = (ins StrAttr:$kind);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$kind attr-dict-with-keyword $body";
  let hasRegionVerifier = 1;
}

#endif // GRADE_DIALECTS_GK_IR_GKOPS_TD
