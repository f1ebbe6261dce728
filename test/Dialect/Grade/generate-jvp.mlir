// RUN: grade-opt %s -grade-generate-jvp=all=true -split-input-file | FileCheck %s

// The JVP of dx/dt = sum_in(w * (x[src] - x[dst])) * k + tanh(x) * x: the
// gather and the reduction are linear, k (a parameter) and w (the graph)
// have no tangent, tanh's is (1 - tanh^2) v, the product's rule uses both
// factors. The tangent is a declaration the runtime points at v.
// CHECK-LABEL: grade.model @m
// CHECK: grade.decl tangent @x__tangent of @x : !grade.field<node, f64>
// CHECK: grade.jvp targets [@x] (%[[G:.*]]: !grade.graph, %{{.*}}: f64) {
// CHECK-DAG: %[[X:.*]] = grade.load @x :
// CHECK-DAG: %[[V:.*]] = grade.load @x__tangent :
// CHECK-DAG: %[[K:.*]] = grade.load @k : f64
// CHECK: %[[VS:.*]] = grade.gather src %[[G]], %[[V]]
// CHECK: %[[VD:.*]] = grade.gather dst %[[G]], %[[V]]
// CHECK: %[[DV:.*]] = grade.binary sub %[[VS]], %[[VD]]
// CHECK: %[[WDV:.*]] = grade.binary mul %{{.*}}, %[[DV]]
// CHECK: %[[SV:.*]] = grade.reduce sum %[[G]], %[[WDV]]
// CHECK: %[[KSV:.*]] = grade.binary mul %[[K]], %[[SV]]
// CHECK: %[[T:.*]] = grade.unary tanh %[[X]]
// CHECK: %[[T2:.*]] = grade.binary mul %[[T]], %[[T]]
// CHECK: %[[ONE_MINUS:.*]] = grade.binary sub %{{.*}}, %[[T2]]
// CHECK: %[[DT:.*]] = grade.binary mul %[[ONE_MINUS]], %[[V]]
// CHECK: %[[A:.*]] = grade.binary mul %[[X]], %[[DT]]
// CHECK: %[[B:.*]] = grade.binary mul %[[T]], %[[V]]
// CHECK: %[[PROD:.*]] = grade.binary add %[[A]], %[[B]]
// CHECK: %[[SUM:.*]] = grade.binary add %[[KSV]], %[[PROD]]
// CHECK: grade.yield %[[SUM]]
grade.model @m {
  grade.graph @G weight(f64)
  grade.decl param @k : f64
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %w = grade.weight %G : !grade.field<edge, f64>
    %x = grade.load @x : !grade.field<node, f64>
    %k = grade.load @k : f64
    %xs = grade.gather src %G, %x : !grade.field<node, f64> -> !grade.field<edge, f64>
    %xd = grade.gather dst %G, %x : !grade.field<node, f64> -> !grade.field<edge, f64>
    %d = grade.binary sub %xs, %xd : !grade.field<edge, f64>, !grade.field<edge, f64> -> !grade.field<edge, f64>
    %wd = grade.binary mul %w, %d : !grade.field<edge, f64>, !grade.field<edge, f64> -> !grade.field<edge, f64>
    %s = grade.reduce sum %G, %wd : !grade.field<edge, f64> -> !grade.field<node, f64>
    %ks = grade.binary mul %k, %s : f64, !grade.field<node, f64> -> !grade.field<node, f64>
    %th = grade.unary tanh %x : !grade.field<node, f64>
    %p = grade.binary mul %th, %x : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
    %f = grade.binary add %ks, %p : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
    grade.yield %f : !grade.field<node, f64>
  }
  grade.solve euler dt(0.1) over [0.0, 1.0]
}

// -----

// A right-hand side that does not read the states has the JVP 0 * v; a
// softmax's tangent is a (v - sum over the in-edges of dst of a v).
// CHECK-LABEL: grade.model @constant
// CHECK: grade.jvp targets [@x, @y]
// CHECK: %[[VX:.*]] = grade.load @x__tangent
// CHECK: %[[DS:.*]] = grade.gather src %{{.*}}, %[[VX]]
// CHECK: %[[A:.*]] = grade.softmax
// CHECK: %[[AD:.*]] = grade.binary mul %[[A]], %[[DS]]
// CHECK: %[[R:.*]] = grade.reduce sum %{{.*}}, %[[AD]]
// CHECK: %[[RD:.*]] = grade.gather dst %{{.*}}, %[[R]]
// CHECK: %[[DIFF:.*]] = grade.binary sub %[[DS]], %[[RD]]
// CHECK: %[[DA:.*]] = grade.binary mul %[[A]], %[[DIFF]]
// CHECK: %[[VY:.*]] = grade.load @y__tangent
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f64
// CHECK: %[[Z:.*]] = grade.binary mul %[[ZERO]], %[[VY]]
// CHECK: grade.yield %{{.*}}, %[[Z]]
grade.model @constant {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.decl state @y : !grade.field<node, f64>
  grade.rhs targets [@x, @y] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    %xs = grade.gather src %G, %x : !grade.field<node, f64> -> !grade.field<edge, f64>
    %a = grade.softmax %G, %xs : !grade.field<edge, f64>
    %s = grade.reduce sum %G, %a : !grade.field<edge, f64> -> !grade.field<node, f64>
    %d = grade.degree %G : !grade.field<node, f64>
    grade.yield %s, %d : !grade.field<node, f64>, !grade.field<node, f64>
  }
  grade.solve euler dt(0.1) over [0.0, 1.0]
}
