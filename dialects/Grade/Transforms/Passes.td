//===- Passes.td - passes on the grade dialect -------------*- tablegen -*-===//

#ifndef GRADE_DIALECTS_GRADE_TRANSFORMS_PASSES_TD
#define GRADE_DIALECTS_GRADE_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def ExpandSoftmax : Pass<"grade-expand-softmax", "::mlir::ModuleOp"> {
  let summary = "rewrite edge softmax into max-shifted exponentials";
  let description = [{
    Rewrites `grade.softmax` over in-edges into graph-calculus primitives,
    shifting by the per-node maximum for numerical safety:

    ```mlir
    %a = grade.softmax %G, %s : !grade.field<edge, f32>
    ```
    becomes
    ```mlir
    %m  = grade.reduce max %G, %s            // per node
    %md = grade.gather dst %G, %m            // per edge
    %z  = grade.binary sub %s, %md
    %ex = grade.unary exp %z
    %sm = grade.reduce sum %G, %ex
    %sd = grade.gather dst %G, %sm
    %a  = grade.binary div %ex, %sd
    ```
    Kernel formation then evaluates the three phases (max, sum, use) as
    successive loops over each node's in-edges, with only per-edge scalars
    recomputed and nothing of size E x d stored.
  }];
  let dependentDialects = ["::grade::GradeDialect"];
}

def SimplifyGraphCalculus
    : Pass<"grade-simplify-graph-calculus", "::mlir::ModuleOp"> {
  let summary = "algebraic identities of graph calculus";
  let description = [{
    Rewrites that move work from edges to nodes:

    - Linear reductions are split into terms and the factors that do not
      vary along a node's in-edges are pulled out of the reduction (the
      result is kept 0 at nodes without in-edges by `grade.nonempty_in`):
      `sum_j a_ij (x_j - x_i) = sum_j a_ij x_j - (sum_j a_ij) x_i`, and
      globals `sum_j c e_ij = c sum_j e_ij` (sum and mean).
    - Element-wise operations, dot products and parameter products whose
      edge operands are all destination gathers are computed per node:
      `f(x[dst], y[dst]) = f(x, y)[dst]`.
    - Parameter products of source gathers are computed per node before the
      gather: `x[src] @ W = (x @ W)[src]` (N d k instead of E d k work).

    ```mlir
    %d = grade.binary sub %xs, %xd : ...
    %m = grade.binary mul %a, %d : ...
    %r = grade.reduce sum %G, %m : ...
    ```
    becomes
    ```mlir
    %m1 = grade.binary mul %a, %xs : ...
    %s1 = grade.reduce sum %G, %m1 : ...
    %s2 = grade.reduce sum %G, %a : ...
    %p  = grade.binary mul %s2, %x : ...
    %d  = grade.binary sub %s1, %p : ...
    %r  = grade.nonempty_in %G, %d : ...
    ```
  }];
  let dependentDialects = ["::grade::GradeDialect"];
}

def CheckLaws : Pass<"grade-check-laws", "::mlir::ModuleOp"> {
  let summary = "prove the right-hand side equivariant under the model's groups";
  let description = [{
    For a model with a `symmetry` attribute, propagates transformation laws
    (dialects/Grade/IR/GradeLaw.h) through each `grade.rhs` region: a
    `grade.load` has its declaration's `law` (invariant without one), a
    float constant is a number, the time argument moves with time shifts
    and has the time's scaling weight, and every other op states its
    result's law through LawOpInterface. Each yielded derivative must have
    the law of its state's time derivative. A broken rule is an error at
    the op, naming the group; the frontend's Sema proves the same on the
    source, so on its output the pass finds nothing: it guards hand-written
    and transformed IR.

    ```mlir
    %r = grade.unary relu %v : !grade.field<node, 3xf64>
    // error: 'grade.unary' (relu) is not E(3)-equivariant: 'relu' acts on
    // each component of a vector; give it invariants (lengths, dot products)
    ```
  }];
  let dependentDialects = ["::grade::GradeDialect"];
}

def GenerateJvp : Pass<"grade-generate-jvp", "::mlir::ModuleOp"> {
  let summary = "forward-mode Jacobian-vector products of the right-hand side";
  let description = [{
    Builds `grade.jvp` from `grade.rhs` for the models whose scheme solves
    implicit stages (or every model, with `all`): it declares a `tangent`
    of every state and differentiates the right-hand side in forward mode,
    asking each op for the tangent of its result (TangentOpInterface;
    arith's scalar ops are differentiated here). A right-hand side through
    a non-differentiable op (a `max` reduction) is an error at that op. Runs
    before `grade-expand-softmax`, whose rewrite of softmax into max-shifted
    reductions would not differentiate.
  }];
  let options = [
    Option<"all", "all", "bool", /*default=*/"false",
           "Build the JVP of every model, not only of implicit schemes">,
    Option<"bestEffort", "best-effort", "bool", /*default=*/"false",
           "With all: skip, without an error, a model whose right-hand side "
           "cannot be differentiated (max reductions)">
  ];
  let dependentDialects = ["::grade::GradeDialect",
                           "::mlir::arith::ArithDialect"];
}

def GenerateVectorOps : Pass<"grade-generate-vector-ops", "::mlir::ModuleOp"> {
  let summary = "the vector entries of an implicit scheme's Newton-Krylov solves";
  let description = [{
    Gives a model whose scheme is implicit and whose states are all f64 the
    `grade.vector` entries (linear combination, elementwise product, Jacobi
    inverse, dot product, Newton residual and scaled error sums) over
    operands of the states' shapes, which the runtime points at its
    vectors: the solvers' arithmetic then runs where the kernels run (on
    a GPU's device memory, or on a CPU's threads).
  }];
  let dependentDialects = ["::grade::GradeDialect",
                           "::mlir::arith::ArithDialect"];
}

def ExpandScheme : Pass<"grade-expand-scheme", "::mlir::ModuleOp"> {
  let summary = "expand the solve scheme into a value-level step";
  let description = [{
    Builds `grade.step` from `grade.rhs` and the Butcher tableau of the
    `grade.solve` scheme: each stage inlines the right-hand side at the
    stage's state and time, and the new state is accumulated stage by stage,
    `y_{n+1} = y_n + dt sum_i b_i k_i`, as a running partial sum so that
    kernel formation can fuse each stage's update into its kernel's
    epilogue. `grade.rhs` is kept (it backs the library's eval_rhs).

    For `euler`:
    ```mlir
    grade.step targets [@x] (%G: !grade.graph, %t: f64, %dt: f64) {
      %x = grade.load @x : ...
      %k1 = <rhs at %x, %t>
      %c = arith.mulf %one, %dt : f64
      %u = grade.binary mul %c, %k1 : ...
      %xn = grade.binary add %x, %u : ...
      grade.yield %xn : ...
    }
    ```
  }];
  let dependentDialects = ["::grade::GradeDialect",
                           "::mlir::arith::ArithDialect"];
}

#endif // GRADE_DIALECTS_GRADE_TRANSFORMS_PASSES_TD
