//===- GradeTypes.td - types of the grade dialect ----------*- tablegen -*-===//

#ifndef GRADE_DIALECTS_GRADE_IR_GRADETYPES_TD
#define GRADE_DIALECTS_GRADE_IR_GRADETYPES_TD

include "dialects/Grade/IR/GradeDialect.td"
include "mlir/IR/BuiltinTypeInterfaces.td"

def Grade_GraphType : Grade_Type<"Graph", "graph"> {
  let summary = "the graph a model runs on";
  let description = [{
    A handle to the graph bound at run time: its nodes, its edges in CSR
    order grouped by destination, and optional edge weights. Graph-calculus
    operations take it as their first operand.

    ```mlir
    ^bb0(%G: !grade.graph):
    ```
  }];
}

def Grade_FieldType : Grade_Type<"Field", "field"> {
  let summary = "one feature tensor per node or per edge";
  let description = [{
    A field assigns a value of a static feature shape to every node or to
    every edge of the graph. The shape may be empty (a scalar per node).

    ```mlir
    !grade.field<node, f64>        // a scalar per node
    !grade.field<node, 64xf32>     // a 64-vector per node
    !grade.field<edge, f32>        // a scalar per edge
    ```
  }];
  let parameters = (ins
    "::grade::FieldKind":$kind,
    ArrayRefParameter<"int64_t", "feature shape">:$shape,
    "::mlir::Type":$elementType
  );
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let skipDefaultBuilders = 0;
  let extraClassDeclaration = [{
    /// True for fields of one scalar per node or edge.
    bool isScalar() const { return getShape().empty(); }
    /// Number of feature elements per node or edge.
    int64_t getNumFeatures() const;
    /// This type with another kind (node <-> edge).
    FieldType withKind(::grade::FieldKind kind) const;
    /// This type with another feature shape.
    FieldType withShape(::llvm::ArrayRef<int64_t> shape) const;
    bool isNode() const { return getKind() == ::grade::FieldKind::node; }
    bool isEdge() const { return getKind() == ::grade::FieldKind::edge; }
  }];
}

#endif // GRADE_DIALECTS_GRADE_IR_GRADETYPES_TD
