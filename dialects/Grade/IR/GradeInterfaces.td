//===- GradeInterfaces.td - op interfaces of the grade dialect -*- tablegen -*-===//
//
// Interfaces let kernel formation and code generation handle "any op that
// implements X" instead of a list of op names: a new elementwise op is its
// ODS and its FieldCompute implementation, nothing in the passes.
//
//===----------------------------------------------------------------------===//

#ifndef GRADE_DIALECTS_GRADE_IR_GRADEINTERFACES_TD
#define GRADE_DIALECTS_GRADE_IR_GRADEINTERFACES_TD

include "mlir/IR/OpBase.td"

def Grade_FieldComputeOpInterface : OpInterface<"FieldComputeOpInterface"> {
  let cppNamespace = "::grade";
  let description = [{
    An elementwise operation: each element of the result (a node's or an
    edge's feature, or a global's component) is a scalar function of the
    same element of the operands, globals broadcast. Kernel formation may
    fuse, recompute and inline such an op anywhere; code generation asks it
    for the scalar code of one element.
  }];
  let methods = [
    InterfaceMethod<[{
        Emits the scalar code of one element of the result at the builder's
        insertion point, given one scalar per operand (in operand order, of
        the operands' element types), and returns the scalar result.
      }],
      "::mlir::Value", "emitScalar",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Location":$loc,
           "::mlir::ValueRange":$operands)>
  ];
}

def Grade_TangentOpInterface : OpInterface<"TangentOpInterface"> {
  let cppNamespace = "::grade";
  let description = [{
    Forward-mode differentiation: an op that can say how a perturbation of
    its operands (their tangents) perturbs its result. `grade-generate-jvp`
    builds Jacobian-vector products of right-hand sides from it; reverse
    mode will ask the same ops for their transposes.
  }];
  let methods = [
    InterfaceMethod<[{
        Emits, at the builder's insertion point, the tangent of the op's
        result given the tangent of each operand (in operand order; a null
        value is a zero tangent) and returns it: null for a zero tangent,
        failure (with an error reported at the op) where the op is not
        differentiable.
      }],
      "::mlir::FailureOr<::mlir::Value>", "emitTangent",
      (ins "::mlir::OpBuilder &":$builder,
           "::mlir::ArrayRef<::mlir::Value>":$tangents)>
  ];
}

def Grade_LawOpInterface : OpInterface<"LawOpInterface"> {
  let cppNamespace = "::grade";
  let description = [{
    Symmetry: how the op transforms the laws of its operands
    (dialects/Grade/IR/GradeLaw.h) under a model's groups, by the rules of
    GradeLaws.h, which the frontend's proof applies to source expressions.
    `grade-check-laws` propagates laws through a model's regions with it
    and checks the right-hand side against its states.
  }];
  let methods = [
    InterfaceMethod<[{
        The law of the result given the law of each operand (in operand
        order; a graph operand's is ignored), or failure with `error` set.
      }],
      "::mlir::FailureOr<::grade::Law>", "inferLaw",
      (ins "::llvm::ArrayRef<::grade::Law>":$operands,
           "::grade::LawError *":$error)>
  ];
}

#endif // GRADE_DIALECTS_GRADE_IR_GRADEINTERFACES_TD
