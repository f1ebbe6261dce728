// RUN: grade-opt %s -split-input-file | grade-opt -split-input-file | FileCheck %s --check-prefix=ROUND
// RUN: grade-opt %s -grade-generate-jvp -split-input-file | FileCheck %s --check-prefix=JVP
// RUN: grade-opt %s -grade-generate-jvp=all=true -split-input-file | FileCheck %s --check-prefix=ALL
// RUN: grade-opt %s -grade-generate-jvp -grade-expand-scheme -split-input-file | FileCheck %s --check-prefix=EXPAND

// A split right-hand side, dx/dt = [sum_in(w (x[src] - x[dst]))]_implicit
// + [x - x^3]_explicit: the whole and both parts round-trip with their
// part keyword.
// ROUND-LABEL: grade.model @ac
// ROUND: grade.rhs targets [@x]
// ROUND: grade.rhs explicit targets [@x]
// ROUND: grade.rhs implicit targets [@x]
// ROUND: grade.solve ars222 dt

// Under an IMEX scheme the JVP and the Jacobian diagonal are the implicit
// part's: they see the gathers and the reduction, never the cubic.
// JVP-LABEL: grade.model @ac
// JVP: grade.decl tangent @x__tangent of @x
// JVP-NOT: grade.jvp targets
// JVP: grade.jvp implicit targets [@x]
// JVP-NOT: grade.binary mul %{{.*}}, %{{.*}} : !grade.field<node, f64>, !grade.field<node, f64>
// JVP: grade.reduce sum
// JVP: grade.jacobian_diagonal implicit targets [@x]
// JVP-NOT: grade.jvp

// With all=true (gradec --jvp) the whole's JVP is built too, sharing the
// tangent declaration.
// ALL-LABEL: grade.model @ac
// ALL: grade.decl tangent @x__tangent of @x
// ALL-NOT: grade.decl tangent
// ALL-DAG: grade.jvp targets [@x]
// ALL-DAG: grade.jvp implicit targets [@x]

// An IMEX scheme's parts stay (the runtime steps); no explicit step.
// EXPAND-LABEL: grade.model @ac
// EXPAND: grade.rhs explicit
// EXPAND: grade.rhs implicit
// EXPAND-NOT: grade.step
grade.model @ac {
  grade.graph @G weight(f64)
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    %x2 = grade.binary mul %x, %x : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
    %x3 = grade.binary mul %x2, %x : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
    %r = grade.binary sub %x, %x3 : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
    %w = grade.weight %G : !grade.field<edge, f64>
    %xs = grade.gather src %G, %x : !grade.field<node, f64> -> !grade.field<edge, f64>
    %xd = grade.gather dst %G, %x : !grade.field<node, f64> -> !grade.field<edge, f64>
    %d = grade.binary sub %xs, %xd : !grade.field<edge, f64>, !grade.field<edge, f64> -> !grade.field<edge, f64>
    %wd = grade.binary mul %w, %d : !grade.field<edge, f64>, !grade.field<edge, f64> -> !grade.field<edge, f64>
    %s = grade.reduce sum %G, %wd : !grade.field<edge, f64> -> !grade.field<node, f64>
    %f = grade.binary add %r, %s : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
    grade.yield %f : !grade.field<node, f64>
  }
  grade.rhs explicit targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    %x2 = grade.binary mul %x, %x : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
    %x3 = grade.binary mul %x2, %x : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
    %r = grade.binary sub %x, %x3 : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
    grade.yield %r : !grade.field<node, f64>
  }
  grade.rhs implicit targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    %w = grade.weight %G : !grade.field<edge, f64>
    %xs = grade.gather src %G, %x : !grade.field<node, f64> -> !grade.field<edge, f64>
    %xd = grade.gather dst %G, %x : !grade.field<node, f64> -> !grade.field<edge, f64>
    %d = grade.binary sub %xs, %xd : !grade.field<edge, f64>, !grade.field<edge, f64> -> !grade.field<edge, f64>
    %wd = grade.binary mul %w, %d : !grade.field<edge, f64>, !grade.field<edge, f64> -> !grade.field<edge, f64>
    %s = grade.reduce sum %G, %wd : !grade.field<edge, f64> -> !grade.field<node, f64>
    grade.yield %s : !grade.field<node, f64>
  }
  grade.solve ars222 dt(0.1) over [0.0, 1.0]
}

// -----

// Under a scheme for the whole (rk4 here), the parts go: the step is the
// whole's, which is their sum.
// EXPAND-LABEL: grade.model @split_rk4
// EXPAND-NOT: grade.rhs explicit
// EXPAND-NOT: grade.rhs implicit
// EXPAND: grade.step targets [@x]
// EXPAND-NOT: grade.rhs explicit
// EXPAND-NOT: grade.rhs implicit
grade.model @split_rk4 {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    %y = grade.unary tanh %x : !grade.field<node, f64>
    %f = grade.binary add %x, %y : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
    grade.yield %f : !grade.field<node, f64>
  }
  grade.rhs explicit targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    %y = grade.unary tanh %x : !grade.field<node, f64>
    grade.yield %y : !grade.field<node, f64>
  }
  grade.rhs implicit targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    grade.yield %x : !grade.field<node, f64>
  }
  grade.solve rk4 dt(0.1) over [0.0, 1.0]
}
