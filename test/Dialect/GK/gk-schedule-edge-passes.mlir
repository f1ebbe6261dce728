// RUN: grade-opt %s -split-input-file -gk-schedule-edge-passes | FileCheck %s

// An edge softmax used by an edge result: the maximum (pass 0), the sum of
// exponentials (pass 1, after the maximum), and the stored attention in the
// last pass (2). The sum over out-edges depends on nothing computed here:
// pass 0, next to the maximum.

// CHECK-LABEL: grade.model @softmax
// CHECK: gk.kernel "k" over nodes ({{.*}}) -> (!grade.field<edge, f64>, !grade.field<node, f64>) passes 3 {
// CHECK: grade.reduce max %g, %{{.*}} {gk.pass = 0 : i64}
// CHECK: grade.reduce sum %g, %{{.*}} {gk.pass = 1 : i64}
// CHECK: grade.reduce sum out %g, %{{.*}} {gk.pass = 0 : i64}
grade.model @softmax {
  grade.graph @G
  grade.decl input @s : !grade.field<edge, f64>
  grade.decl let @a : !grade.field<edge, f64>
  grade.decl let @o : !grade.field<node, f64>
  grade.init targets [@a, @o] (%G: !grade.graph) {
    %s = grade.load @s : !grade.field<edge, f64>
    %r:2 = gk.kernel "k" over nodes (%g = %G : !grade.graph uniform, %e = %s : !grade.field<edge, f64> remote) -> (!grade.field<edge, f64>, !grade.field<node, f64>) {
      %m = grade.reduce max %g, %e : !grade.field<edge, f64> -> !grade.field<node, f64>
      %md = grade.gather dst %g, %m : !grade.field<node, f64> -> !grade.field<edge, f64>
      %z = grade.binary sub %e, %md : !grade.field<edge, f64>, !grade.field<edge, f64> -> !grade.field<edge, f64>
      %x = grade.unary exp %z : !grade.field<edge, f64>
      %sum = grade.reduce sum %g, %x : !grade.field<edge, f64> -> !grade.field<node, f64>
      %sd = grade.gather dst %g, %sum : !grade.field<node, f64> -> !grade.field<edge, f64>
      %a = grade.binary div %x, %sd : !grade.field<edge, f64>, !grade.field<edge, f64> -> !grade.field<edge, f64>
      %o = grade.reduce sum out %g, %e : !grade.field<edge, f64> -> !grade.field<node, f64>
      gk.yield %a, %o : !grade.field<edge, f64>, !grade.field<node, f64>
    }
    grade.yield %r#0, %r#1 : !grade.field<edge, f64>, !grade.field<node, f64>
  }
}

// -----

// Node work only: no pass over the edges.

// CHECK-LABEL: grade.model @nodes
// CHECK: gk.kernel "k" over nodes ({{.*}}) -> (!grade.field<node, f64>) passes 0 {
grade.model @nodes {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    %r = gk.kernel "k" over nodes (%g = %G : !grade.graph uniform, %y = %x : !grade.field<node, f64> local) -> (!grade.field<node, f64>) {
      %d = grade.unary neg %y : !grade.field<node, f64>
      gk.yield %d : !grade.field<node, f64>
    }
    grade.yield %r : !grade.field<node, f64>
  }
}

// -----

// A global reduction of an edge field is accumulated in a pass over the
// in-edges: one pass, no grade.reduce.

// CHECK-LABEL: grade.model @edge_total
// CHECK: gk.kernel "k" over blocks(1024) ({{.*}}) -> (f64) passes 1 {
grade.model @edge_total {
  grade.graph @G weight(f64)
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %s = gk.kernel "k" over blocks(1024) (%g = %G : !grade.graph uniform) -> (f64) {
      %w = grade.weight %g : !grade.field<edge, f64>
      %tot = grade.reduce_all sum %w : !grade.field<edge, f64> -> f64
      gk.yield %tot : f64
    }
    %x = grade.load @x : !grade.field<node, f64>
    %r = gk.kernel "k2" over nodes (%g = %G : !grade.graph uniform, %y = %x : !grade.field<node, f64> local, %c = %s : f64 uniform) -> (!grade.field<node, f64>) {
      %d = grade.binary mul %y, %c : !grade.field<node, f64>, f64 -> !grade.field<node, f64>
      gk.yield %d : !grade.field<node, f64>
    }
    grade.yield %r : !grade.field<node, f64>
  }
}
