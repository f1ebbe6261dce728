// RUN: grade-opt %s -grade-expand-scheme -canonicalize -cse | FileCheck %s

// A partitioned scheme (leapfrog, velocity Verlet) on a position u (its rhs
// reads only v) and a velocity v with dv/dt = -u: a half kick
// v_h = v + dt/2 f(u), a drift u' = u + dt v_h, and a half kick at the new
// position v' = v_h + dt/2 f(u'), the force evaluated twice.
// CHECK-LABEL: grade.model @wave
// CHECK: grade.step targets [@u, @v]
// CHECK-DAG: %[[U:.*]] = grade.load @u
// CHECK-DAG: %[[V:.*]] = grade.load @v
// CHECK-DAG: %[[HALF:.*]] = arith.constant 5.000000e-01 : f64
// CHECK: %[[F1:.*]] = grade.unary neg %[[U]]
// CHECK: %[[H2:.*]] = arith.mulf %[[DT:[a-z0-9_]+]], %[[HALF]] : f64
// CHECK: %[[K1:.*]] = grade.binary mul %[[H2]], %[[F1]]
// CHECK: %[[VH:.*]] = grade.binary add %[[V]], %[[K1]]
// CHECK: %[[D:.*]] = grade.binary mul %[[DT]], %[[VH]]
// CHECK: %[[UN:.*]] = grade.binary add %[[U]], %[[D]]
// CHECK: %[[F3:.*]] = grade.unary neg %[[UN]]
// CHECK: %[[K3:.*]] = grade.binary mul %[[H2]], %[[F3]]
// CHECK: %[[VN:.*]] = grade.binary add %[[VH]], %[[K3]]
// CHECK: grade.yield %[[UN]], %[[VN]]
grade.model @wave {
  grade.graph @G
  grade.decl state @u : !grade.field<node, f64>
  grade.decl state @v : !grade.field<node, f64>
  grade.rhs targets [@u, @v] (%G: !grade.graph, %t: f64) {
    %u = grade.load @u : !grade.field<node, f64>
    %v = grade.load @v : !grade.field<node, f64>
    %f = grade.unary neg %u : !grade.field<node, f64>
    grade.yield %v, %f : !grade.field<node, f64>, !grade.field<node, f64>
  }
  grade.solve leapfrog dt(0.1) over [0.0, 1.0]
}
