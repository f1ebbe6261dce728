// RUN: grade-opt %s -split-input-file -gk-check-finite | FileCheck %s

// The results yielded as new states of the step are checked; the other
// results (here the stage value read by the next kernel) and the kernels of
// other regions are not.

// CHECK-LABEL: grade.model @m
// CHECK: gk.kernel "rhs" {{.*}} -> (!grade.field<node, f64> in @d_x_0) {
// CHECK: gk.kernel "k0" {{.*}} -> (!grade.field<node, f64> in @tmp1, !grade.field<node, f64> in @y checked) {
// CHECK: gk.kernel "k1" {{.*}} -> (!grade.field<node, f64> in @x checked) {
grade.model @m {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.decl state @y : !grade.field<node, f64>
  grade.decl temp @d_x_0 : !grade.field<node, f64>
  grade.decl temp @tmp1 : !grade.field<node, f64>
  grade.rhs targets [@x, @y] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    %r = gk.kernel "rhs" over nodes (%g = %G : !grade.graph uniform, %a = %x : !grade.field<node, f64> local) -> (!grade.field<node, f64> in @d_x_0) {
      gk.yield %a : !grade.field<node, f64>
    }
    grade.yield %r, %r : !grade.field<node, f64>, !grade.field<node, f64>
  }
  grade.step targets [@x, @y] (%G: !grade.graph, %t: f64, %dt: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    %a:2 = gk.kernel "k0" over nodes (%g = %G : !grade.graph uniform, %b = %x : !grade.field<node, f64> local) -> (!grade.field<node, f64> in @tmp1, !grade.field<node, f64> in @y) {
      %n = grade.unary neg %b : !grade.field<node, f64>
      gk.yield %n, %b : !grade.field<node, f64>, !grade.field<node, f64>
    }
    %c = gk.kernel "k1" over nodes (%g = %G : !grade.graph uniform, %b = %a#0 : !grade.field<node, f64> remote) -> (!grade.field<node, f64> in @x) {
      %bs = grade.gather src %g, %b : !grade.field<node, f64> -> !grade.field<edge, f64>
      %s = grade.reduce sum %g, %bs : !grade.field<edge, f64> -> !grade.field<node, f64>
      gk.yield %s : !grade.field<node, f64>
    }
    grade.yield %c, %a#1 : !grade.field<node, f64>, !grade.field<node, f64>
  }
}
