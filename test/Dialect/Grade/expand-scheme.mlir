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
// the rhs at t, t + dt/2, t + dt/2, t + dt; coefficients in f32. No running
// sum is formed in the first two stages: k1 and k2 are recovered from the
// stage inputs X2 = y + dt/2 k1 and X3 = y + dt/2 k2, and the third stage
// forms y + 1/3 (X2 - y) + 2/3 (X3 - y) + dt/3 k3.
// CHECK-LABEL: grade.model @rk4
// CHECK: grade.step targets [@x] (%[[G:.*]]: !grade.graph, %[[T:.*]]: f64, %[[DT:.*]]: f64) {
// CHECK: %[[X:.*]] = grade.load @x : !grade.field<node, f32>
// Stage 1 at t, and the stage input y + dt/2 k1 (and nothing else).
// CHECK: %[[T1:.*]] = arith.truncf %[[T]] : f64 to f32
// CHECK: %[[K1:.*]] = grade.binary mul %[[T1]], %[[X]]
// CHECK-NEXT: arith.constant 5.000000e-01 : f64
// CHECK-NEXT: arith.mulf
// CHECK-NEXT: %[[H1:.*]] = arith.truncf
// CHECK-NEXT: %[[U1:.*]] = grade.binary mul %[[H1]], %[[K1]]
// CHECK-NEXT: %[[X2:.*]] = grade.binary add %[[X]], %[[U1]] : !grade.field<node, f32>
// Stage 2 at t + dt/2.
// CHECK-NEXT: arith.constant 5.000000e-01 : f64
// CHECK-NEXT: %[[C2:.*]] = arith.mulf %{{.*}}, %[[DT]] : f64
// CHECK-NEXT: %[[TS2:.*]] = arith.addf %[[T]], %[[C2]] : f64
// CHECK-NEXT: %[[T2:.*]] = arith.truncf %[[TS2]] : f64 to f32
// CHECK-NEXT: %[[K2:.*]] = grade.binary mul %[[T2]], %[[X2]]
// CHECK-NEXT: arith.constant 5.000000e-01 : f64
// CHECK-NEXT: arith.mulf
// CHECK-NEXT: %[[H2:.*]] = arith.truncf
// CHECK-NEXT: %[[U2:.*]] = grade.binary mul %[[H2]], %[[K2]]
// CHECK-NEXT: %[[X3:.*]] = grade.binary add %[[X]], %[[U2]] : !grade.field<node, f32>
// Stage 3: its slope, then the running sum with k1 and k2 from X2 and X3.
// CHECK: %[[K3:.*]] = grade.binary mul %{{.*}}, %[[X3]]
// CHECK-NEXT: %[[THIRD:.*]] = arith.constant 0.333333343 : f32
// CHECK-NEXT: %[[D2:.*]] = grade.binary sub %[[X2]], %[[X]]
// CHECK-NEXT: %[[S2:.*]] = grade.binary mul %[[THIRD]], %[[D2]]
// CHECK-NEXT: %[[A2:.*]] = grade.binary add %[[X]], %[[S2]]
// CHECK-NEXT: %[[TWOTHIRDS:.*]] = arith.constant 0.666666686 : f32
// CHECK-NEXT: %[[D3:.*]] = grade.binary sub %[[X3]], %[[X]]
// CHECK-NEXT: %[[S3:.*]] = grade.binary mul %[[TWOTHIRDS]], %[[D3]]
// CHECK-NEXT: %[[A3:.*]] = grade.binary add %[[A2]], %[[S3]]
// CHECK-NEXT: arith.constant 0.33333333333333331 : f64
// CHECK-NEXT: arith.mulf
// CHECK-NEXT: %[[H3:.*]] = arith.truncf
// CHECK-NEXT: %[[U3:.*]] = grade.binary mul %[[H3]], %[[K3]]
// CHECK-NEXT: %[[ACC3:.*]] = grade.binary add %[[A3]], %[[U3]]
// Stage 4 at y + dt k3, and the new state acc3 + dt/6 k4.
// CHECK: %[[X4:.*]] = grade.binary add %[[X]], %{{.*}}
// CHECK: %[[K4:.*]] = grade.binary mul %{{.*}}, %[[X4]]
// CHECK-NEXT: arith.constant 0.16666666666666666 : f64
// CHECK-NEXT: arith.mulf
// CHECK-NEXT: %[[H4:.*]] = arith.truncf
// CHECK-NEXT: %[[U4:.*]] = grade.binary mul %[[H4]], %[[K4]]
// CHECK-NEXT: %[[XN:.*]] = grade.binary add %[[ACC3]], %[[U4]]
// CHECK-NEXT: grade.yield %[[XN]]
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

