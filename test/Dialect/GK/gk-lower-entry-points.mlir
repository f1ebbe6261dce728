// RUN: grade-opt %s -split-input-file -gk-lower-entry-points | FileCheck %s

// Kernels move to module-level gk.func symbols named after the model, the
// region and the kernel; the region becomes an entry that launches them in
// order, with the globals between them (here the step size product) kept
// where they were. The yield is gone: the targets' values are in their
// buffers.

// CHECK: gk.func @m_step_kernel0 over nodes (%g : !grade.graph uniform, %c1 : !grade.field<node, f64> local) -> (!grade.field<node, f64> in @tmp0, f64) passes 0 {
// CHECK:   grade.unary neg
// CHECK: gk.func @m_step_kernel1 over nodes (%g : !grade.graph uniform, %c1 : !grade.field<node, f64> remote, %c2 : f64 uniform) -> (!grade.field<node, f64> in @x) passes 1 {
// CHECK-LABEL: grade.model @m
// CHECK: gk.entry "step" {
// CHECK: ^bb0(%G: !grade.graph, %t: f64, %dt: f64):
// CHECK:   %[[X:.*]] = grade.load @x
// CHECK:   %[[A:.*]]:2 = gk.launch @m_step_kernel0(%G, %[[X]])
// CHECK:   %[[H:.*]] = arith.mulf %dt, %[[A]]#1 : f64
// CHECK:   gk.launch @m_step_kernel1(%G, %[[A]]#0, %[[H]])
// CHECK-NOT: grade.yield
// CHECK: }
// CHECK-NOT: grade.step
grade.model @m {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.decl temp @tmp0 : !grade.field<node, f64>
  grade.step targets [@x] (%G: !grade.graph, %t: f64, %dt: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    %a:2 = gk.kernel "m_step_kernel0" over nodes (%g = %G : !grade.graph uniform, %y = %x : !grade.field<node, f64> local) -> (!grade.field<node, f64> in @tmp0, f64) passes 0 {
      %n = grade.unary neg %y : !grade.field<node, f64>
      %one = arith.constant 1.0 : f64
      gk.yield %n, %one : !grade.field<node, f64>, f64
    }
    %h = arith.mulf %dt, %a#1 : f64
    %b = gk.kernel "m_step_kernel1" over nodes (%g = %G : !grade.graph uniform, %y = %a#0 : !grade.field<node, f64> remote, %c = %h : f64 uniform) -> (!grade.field<node, f64> in @x) passes 1 {
      %ys = grade.gather src %g, %y : !grade.field<node, f64> -> !grade.field<edge, f64>
      %s = grade.reduce sum %g, %ys {gk.pass = 0 : i64} : !grade.field<edge, f64> -> !grade.field<node, f64>
      %u = grade.binary mul %s, %c : !grade.field<node, f64>, f64 -> !grade.field<node, f64>
      gk.yield %u : !grade.field<node, f64>
    }
    grade.yield %b : !grade.field<node, f64>
  }
}

// -----

// A global the step yields (an adaptive step's error) is stored to its
// declaration after the launch that computes it.
// CHECK-LABEL: grade.model @adaptive
// CHECK: gk.entry "step"
// CHECK: %[[R:.*]]:2 = gk.launch @adaptive_k0(
// CHECK-NEXT: gk.store %[[R]]#1 to @x__error : f64
// CHECK-NEXT: }
grade.model @adaptive {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.decl error @x__error of @x : f64
  grade.decl temp @tmp1 : !grade.field<node, f64>
  grade.step targets [@x, @x__error] (%G: !grade.graph, %t: f64, %dt: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    %a:2 = gk.kernel "adaptive_k0" over blocks(1024) (%g = %G : !grade.graph uniform, %y = %x : !grade.field<node, f64> local) -> (!grade.field<node, f64> in @tmp1, f64) {
      %n = grade.unary neg %y : !grade.field<node, f64>
      %e = grade.reduce_all sum %n : !grade.field<node, f64> -> f64
      gk.yield %n, %e : !grade.field<node, f64>, f64
    }
    grade.yield %a#0, %a#1 : !grade.field<node, f64>, f64
  }
  grade.solve bosh3 dt(0.0) over [0.0, 1.0]
}
