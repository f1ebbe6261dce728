// RUN: grade-opt --grade-check-laws --split-input-file --verify-diagnostics %s | FileCheck %s

// grade-check-laws: the laws of the declarations, propagated through the
// right-hand side by each op's LawOpInterface, and each derivative checked
// against its state. What the frontend proves on the source, on the IR.

// Accepted: the mean of neighbours' positions minus the position is a
// vector, the derivative of a position.
// CHECK-LABEL: grade.model @mean
grade.model @mean attributes {symmetry = #grade.symmetry<"E(3)", [permutations, translations, rotations, reflections], dim 3, time_weight 0.0>} {
  grade.graph @G
  grade.decl state @x : !grade.field<node, 3xf64> law <vector, translate 1.0, boost 0.0, weight 0.0>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %0 = grade.load @x : !grade.field<node, 3xf64>
    %1 = grade.gather src %G, %0 : !grade.field<node, 3xf64> -> !grade.field<edge, 3xf64>
    %2 = grade.reduce mean %G, %1 : !grade.field<edge, 3xf64> -> !grade.field<node, 3xf64>
    %3 = grade.binary sub %2, %0 : !grade.field<node, 3xf64>, !grade.field<node, 3xf64> -> !grade.field<node, 3xf64>
    grade.yield %3 : !grade.field<node, 3xf64>
  }
  grade.solve euler dt(1.000000e-01) over [0.000000e+00, 1.000000e+00]
}

// -----

// A sum of positions over in-edges.
grade.model @sum attributes {symmetry = #grade.symmetry<"E(3)", [permutations, translations, rotations, reflections], dim 3, time_weight 0.0>} {
  grade.graph @G
  grade.decl state @x : !grade.field<node, 3xf64> law <vector, translate 1.0, boost 0.0, weight 0.0>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %0 = grade.load @x : !grade.field<node, 3xf64>
    %1 = grade.gather src %G, %0 : !grade.field<node, 3xf64> -> !grade.field<edge, 3xf64>
    // expected-error @+1 {{'grade.reduce' is not E(3)-equivariant: 'sum_in' of a position moves by the number of edges times a translation; use 'mean_in', weights from 'softmax_in', or differences of positions}}
    %2 = grade.reduce sum %G, %1 : !grade.field<edge, 3xf64> -> !grade.field<node, 3xf64>
    %3 = grade.binary sub %2, %0 : !grade.field<node, 3xf64>, !grade.field<node, 3xf64> -> !grade.field<node, 3xf64>
    grade.yield %3 : !grade.field<node, 3xf64>
  }
  grade.solve euler dt(1.000000e-01) over [0.000000e+00, 1.000000e+00]
}

// -----

// A nonlinearity of a vector.
grade.model @relu attributes {symmetry = #grade.symmetry<"E(3)", [permutations, translations, rotations, reflections], dim 3, time_weight 0.0>} {
  grade.graph @G
  grade.decl state @x : !grade.field<node, 3xf64> law <vector, translate 1.0, boost 0.0, weight 0.0>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %0 = grade.load @x : !grade.field<node, 3xf64>
    %1 = grade.gather src %G, %0 : !grade.field<node, 3xf64> -> !grade.field<edge, 3xf64>
    %2 = grade.reduce mean %G, %1 : !grade.field<edge, 3xf64> -> !grade.field<node, 3xf64>
    %3 = grade.binary sub %2, %0 : !grade.field<node, 3xf64>, !grade.field<node, 3xf64> -> !grade.field<node, 3xf64>
    // expected-error @+1 {{'grade.unary' (relu) is not E(3)-equivariant: 'relu' acts on each component of a vector; give it invariants (lengths, dot products)}}
    %4 = grade.unary relu %3 : !grade.field<node, 3xf64>
    grade.yield %4 : !grade.field<node, 3xf64>
  }
  grade.solve euler dt(1.000000e-01) over [0.000000e+00, 1.000000e+00]
}

// -----

// A derivative that is a position: the rhs is the mean position itself.
grade.model @position attributes {symmetry = #grade.symmetry<"T(3)", [permutations, translations], dim 3, time_weight 0.0>} {
  grade.graph @G
  grade.decl state @x : !grade.field<node, 3xf64> law <vector, translate 1.0, boost 0.0, weight 0.0>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %0 = grade.load @x : !grade.field<node, 3xf64>
    %1 = grade.gather src %G, %0 : !grade.field<node, 3xf64> -> !grade.field<edge, 3xf64>
    %2 = grade.reduce mean %G, %1 : !grade.field<edge, 3xf64> -> !grade.field<node, 3xf64>
    // expected-error @+1 {{the derivative of 'x' is a position, but must be an invariant under T(3): the state is a position}}
    grade.yield %2 : !grade.field<node, 3xf64>
  }
  grade.solve euler dt(1.000000e-01) over [0.000000e+00, 1.000000e+00]
}

// -----

// Scalings and the time: the weights of a product add; the time reads as
// its weight and moves under time shifts.
// CHECK-LABEL: grade.model @cubic
grade.model @cubic attributes {symmetry = #grade.symmetry<"scaling", [permutations, scalings], dim 0, time_weight 2.0>} {
  grade.graph @G
  grade.decl state @u : !grade.field<node, f64> law <scalar, translate 0.0, boost 0.0, weight -1.0>
  grade.rhs targets [@u] (%G: !grade.graph, %t: f64) {
    %0 = grade.load @u : !grade.field<node, f64>
    %1 = grade.binary mul %0, %0 : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
    %2 = grade.binary mul %1, %0 : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
    %c = arith.constant -2.0 : f64
    %3 = grade.binary mul %c, %2 : f64, !grade.field<node, f64> -> !grade.field<node, f64>
    grade.yield %3 : !grade.field<node, f64>
  }
  grade.solve euler dt(1.000000e-01) over [0.000000e+00, 1.000000e+00]
}

// -----

grade.model @clock attributes {symmetry = #grade.symmetry<"time", [permutations, time_shifts], dim 0, time_weight 0.0>} {
  grade.graph @G
  grade.decl state @u : !grade.field<node, f64>
  grade.rhs targets [@u] (%G: !grade.graph, %t: f64) {
    %0 = grade.load @u : !grade.field<node, f64>
    // expected-error @+1 {{'grade.unary' (sin) is not time-equivariant: 'sin' of a value that is not invariant: it reads the time 't'; use differences of positions}}
    %1 = grade.unary sin %t : f64
    %2 = grade.binary add %0, %1 : !grade.field<node, f64>, f64 -> !grade.field<node, f64>
    grade.yield %2 : !grade.field<node, f64>
  }
  grade.solve euler dt(1.000000e-01) over [0.000000e+00, 1.000000e+00]
}
