// RUN: grade-opt %s -grade-expand-scheme -split-input-file | FileCheck %s

// Euler: y + (1 * dt) * f(t, y); the rhs is kept for eval_rhs.
// CHECK-LABEL: grade.model @euler
// CHECK: grade.rhs targets [@x]
// CHECK: grade.step targets [@x] (%[[G:.*]]: !grade.graph, %[[T:.*]]: f64, %[[DT:.*]]: f64) {
// CHECK:   %[[X:.*]] = grade.load @x : !grade.field<node, f64>
// CHECK:   %[[F:.*]] = grade.unary neg %[[X]]
// CHECK:   %[[ONE:.*]] = arith.constant 1.000000e+00 : f64
// CHECK:   %[[H:.*]] = arith.mulf %[[ONE]], %[[DT]] : f64
// CHECK:   %[[U:.*]] = grade.binary mul %[[H]], %[[F]]
// CHECK:   %[[XN:.*]] = grade.binary add %[[X]], %[[U]]
// CHECK:   grade.yield %[[XN]]
grade.model @euler {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    %f = grade.unary neg %x : !grade.field<node, f64>
    grade.yield %f : !grade.field<node, f64>
  }
  grade.solve euler dt(0.1) over [0.0, 1.0]
}

// -----

// RK4 on an f32 state with a time-dependent rhs: four inlined copies of
// the rhs at t, t + dt/2, t + dt/2, t + dt; coefficients in f32.
// CHECK-LABEL: grade.model @rk4
// CHECK: grade.step targets [@x] (%[[G:.*]]: !grade.graph, %[[T:.*]]: f64, %[[DT:.*]]: f64) {
// CHECK: %[[X:.*]] = grade.load @x : !grade.field<node, f32>
// Stage 1 at t.
// CHECK: %[[T1:.*]] = arith.truncf %[[T]] : f64 to f32
// CHECK: %[[K1:.*]] = grade.binary mul %[[T1]], %[[X]]
// Running sum y + dt/6 k1 and stage input y + dt/2 k1.
// CHECK: arith.constant 0.16666666666666666 : f64
// CHECK: %[[ACC1:.*]] = grade.binary add %[[X]], %{{.*}} : !grade.field<node, f32>
// CHECK: arith.constant 5.000000e-01 : f64
// CHECK: %[[X2:.*]] = grade.binary add %[[X]], %{{.*}} : !grade.field<node, f32>
// Stage 2 at t + dt/2.
// CHECK: %[[C2:.*]] = arith.mulf %{{.*}}, %[[DT]] : f64
// CHECK: %[[TS2:.*]] = arith.addf %[[T]], %[[C2]] : f64
// CHECK: %[[T2:.*]] = arith.truncf %[[TS2]] : f64 to f32
// CHECK: %[[K2:.*]] = grade.binary mul %[[T2]], %[[X2]]
// CHECK: grade.binary add %[[ACC1]], %{{.*}} : !grade.field<node, f32>
// Four stages in all.
// CHECK-COUNT-3: arith.truncf %{{.*}} : f64 to f32
// CHECK: grade.yield
grade.model @rk4 {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f32>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f32>
    %tf = arith.truncf %t : f64 to f32
    %f = grade.binary mul %tf, %x : f32, !grade.field<node, f32> -> !grade.field<node, f32>
    grade.yield %f : !grade.field<node, f32>
  }
  grade.solve rk4 dt(0.1) over [0.0, 1.0]
}

// -----

// A tableau attribute drives the expansion: midpoint has b = [0, 1], so the
// first stage's slope feeds only the second stage's input and never the
// running sum (no `add` of the start state with a b_1 term).
// CHECK-LABEL: grade.model @midpoint
// CHECK: grade.step
// CHECK: %[[X:.*]] = grade.load @x
// CHECK: %[[K1:.*]] = grade.unary neg %[[X]]
// CHECK-NEXT: %[[HALF:.*]] = arith.constant 5.000000e-01 : f64
// CHECK-NEXT: %[[H:.*]] = arith.mulf %[[HALF]], %{{.*}} : f64
// CHECK-NEXT: %[[U:.*]] = grade.binary mul %[[H]], %[[K1]]
// CHECK-NEXT: %[[X2:.*]] = grade.binary add %[[X]], %[[U]]
// CHECK: %[[K2:.*]] = grade.unary neg %[[X2]]
// CHECK-NEXT: %[[ONE:.*]] = arith.constant 1.000000e+00 : f64
// CHECK-NEXT: %[[H2:.*]] = arith.mulf %[[ONE]], %{{.*}} : f64
// CHECK-NEXT: %[[U2:.*]] = grade.binary mul %[[H2]], %[[K2]]
// CHECK-NEXT: %[[XN:.*]] = grade.binary add %[[X]], %[[U2]]
// CHECK-NEXT: grade.yield %[[XN]]
grade.model @midpoint {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    %f = grade.unary neg %x : !grade.field<node, f64>
    grade.yield %f : !grade.field<node, f64>
  }
  grade.solve #grade.tableau<"mid", order 2, a = [[0.0, 0.0], [0.5, 0.0]], b = [0.0, 1.0], c = [0.0, 0.5]> dt(0.1) over [0.0, 1.0]
}
