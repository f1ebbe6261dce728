// RUN: grade-opt %s -split-input-file -gk-allocate-buffers | FileCheck %s

// The derivative of the rhs goes to d_x_0, listed in rhs_outputs. In the
// step, k0's results go to fresh temporaries. Nothing reads the old x after
// k1 (which reads it only at the rows it writes), and k3 writes the new x in
// place, so k1's first result borrows @x: k2 is its last reader, before k3.
// k1's second result reuses tmp1, since k1 reads a#0 only at the rows it
// writes. k2's result is read by k3 at neighbours, so it cannot borrow @x,
// which k3 writes: it takes tmp2, free since k1. Two temporaries for the
// step instead of three.

// CHECK-LABEL: grade.model @plan attributes {rhs_outputs = [@d_x_0], swaps = []}
// CHECK: gk.kernel "r" {{.*}} -> (!grade.field<node, f64> in @d_x_0)
// CHECK: gk.kernel "k0" {{.*}} -> (!grade.field<node, f64> in @tmp1, !grade.field<node, f64> in @tmp2)
// CHECK: gk.kernel "k1" {{.*}} -> (!grade.field<node, f64> in @x, !grade.field<node, f64> in @tmp1)
// CHECK: gk.kernel "k2" {{.*}} -> (!grade.field<node, f64> in @tmp2)
// CHECK: gk.kernel "k3" {{.*}} -> (!grade.field<node, f64> in @x)
// CHECK-DAG: grade.decl temp @d_x_0 : !grade.field<node, f64>
// CHECK-DAG: grade.decl temp @tmp1 : !grade.field<node, f64>
// CHECK-DAG: grade.decl temp @tmp2 : !grade.field<node, f64>
// CHECK-NOT: grade.decl temp
grade.model @plan {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    %r = gk.kernel "r" over nodes (%g = %G : !grade.graph uniform, %y = %x : !grade.field<node, f64> local) -> (!grade.field<node, f64>) {
      %n = grade.unary neg %y : !grade.field<node, f64>
      gk.yield %n : !grade.field<node, f64>
    }
    grade.yield %r : !grade.field<node, f64>
  }
  grade.step targets [@x] (%G: !grade.graph, %t: f64, %dt: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    %a:2 = gk.kernel "k0" over nodes (%g = %G : !grade.graph uniform, %y = %x : !grade.field<node, f64> both) -> (!grade.field<node, f64>, !grade.field<node, f64>) {
      %ys = grade.gather src %g, %y : !grade.field<node, f64> -> !grade.field<edge, f64>
      %s = grade.reduce sum %g, %ys : !grade.field<edge, f64> -> !grade.field<node, f64>
      %u = grade.binary add %y, %s : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
      gk.yield %u, %s : !grade.field<node, f64>, !grade.field<node, f64>
    }
    %b:2 = gk.kernel "k1" over nodes (%g = %G : !grade.graph uniform, %acc = %a#0 : !grade.field<node, f64> local, %k = %a#1 : !grade.field<node, f64> both, %y = %x : !grade.field<node, f64> local) -> (!grade.field<node, f64>, !grade.field<node, f64>) {
      %ks = grade.gather src %g, %k : !grade.field<node, f64> -> !grade.field<edge, f64>
      %s = grade.reduce sum %g, %ks : !grade.field<edge, f64> -> !grade.field<node, f64>
      %u = grade.binary add %acc, %s : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
      %v = grade.binary add %y, %s : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
      gk.yield %u, %v : !grade.field<node, f64>, !grade.field<node, f64>
    }
    %c = gk.kernel "k2" over nodes (%g = %G : !grade.graph uniform, %acc = %b#0 : !grade.field<node, f64> both, %k = %b#1 : !grade.field<node, f64> remote) -> (!grade.field<node, f64>) {
      %ks = grade.gather src %g, %k : !grade.field<node, f64> -> !grade.field<edge, f64>
      %as = grade.gather src %g, %acc : !grade.field<node, f64> -> !grade.field<edge, f64>
      %p = grade.binary add %ks, %as : !grade.field<edge, f64>, !grade.field<edge, f64> -> !grade.field<edge, f64>
      %s = grade.reduce sum %g, %p : !grade.field<edge, f64> -> !grade.field<node, f64>
      %u = grade.binary add %acc, %s : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
      gk.yield %u : !grade.field<node, f64>
    }
    %d = gk.kernel "k3" over nodes (%g = %G : !grade.graph uniform, %w = %c : !grade.field<node, f64> remote) -> (!grade.field<node, f64>) {
      %ws = grade.gather src %g, %w : !grade.field<node, f64> -> !grade.field<edge, f64>
      %s = grade.reduce sum %g, %ws : !grade.field<edge, f64> -> !grade.field<node, f64>
      gk.yield %s : !grade.field<node, f64>
    }
    grade.yield %d : !grade.field<node, f64>
  }
}

// -----