// Heun (a21 = 1, b = [1/2, 1/2]) on two states: the first stage's
// contribution is recovered from the second stage's input in the last stage,
// y + 1/2 (X2 - y) + dt/2 k2, so the first stage writes only X2.
// CHECK-LABEL: grade.model @heun
// CHECK: grade.step
// CHECK: %[[X:.*]] = grade.load @x
// CHECK-NEXT: %[[V:.*]] = grade.load @v
// CHECK-NEXT: %[[KX1:.*]] = grade.unary neg %[[V]]
// CHECK-NEXT: arith.constant 1.000000e+00 : f64
// CHECK-NEXT: arith.mulf
// CHECK-NEXT: grade.binary mul
// CHECK-NEXT: %[[X2:.*]] = grade.binary add %[[X]], %{{.*}}
// CHECK-NEXT: arith.constant 1.000000e+00 : f64
// CHECK-NEXT: arith.mulf
// CHECK-NEXT: grade.binary mul %{{.*}}, %[[X]]
// CHECK-NEXT: %[[V2:.*]] = grade.binary add %[[V]], %{{.*}}
// CHECK: %[[KX2:.*]] = grade.unary neg %[[V2]]
// CHECK-NEXT: %[[HALF:.*]] = arith.constant 5.000000e-01 : f64
// CHECK-NEXT: %[[DX:.*]] = grade.binary sub %[[X2]], %[[X]]
// CHECK-NEXT: %[[SX:.*]] = grade.binary mul %[[HALF]], %[[DX]]
// CHECK-NEXT: %[[AX:.*]] = grade.binary add %[[X]], %[[SX]]
// CHECK-NEXT: %[[HALF2:.*]] = arith.constant 5.000000e-01 : f64
// CHECK-NEXT: %[[DV:.*]] = grade.binary sub %[[V2]], %[[V]]
// CHECK-NEXT: %[[SV:.*]] = grade.binary mul %[[HALF2]], %[[DV]]
// CHECK-NEXT: %[[AV:.*]] = grade.binary add %[[V]], %[[SV]]
// CHECK-NEXT: arith.constant 5.000000e-01 : f64
// CHECK-NEXT: arith.mulf
// CHECK-NEXT: grade.binary mul %{{.*}}, %[[KX2]]
// CHECK-NEXT: %[[XN:.*]] = grade.binary add %[[AX]], %{{.*}}
// CHECK-NEXT: arith.constant 5.000000e-01 : f64
// CHECK-NEXT: arith.mulf
// CHECK-NEXT: grade.binary mul %{{.*}}, %[[X2]]
// CHECK-NEXT: %[[VN:.*]] = grade.binary add %[[AV]], %{{.*}}
// CHECK-NEXT: grade.yield %[[XN]], %[[VN]]
grade.model @heun {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.decl state @v : !grade.field<node, f64>
  grade.rhs targets [@x, @v] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    %v = grade.load @v : !grade.field<node, f64>
    %fx = grade.unary neg %v : !grade.field<node, f64>
    grade.yield %fx, %x : !grade.field<node, f64>, !grade.field<node, f64>
  }
  grade.solve heun dt(0.1) over [0.0, 1.0]
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
