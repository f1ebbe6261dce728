// RUN: grade-opt %s -convert-gk-to-scf | FileCheck %s

// Vector reductions of one edge pass with the same number of features
// accumulate in one loop over the features, so that what their inputs share
// (the sigmoid of MP-PDE's mean(v * s(v)) and mean(s(v)) after its bias is
// pulled out) is computed once per feature and edge: one exp in the edge
// loop, both accumulators updated next to it. The reduction of another width
// has its own loop.
// CHECK-LABEL: func.func private @m_step_kernel0(
// CHECK: memref.prefetch
// CHECK: scf.for %[[K:arg[0-9]+]] =
// CHECK-NOT: scf.for
// CHECK: math.exp
// CHECK-NOT: scf.for
// CHECK: memref.store %{{.*}}, %[[A1:alloca[_0-9]*]][%[[K]]]
// CHECK-NOT: scf.for
// CHECK: memref.store %{{.*}}, %[[A2:alloca[_0-9]*]][%[[K]]]
// CHECK-NEXT: }
// CHECK: scf.for
// CHECK-NOT: math.exp
// CHECK: return
gk.func @m_step_kernel0 over nodes (%g : !grade.graph uniform, %t : !grade.field<node, 8xf64> remote, %u : !grade.field<node, 4xf64> remote) -> (!grade.field<node, 8xf64> in @y, !grade.field<node, 8xf64> in @z, !grade.field<node, 4xf64> in @w) passes 1 {
  %ts = grade.gather src %g, %t : !grade.field<node, 8xf64> -> !grade.field<edge, 8xf64>
  %s = grade.unary sigmoid %ts : !grade.field<edge, 8xf64>
  %p = grade.binary mul %ts, %s : !grade.field<edge, 8xf64>, !grade.field<edge, 8xf64> -> !grade.field<edge, 8xf64>
  %r1 = grade.reduce mean %g, %p {gk.pass = 0 : i64} : !grade.field<edge, 8xf64> -> !grade.field<node, 8xf64>
  %r2 = grade.reduce mean %g, %s {gk.pass = 0 : i64} : !grade.field<edge, 8xf64> -> !grade.field<node, 8xf64>
  %us = grade.gather src %g, %u : !grade.field<node, 4xf64> -> !grade.field<edge, 4xf64>
  %r3 = grade.reduce sum %g, %us {gk.pass = 0 : i64} : !grade.field<edge, 4xf64> -> !grade.field<node, 4xf64>
  gk.yield %r1, %r2, %r3 : !grade.field<node, 8xf64>, !grade.field<node, 8xf64>, !grade.field<node, 4xf64>
}
grade.model @m {
  grade.graph @G
  grade.decl input @t : !grade.field<node, 8xf64>
  grade.decl input @u : !grade.field<node, 4xf64>
  grade.decl state @y : !grade.field<node, 8xf64>
  grade.decl state @z : !grade.field<node, 8xf64>
  grade.decl state @w : !grade.field<node, 4xf64>
  gk.entry "step" {
  ^bb0(%G: !grade.graph, %tm: f64, %dt: f64):
    %t = grade.load @t : !grade.field<node, 8xf64>
    %u = grade.load @u : !grade.field<node, 4xf64>
    %a:3 = gk.launch @m_step_kernel0(%G, %t, %u) : (!grade.graph, !grade.field<node, 8xf64>, !grade.field<node, 4xf64>) -> (!grade.field<node, 8xf64>, !grade.field<node, 8xf64>, !grade.field<node, 4xf64>)
  }
}
