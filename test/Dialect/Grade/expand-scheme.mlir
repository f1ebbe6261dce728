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

// -----

// An adaptive FSAL scheme (bosh3) on an f32 vector state: the first stage
// reads the slope the previous step left, the last stage is evaluated at the
// new state itself, and the step yields the new state, the last slope (for
// the next step) and the sum over nodes and features of the squared scaled
// error dt sum_i (b_i - bhat_i) k_i / (atol + rtol max(|y|, |y'|)).
// CHECK-LABEL: grade.model @adaptive
// CHECK: grade.decl slope @x__slope of @x : !grade.field<node, 2xf32>
// CHECK: grade.decl error @x__error of @x : f64
// CHECK: grade.decl rtol @x__rtol of @x : f64
// CHECK: grade.decl atol @x__atol of @x : f64
// CHECK-NOT: grade.decl midpoint
// CHECK: grade.step targets [@x, @x__slope, @x__error]
// CHECK: %[[Y:.*]] = grade.load @x : !grade.field<node, 2xf32>
// CHECK: %[[K1:.*]] = grade.load @x__slope : !grade.field<node, 2xf32>
// Stage 2 is the only copy of the rhs before the last two.
// CHECK: %[[K2:.*]] = grade.unary neg
// CHECK: %[[K3:.*]] = grade.unary neg
// CHECK: %[[YN:.*]] = grade.binary add %{{.*}}, %{{.*}} : !grade.field<node, 2xf32>
// CHECK-NEXT: arith.constant 1.000000e+00
// CHECK-NEXT: arith.mulf
// CHECK-NEXT: arith.addf %{{.*}}, %{{.*}} : f64
// CHECK-NEXT: %[[K4:.*]] = grade.unary neg %[[YN]]
// b - bhat = [-5/72, 1/12, 1/9, -1/8]
// CHECK: arith.constant -0.069444444444444475 : f64
// CHECK: grade.binary mul %{{.*}}, %[[K1]]
// CHECK: arith.constant 0.083333333333333315 : f64
// CHECK: grade.binary mul %{{.*}}, %[[K2]]
// CHECK: arith.constant 0.1111111111111111 : f64
// CHECK: grade.binary mul %{{.*}}, %[[K3]]
// CHECK: arith.constant -1.250000e-01 : f64
// CHECK: grade.binary mul %{{.*}}, %[[K4]]
// CHECK: %[[E:.*]] = grade.binary add
// CHECK: %[[AY:.*]] = grade.unary abs %[[Y]]
// CHECK: %[[AYN:.*]] = grade.unary abs %[[YN]]
// CHECK: %[[M:.*]] = grade.binary max %[[AY]], %[[AYN]]
// CHECK: grade.load @x__atol : f64
// CHECK: grade.load @x__rtol : f64
// CHECK: %[[R:.*]] = grade.binary div %[[E]], %{{.*}} : !grade.field<node, 2xf32>
// CHECK: %[[SQ:.*]] = grade.contract "a,a->" %[[R]], %[[R]]
// CHECK: %[[S:.*]] = grade.reduce_all sum %[[SQ]] : !grade.field<node, f32> -> f32
// CHECK: %[[S64:.*]] = arith.extf %[[S]] : f32 to f64
// CHECK: grade.yield %[[YN]], %[[K4]], %[[S64]]
grade.model @adaptive {
  grade.graph @G
  grade.decl state @x : !grade.field<node, 2xf32>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, 2xf32>
    %f = grade.unary neg %x : !grade.field<node, 2xf32>
    grade.yield %f : !grade.field<node, 2xf32>
  }
  grade.solve bosh3 dt(0.0) over [0.0, 1.0] rtol(1.0e-06) atol(1.0e-08)
}

// -----

// dopri5 also yields the midpoint y + dt sum_i b_i(1/2) k_i for its dense
// output, after the slope and before the error.
// CHECK-LABEL: grade.model @dense
// CHECK: grade.decl midpoint @x__mid of @x : !grade.field<node, f64>
// CHECK: grade.step targets [@x, @x__slope, @x__mid, @x__error]
// CHECK: arith.constant 0.10013431883002395 : f64
// CHECK: grade.yield %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : !grade.field<node, f64>, !grade.field<node, f64>, !grade.field<node, f64>, f64
grade.model @dense {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    %f = grade.unary neg %x : !grade.field<node, f64>
    grade.yield %f : !grade.field<node, f64>
  }
  grade.solve dopri5 dt(0.0) over [0.0, 1.0]
}
