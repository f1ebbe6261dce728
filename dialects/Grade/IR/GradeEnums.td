//===- GradeEnums.td - enumerations of the grade dialect ---*- tablegen -*-===//

#ifndef GRADE_DIALECTS_GRADE_IR_GRADEENUMS_TD
#define GRADE_DIALECTS_GRADE_IR_GRADEENUMS_TD

include "mlir/IR/EnumAttr.td"

def Grade_FieldKind : I32EnumAttr<"FieldKind", "where a field lives", [
    I32EnumAttrCase<"node", 0>,
    I32EnumAttrCase<"edge", 1>
  ]> {
  let cppNamespace = "::grade";
}

def Grade_Role : I32EnumAttr<"Role", "what a declared field is for", [
    I32EnumAttrCase<"input", 0>,
    I32EnumAttrCase<"param", 1>,
    I32EnumAttrCase<"state", 2>,
    I32EnumAttrCase<"let", 3>,
    I32EnumAttrCase<"temp", 4>,
    // The buffers an adaptive step shares with the runtime's controller
    // (each belongs to a state, named by the declaration's `of`): the state's slope at the start of the step (FSAL), its value
    // at the step's midpoint (dense output), the step's sum of squared
    // scaled local errors, and the tolerances the step scales them by.
    I32EnumAttrCase<"slope", 5>,
    I32EnumAttrCase<"midpoint", 6>,
    I32EnumAttrCase<"error", 7>,
    I32EnumAttrCase<"rtol", 8>,
    I32EnumAttrCase<"atol", 9>,
    // The direction v of a Jacobian-vector product J v (`grade.jvp`), per
    // state: the runtime points it at its vector.
    I32EnumAttrCase<"tangent", 10>,
    // A field computed after the solve from the states (`readout` in a
    // model file), by `grade.readout`.
    I32EnumAttrCase<"readout", 11>,
    // The operands of the vector entries (`grade.vector`), per state: the
    // runtime points them at its vectors (an implicit stage's Newton and
    // Krylov vectors, resident where the kernels run), reads x, y and z
    // and writes out.
    I32EnumAttrCase<"vector_x", 12>,
    I32EnumAttrCase<"vector_y", 13>,
    I32EnumAttrCase<"vector_z", 14>,
    I32EnumAttrCase<"vector_out", 15>,
    // A vector entry's reduction (f64, global): a dot product or a sum of
    // squares the runtime reads.
    I32EnumAttrCase<"result", 16>
  ]> {
  let cppNamespace = "::grade";
}

def Grade_GatherEnd : I32EnumAttr<"GatherEnd", "end of an edge", [
    I32EnumAttrCase<"src", 0>,
    I32EnumAttrCase<"dst", 1>
  ]> {
  let cppNamespace = "::grade";
}

def Grade_ReduceKind : I32EnumAttr<"ReduceKind",
    "reduction over a node's in-edges or out-edges", [
    I32EnumAttrCase<"sum", 0>,
    I32EnumAttrCase<"mean", 1>,
    I32EnumAttrCase<"max", 2>
  ]> {
  let cppNamespace = "::grade";
}

def Grade_ReduceAllKind : I32EnumAttr<"ReduceAllKind",
    "reduction of a whole field to a global value", [
    I32EnumAttrCase<"sum", 0>,
    I32EnumAttrCase<"mean", 1>,
    I32EnumAttrCase<"max", 2>,
    I32EnumAttrCase<"min", 3>
  ]> {
  let cppNamespace = "::grade";
}

def Grade_ContractKind : I32EnumAttr<"ContractKind",
    "how a contraction combines the products it reduces", [
    I32EnumAttrCase<"sum", 0>,
    I32EnumAttrCase<"max", 1>,
    I32EnumAttrCase<"min", 2>
  ]> {
  let cppNamespace = "::grade";
}

