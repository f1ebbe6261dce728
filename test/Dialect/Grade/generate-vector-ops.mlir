// RUN: grade-opt %s -grade-generate-vector-ops -split-input-file | FileCheck %s
// RUN: grade-opt %s -grade-generate-vector-ops -split-input-file | grade-opt -split-input-file | FileCheck %s --check-prefix=ROUND

// An implicit scheme's model with two f64 states (a node scalar and an edge
// vector) gets the six vector entries: per state, its operands x, y, z and
// output out (of the state's type) and its tolerances; one f64 result.
// CHECK-LABEL: grade.model @two
// CHECK-DAG: grade.decl vector_x @x__vx of @x : !grade.field<node, f64>
// CHECK-DAG: grade.decl vector_y @x__vy of @x : !grade.field<node, f64>
// CHECK-DAG: grade.decl vector_z @x__vz of @x : !grade.field<node, f64>
// CHECK-DAG: grade.decl vector_out @x__vout of @x : !grade.field<node, f64>
// CHECK-DAG: grade.decl rtol @x__rtol of @x : f64
// CHECK-DAG: grade.decl atol @x__atol of @x : f64
// CHECK-DAG: grade.decl vector_x @e__vx of @e : !grade.field<edge, 3xf64>
// CHECK-DAG: grade.decl vector_out @e__vout of @e : !grade.field<edge, 3xf64>
// CHECK-DAG: grade.decl result @vector_result : f64
//
// lincomb: out = t x + dt y, state by state.
// CHECK: grade.vector lincomb targets [@x__vout, @e__vout] (%{{.*}}: !grade.graph, %[[T:.*]]: f64, %[[DT:.*]]: f64) {
// CHECK: %[[X:.*]] = grade.load @x__vx
// CHECK: %[[Y:.*]] = grade.load @x__vy
// CHECK: %[[TX:.*]] = grade.binary mul %[[T]], %[[X]]
// CHECK: %[[DY:.*]] = grade.binary mul %[[DT]], %[[Y]]
// CHECK: %[[SUM:.*]] = grade.binary add %[[TX]], %[[DY]]
// CHECK: %[[EX:.*]] = grade.load @e__vx
// CHECK: %[[EY:.*]] = grade.load @e__vy
// CHECK: %[[ETX:.*]] = grade.binary mul %[[T]], %[[EX]]
// CHECK: %[[EDY:.*]] = grade.binary mul %[[DT]], %[[EY]]
// CHECK: %[[ESUM:.*]] = grade.binary add %[[ETX]], %[[EDY]]
// CHECK: grade.yield %[[SUM]], %[[ESUM]]
//
// multiply: out = x y.
// CHECK: grade.vector multiply targets [@x__vout, @e__vout]
// CHECK: %[[MX:.*]] = grade.load @x__vx
// CHECK: %[[MY:.*]] = grade.load @x__vy
// CHECK: grade.binary mul %[[MX]], %[[MY]]
//
// jacobi: 1 / (1 - t x) where 1e-12 < |1 - t x| < inf, else 1.
// CHECK: grade.vector jacobi targets [@x__vout, @e__vout] (%{{.*}}: !grade.graph, %[[JT:.*]]: f64, %{{.*}}: f64) {
// CHECK: %[[JX:.*]] = grade.load @x__vx
// CHECK: %[[ONE:.*]] = arith.constant 1.000000e+00 : f64
// CHECK: %[[TJX:.*]] = grade.binary mul %[[JT]], %[[JX]]
// CHECK: %[[M:.*]] = grade.binary sub %[[ONE]], %[[TJX]]
// CHECK: %[[ABS:.*]] = grade.unary abs %[[M]]
// CHECK: %[[TINY:.*]] = arith.constant 9.9999999999999998E-13 : f64
// CHECK: %[[GT:.*]] = grade.binary gt %[[ABS]], %[[TINY]]
// CHECK: %[[INF:.*]] = arith.constant 0x7FF0000000000000 : f64
// CHECK: %[[LT:.*]] = grade.binary lt %[[ABS]], %[[INF]]
// CHECK: %[[OK:.*]] = grade.binary mul %[[GT]], %[[LT]]
// CHECK: %[[INV:.*]] = grade.binary div %{{.*}}, %[[M]]
// CHECK: grade.select %[[OK]], %[[INV]], %{{.*}} :
//
// dot: each state summed over its features (a contraction), then rows,
// then the states in order.
// CHECK: grade.vector dot targets [@vector_result]
// CHECK: %[[DX:.*]] = grade.load @x__vx
// CHECK: %[[DY2:.*]] = grade.load @x__vy
// CHECK: %[[P:.*]] = grade.binary mul %[[DX]], %[[DY2]]
// CHECK: %[[S1:.*]] = grade.reduce_all sum %[[P]]
// CHECK: %[[DEX:.*]] = grade.load @e__vx
// CHECK: %[[DEY:.*]] = grade.load @e__vy
// CHECK: %[[PE:.*]] = grade.contract "a,a->" %[[DEX]], %[[DEY]]
// CHECK: %[[S2:.*]] = grade.reduce_all sum %[[PE]]
// CHECK: %[[TOTAL:.*]] = arith.addf %[[S1]], %[[S2]] : f64
// CHECK: grade.yield %[[TOTAL]] : f64
//
// residual: (x / (1 + |y|))^2.
// CHECK: grade.vector residual targets [@vector_result]
// CHECK: %[[RX:.*]] = grade.load @x__vx
// CHECK: %[[RY:.*]] = grade.load @x__vy
// CHECK: %[[RA:.*]] = grade.unary abs %[[RY]]
// CHECK: %[[RS:.*]] = grade.binary add %{{.*}}, %[[RA]]
// CHECK: %[[RR:.*]] = grade.binary div %[[RX]], %[[RS]]
// CHECK: grade.binary mul %[[RR]], %[[RR]]
//
// error: (x / (atol + rtol max(|y|, |z|)))^2 with the state's tolerances.
// CHECK: grade.vector error targets [@vector_result]
// CHECK: %[[EEX:.*]] = grade.load @x__vx
// CHECK: %[[EEY:.*]] = grade.load @x__vy
// CHECK: %[[EEZ:.*]] = grade.load @x__vz
// CHECK: %[[RTOL:.*]] = grade.load @x__rtol : f64
// CHECK: %[[ATOL:.*]] = grade.load @x__atol : f64
// CHECK: %[[AY:.*]] = grade.unary abs %[[EEY]]
// CHECK: %[[AZ:.*]] = grade.unary abs %[[EEZ]]
// CHECK: %[[MAG:.*]] = grade.binary max %[[AY]], %[[AZ]]
// CHECK: %[[RM:.*]] = grade.binary mul %[[RTOL]], %[[MAG]]
// CHECK: %[[SC:.*]] = grade.binary add %[[ATOL]], %[[RM]]
// CHECK: %[[ER:.*]] = grade.binary div %[[EEX]], %[[SC]]
// CHECK: grade.binary mul %[[ER]], %[[ER]]
// The printed form parses back.
// ROUND-LABEL: grade.model @two
// ROUND: grade.vector lincomb targets [@x__vout, @e__vout]
// ROUND: grade.vector error targets [@vector_result]
grade.model @two {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.decl state @e : !grade.field<edge, 3xf64>
  grade.rhs targets [@x, @e] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    %e = grade.load @e : !grade.field<edge, 3xf64>
    %d = grade.unary neg %x : !grade.field<node, f64>
    %f = grade.unary neg %e : !grade.field<edge, 3xf64>
    grade.yield %d, %f : !grade.field<node, f64>, !grade.field<edge, 3xf64>
  }
  grade.solve backward_euler dt(0.1) over [0.0, 1.0]
}

// -----

// Explicit schemes, and states in f32, get none.
// CHECK-LABEL: grade.model @explicit
// CHECK-NOT: grade.vector
// CHECK-NOT: vector_x
grade.model @explicit {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    grade.yield %x : !grade.field<node, f64>
  }
  grade.solve rk4 dt(0.1) over [0.0, 1.0]
}

// -----

// CHECK-LABEL: grade.model @single
// CHECK-NOT: grade.vector
// CHECK-NOT: vector_x
grade.model @single {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f32>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f32>
    grade.yield %x : !grade.field<node, f32>
  }
  grade.solve sdirk2 dt(0.1) over [0.0, 1.0]
}
