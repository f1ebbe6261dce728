// RUN: grade-opt %s -split-input-file -grade-form-kernels | FileCheck %s

// One kernel: x is read at the node (x * degree) and at sources (x[src]),
// so it is captured `both`; dt is a global. The result is the yielded value.

// CHECK-LABEL: grade.model @euler
// CHECK: grade.step targets [@x]
// CHECK: %[[X:.*]] = grade.load @x
// CHECK: %[[K:.*]] = gk.kernel "euler_step_kernel0" over nodes (%g = %G : !grade.graph uniform, %x = %[[X]] : !grade.field<node, f64> both, %c2 = %dt : f64 uniform) -> (!grade.field<node, f64>) {
// CHECK:   grade.gather src %g, %x
// CHECK:   grade.reduce sum %g
// CHECK:   gk.yield
// CHECK: }
// CHECK-NOT: gk.kernel
// CHECK: grade.yield %[[K]]
grade.model @euler {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.step targets [@x] (%G: !grade.graph, %t: f64, %dt: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    %xs = grade.gather src %G, %x : !grade.field<node, f64> -> !grade.field<edge, f64>
    %s = grade.reduce sum %G, %xs : !grade.field<edge, f64> -> !grade.field<node, f64>
    %d = grade.degree %G : !grade.field<node, f64>
    %dx = grade.binary mul %d, %x : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
    %f = grade.binary sub %s, %dx : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
    %h = grade.binary mul %dt, %f : f64, !grade.field<node, f64> -> !grade.field<node, f64>
    %y = grade.binary add %x, %h : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
    grade.yield %y : !grade.field<node, f64>
  }
  grade.solve euler dt(0.1) over [0.0, 1.0]
}

// -----

// Reading a computed node value at neighbours ends a kernel: kernel 0
// computes h = r * x (its only result, read `remote` by kernel 1). The edge
// value e = x[dst] * 2 and the reduction r of it read only the node's own
// x: kernel 1 recomputes them (an accumulator in a pass it has anyway)
// instead of storing them.

// CHECK-LABEL: grade.model @two_levels
// CHECK: %[[X:.*]] = grade.load @x
// CHECK: %[[K0:.*]] = gk.kernel "two_levels_rhs_kernel0" over nodes (%g = %G : !grade.graph uniform, %x = %[[X]] : !grade.field<node, f64> local, %c2 = %{{.*}} : f64 uniform) -> (!grade.field<node, f64>) {
// CHECK:   %[[E0:.*]] = grade.gather dst %g, %x
// CHECK:   %[[R0:.*]] = grade.reduce sum %g
// CHECK:   %[[H:.*]] = grade.binary mul %[[R0]], %x
// CHECK:   gk.yield %[[H]]
// CHECK: %[[K1:.*]] = gk.kernel "two_levels_rhs_kernel1" over nodes (%g = %G : !grade.graph uniform, %x = %[[X]] : !grade.field<node, f64> local, %c2 = %{{.*}} : f64 uniform, %c3 = %[[K0]] : !grade.field<node, f64> remote) -> (!grade.field<node, f64>) {
// CHECK:   grade.gather dst %g, %x
// CHECK:   grade.reduce sum %g
// CHECK:   grade.gather src %g, %c3
// CHECK:   gk.yield
// CHECK: grade.yield %[[K1]]
grade.model @two_levels {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %two = arith.constant 2.0 : f64
    %x = grade.load @x : !grade.field<node, f64>
    %xd = grade.gather dst %G, %x : !grade.field<node, f64> -> !grade.field<edge, f64>
    %e = grade.binary mul %xd, %two : !grade.field<edge, f64>, f64 -> !grade.field<edge, f64>
    %r = grade.reduce sum %G, %e : !grade.field<edge, f64> -> !grade.field<node, f64>
    %h = grade.binary mul %r, %x : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
    %hs = grade.gather src %G, %h : !grade.field<node, f64> -> !grade.field<edge, f64>
    %m = grade.binary mul %e, %hs : !grade.field<edge, f64>, !grade.field<edge, f64> -> !grade.field<edge, f64>
    %s = grade.reduce sum %G, %m : !grade.field<edge, f64> -> !grade.field<node, f64>
    %y = grade.binary add %s, %r : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
    grade.yield %y : !grade.field<node, f64>
  }
  grade.solve euler dt(0.1) over [0.0, 1.0]
}

// -----

// A global reduction: kernel 0 runs over blocks of nodes and returns the
// global; the scalar arithmetic on it stays in the region, between the
// kernels; kernel 1 reads it as a uniform capture.

// CHECK-LABEL: grade.model @normalise
// CHECK: %[[X:.*]] = grade.load @x
// CHECK: %[[S:.*]] = gk.kernel "normalise_rhs_kernel0" over blocks(1024) (%g = %G : !grade.graph uniform, %x = %[[X]] : !grade.field<node, f64> local) -> (f64) {
// CHECK:   %[[SQ:.*]] = grade.binary mul %x, %x
// CHECK:   %[[R:.*]] = grade.reduce_all sum %[[SQ]]
// CHECK:   gk.yield %[[R]] : f64
// CHECK: %[[INV:.*]] = arith.divf %{{.*}}, %[[S]] : f64
// CHECK: %[[Y:.*]] = gk.kernel "normalise_rhs_kernel1" over nodes (%g = %G : !grade.graph uniform, %x = %[[X]] : !grade.field<node, f64> local, %c2 = %[[INV]] : f64 uniform)
// CHECK: grade.yield %[[Y]]
grade.model @normalise {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %one = arith.constant 1.0 : f64
    %x = grade.load @x : !grade.field<node, f64>
    %sq = grade.binary mul %x, %x : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
    %s = grade.reduce_all sum %sq : !grade.field<node, f64> -> f64
    %inv = arith.divf %one, %s : f64
    %y = grade.binary mul %x, %inv : !grade.field<node, f64>, f64 -> !grade.field<node, f64>
    grade.yield %y : !grade.field<node, f64>
  }
  grade.solve euler dt(0.1) over [0.0, 1.0]
}

// -----

// A value yielded to two targets is two results, one per target; an input
// yielded as it is is copied by the kernel (it yields its capture).

// CHECK-LABEL: grade.model @copies
// CHECK: %[[K:.*]]:3 = gk.kernel "copies_init_kernel0" over nodes (%g = %G : !grade.graph uniform, %x0 = %{{.*}} : !grade.field<node, f64> local) -> (!grade.field<node, f64>, !grade.field<node, f64>, !grade.field<node, f64>) {
// CHECK:   %[[D:.*]] = grade.binary mul %x0, %x0
// CHECK:   gk.yield %[[D]], %[[D]], %x0
// CHECK: grade.yield %[[K]]#0, %[[K]]#1, %[[K]]#2
grade.model @copies {
  grade.graph @G
  grade.decl input @x0 : !grade.field<node, f64>
  grade.decl state @a : !grade.field<node, f64>
  grade.decl state @b : !grade.field<node, f64>
  grade.decl state @c : !grade.field<node, f64>
  grade.init targets [@a, @b, @c] (%G: !grade.graph) {
    %x0 = grade.load @x0 : !grade.field<node, f64>
    %d = grade.binary mul %x0, %x0 : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
    grade.yield %d, %d, %x0 : !grade.field<node, f64>, !grade.field<node, f64>, !grade.field<node, f64>
  }
  grade.solve euler dt(0.1) over [0.0, 1.0]
}