def Grade_UnaryFn : I32EnumAttr<"UnaryFn", "elementwise unary function", [
    I32EnumAttrCase<"neg", 0>,
    I32EnumAttrCase<"exp", 1>,
    I32EnumAttrCase<"log", 2>,
    I32EnumAttrCase<"sqrt", 3>,
    I32EnumAttrCase<"tanh", 4>,
    I32EnumAttrCase<"relu", 5>,
    I32EnumAttrCase<"sigmoid", 6>,
    I32EnumAttrCase<"abs", 7>,
    I32EnumAttrCase<"sin", 8>,
    I32EnumAttrCase<"cos", 9>,
    I32EnumAttrCase<"tan", 10>,
    I32EnumAttrCase<"asin", 11>,
    I32EnumAttrCase<"acos", 12>,
    I32EnumAttrCase<"atan", 13>,
    I32EnumAttrCase<"sinh", 14>,
    I32EnumAttrCase<"cosh", 15>,
    I32EnumAttrCase<"floor", 16>,
    I32EnumAttrCase<"ceil", 17>,
    I32EnumAttrCase<"round", 18>,
    I32EnumAttrCase<"sign", 19>
  ]> {
  let cppNamespace = "::grade";
}

def Grade_BinaryFn : I32EnumAttr<"BinaryFn", "elementwise binary function", [
    I32EnumAttrCase<"add", 0>,
    I32EnumAttrCase<"sub", 1>,
    I32EnumAttrCase<"mul", 2>,
    I32EnumAttrCase<"div", 3>,
    I32EnumAttrCase<"min", 4>,
    I32EnumAttrCase<"max", 5>,
    I32EnumAttrCase<"pow", 6>,
    I32EnumAttrCase<"atan2", 7>,
    // Comparisons: 1 where true, 0 where false (NaN compares false, but
    // unequal: `ne` is 1).
    I32EnumAttrCase<"lt", 8>,
    I32EnumAttrCase<"le", 9>,
    I32EnumAttrCase<"gt", 10>,
    I32EnumAttrCase<"ge", 11>,
    I32EnumAttrCase<"eq", 12>,
    I32EnumAttrCase<"ne", 13>
  ]> {
  let cppNamespace = "::grade";
}

// The part of a split (IMEX) right-hand side a region computes: the model
// file's `rhs explicit dx/dt` or `rhs implicit dx/dt` declarations. The
// C++ names avoid the keyword `explicit`.
def Grade_RhsPart : I32EnumAttr<"RhsPart",
    "part of a split right-hand side", [
    I32EnumAttrCase<"ExplicitPart", 0, "explicit">,
    I32EnumAttrCase<"ImplicitPart", 1, "implicit">
  ]> {
  let cppNamespace = "::grade";
}

// What a vector entry (`grade.vector`) computes over every state, with
// operands x, y, z, the output out, the entry's scalars t and dt, and the
// result r (an f64):
//   lincomb   out = t x + dt y
//   multiply  out = x y
//   jacobi    out = 1 / (1 - t x) where that is finite and |1 - t x| >
//             1e-12, else 1 (the inverse of a Jacobi preconditioner)
//   dot       r = sum x y
//   residual  r = sum (x / (1 + |y|))^2
//   error     r = sum (x / (atol + rtol max(|y|, |z|)))^2, with each
//             state's `rtol of` and `atol of`
def Grade_VectorKind : I32EnumAttr<"VectorKind",
    "the operation of a vector entry", [
    I32EnumAttrCase<"lincomb", 0>,
    I32EnumAttrCase<"multiply", 1>,
    I32EnumAttrCase<"jacobi", 2>,
    I32EnumAttrCase<"dot", 3>,
    I32EnumAttrCase<"residual", 4>,
    I32EnumAttrCase<"error", 5>
  ]> {
  let cppNamespace = "::grade";
}

#endif // GRADE_DIALECTS_GRADE_IR_GRADEENUMS_TD
