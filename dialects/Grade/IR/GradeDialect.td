//===- GradeDialect.td - the grade dialect -----------------*- tablegen -*-===//
//
// The `grade` dialect describes a differential GNN model at the level the
// user wrote it: a graph, node and edge fields, graph-calculus operations
// (gathers along edges, reductions over in-edges, edge softmax), and the
// right-hand side of an ODE together with the scheme that discretises it.
//
//===----------------------------------------------------------------------===//

#ifndef GRADE_DIALECTS_GRADE_IR_GRADEDIALECT_TD
#define GRADE_DIALECTS_GRADE_IR_GRADEDIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Grade_Dialect : Dialect {
  let name = "grade";
  let cppNamespace = "::grade";
  let summary = "Differential equations on graphs";
  let description = [{
    The `grade` dialect holds a model as a `grade.model` symbol table:
    declarations of the graph and of every field (`grade.graph`,
    `grade.decl`), the computations evaluated once at the start
    (`grade.init`), the right-hand side `dx/dt = f(x, t)` (`grade.rhs`),
    and the discretisation (`grade.solve`). Passes expand the scheme into a
    value-level `grade.step` and lower everything into fused loop nests over
    the graph's CSR structure.

    Values are either *fields* (`!grade.field<node, 64xf32>`: one feature
    vector per node or per edge) or *globals* (builtin floats and tensors:
    scalars, parameters). Elementwise operations broadcast globals and
    rank-0 fields over features.
  }];
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    // grade.slot views LLVM pointers as memrefs.
    "::mlir::LLVM::LLVMDialect"
  ];
  let hasConstantMaterializer = 1;
  let extraClassDeclaration = [{
    /// Registers the types (defined in GradeTypes.cpp next to their storage).
    void registerTypes();
    /// Registers the attributes (GradeAttrs.cpp).
    void registerAttributes();
  }];
}

/// Base class of every grade operation.
class Grade_Op<string mnemonic, list<Trait> traits = []>
    : Op<Grade_Dialect, mnemonic, traits>;

/// Base class of every grade type.
class Grade_Type<string name, string typeMnemonic, list<Trait> traits = []>
    : TypeDef<Grade_Dialect, name, traits> {
  let mnemonic = typeMnemonic;
}

#endif // GRADE_DIALECTS_GRADE_IR_GRADEDIALECT_TD