// A value the state's final writer reads at neighbours cannot borrow the
// state: k1's result would be overwritten at rows k2 still gathers. It
// takes a temporary (tmp0 is free again: k1 read a only at its own rows).
// CHECK-LABEL: grade.model @borrow_refused
// CHECK: gk.kernel "k0" {{.*}} -> (!grade.field<node, f64> in @tmp0)
// CHECK: gk.kernel "k1" {{.*}} -> (!grade.field<node, f64> in @tmp0)
// CHECK: gk.kernel "k2" {{.*}} -> (!grade.field<node, f64> in @x)
grade.model @borrow_refused {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.step targets [@x] (%G: !grade.graph, %t: f64, %dt: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    %a = gk.kernel "k0" over nodes (%g = %G : !grade.graph uniform, %y = %x : !grade.field<node, f64> both) -> (!grade.field<node, f64>) {
      %ys = grade.gather src %g, %y : !grade.field<node, f64> -> !grade.field<edge, f64>
      %s = grade.reduce sum %g, %ys : !grade.field<edge, f64> -> !grade.field<node, f64>
      gk.yield %s : !grade.field<node, f64>
    }
    %b = gk.kernel "k1" over nodes (%g = %G : !grade.graph uniform, %k = %a : !grade.field<node, f64> local, %y = %x : !grade.field<node, f64> local) -> (!grade.field<node, f64>) {
      %u = grade.binary add %y, %k : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
      gk.yield %u : !grade.field<node, f64>
    }
    %c = gk.kernel "k2" over nodes (%g = %G : !grade.graph uniform, %w = %b : !grade.field<node, f64> remote) -> (!grade.field<node, f64>) {
      %ws = grade.gather src %g, %w : !grade.field<node, f64> -> !grade.field<edge, f64>
      %s = grade.reduce sum %g, %ws : !grade.field<edge, f64> -> !grade.field<node, f64>
      gk.yield %s : !grade.field<node, f64>
    }
    grade.yield %c : !grade.field<node, f64>
  }
}

// -----

// The kernel computing the new x reads the old x at neighbours: the new
// value goes to a temporary the runtime swaps in after the step.

// CHECK-LABEL: grade.model @swap attributes {swaps = {{\[}}[@x, @tmp0]]}
// CHECK: gk.kernel "k" {{.*}} -> (!grade.field<node, f64> in @tmp0)
// CHECK: grade.decl temp @tmp0 : !grade.field<node, f64>
grade.model @swap {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.step targets [@x] (%G: !grade.graph, %t: f64, %dt: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    %r = gk.kernel "k" over nodes (%g = %G : !grade.graph uniform, %y = %x : !grade.field<node, f64> remote) -> (!grade.field<node, f64>) {
      %ys = grade.gather src %g, %y : !grade.field<node, f64> -> !grade.field<edge, f64>
      %s = grade.reduce sum %g, %ys : !grade.field<edge, f64> -> !grade.field<node, f64>
      gk.yield %s : !grade.field<node, f64>
    }
    grade.yield %r : !grade.field<node, f64>
  }
}

// -----

// Lets of grade.init go to their declarations; a global result has no
// buffer.

// CHECK-LABEL: grade.model @init
// CHECK: gk.kernel "k" over blocks(1024) {{.*}} -> (!grade.field<edge, f64> in @a, f64)
grade.model @init {
  grade.graph @G weight(f64)
  grade.decl let @a : !grade.field<edge, f64>
  grade.init targets [@a] (%G: !grade.graph) {
    %r:2 = gk.kernel "k" over blocks(1024) (%g = %G : !grade.graph uniform) -> (!grade.field<edge, f64>, f64) {
      %w = grade.weight %g : !grade.field<edge, f64>
      %tot = grade.reduce_all sum %w : !grade.field<edge, f64> -> f64
      gk.yield %w, %tot : !grade.field<edge, f64>, f64
    }
    grade.yield %r#0 : !grade.field<edge, f64>
  }
}

// -----

// An adaptive step keeps its start: the controller may reject it. Although
// nothing reads the old x after k0 (a fixed-step scheme would update it in
// place), its new value and the new slope go to temporaries swapped in by
// the runtime; the error, a global, has no buffer.
// CHECK-LABEL: grade.model @adaptive
// CHECK-SAME: swaps = {{\[}}[@x, @[[T1:tmp[0-9]+]]], [@x__slope, @[[T2:tmp[0-9]+]]]]
// CHECK: gk.kernel "k0" {{.*}} -> (!grade.field<node, f64> in @[[T1]], !grade.field<node, f64> in @[[T2]], f64)
grade.model @adaptive {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.decl slope @x__slope of @x : !grade.field<node, f64>
  grade.decl error @x__error of @x : f64
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    %r = gk.kernel "r" over nodes (%g = %G : !grade.graph uniform, %y = %x : !grade.field<node, f64> local) -> (!grade.field<node, f64>) {
      %n = grade.unary neg %y : !grade.field<node, f64>
      gk.yield %n : !grade.field<node, f64>
    }
    grade.yield %r : !grade.field<node, f64>
  }
  grade.step targets [@x, @x__slope, @x__error] (%G: !grade.graph, %t: f64, %dt: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    %k = grade.load @x__slope : !grade.field<node, f64>
    %a:3 = gk.kernel "k0" over blocks(1024) (%g = %G : !grade.graph uniform, %y = %x : !grade.field<node, f64> local, %s = %k : !grade.field<node, f64> local) -> (!grade.field<node, f64>, !grade.field<node, f64>, f64) {
      %u = grade.binary add %y, %s : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
      %n = grade.unary neg %u : !grade.field<node, f64>
      %e = grade.reduce_all sum %n : !grade.field<node, f64> -> f64
      gk.yield %u, %n, %e : !grade.field<node, f64>, !grade.field<node, f64>, f64
    }
    grade.yield %a#0, %a#1, %a#2 : !grade.field<node, f64>, !grade.field<node, f64>, f64
  }
  grade.solve bosh3 dt(0.0) over [0.0, 1.0]
}
