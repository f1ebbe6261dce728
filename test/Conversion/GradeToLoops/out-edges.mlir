// RUN: grade-opt %s -split-input-file -convert-grade-to-loops | FileCheck %s

// Explicit Euler for dx/dt = sum_in(x[src]) + sum_out(w * x[dst]): one
// kernel, a pass over the in-edges (col_idx) then one over the out-edges
// of the node (out_offsets), which reads the edge's CSR index (out_edges)
// for the weight and the other end (out_targets) for x[dst].

// CHECK-LABEL: grade.model @both
// CHECK-SAME: grade.out_edges
// CHECK-LABEL: func.func private @both_step_kernel0(
// CHECK: %[[ROW:.*]] = grade.slot %{{.*}}[0]
// CHECK: %[[COL:.*]] = grade.slot %{{.*}}[1]
// CHECK: %[[W:.*]] = grade.slot %{{.*}}[2]
// CHECK: %[[OFF:.*]] = grade.slot %{{.*}}[3]
// CHECK: %[[TGT:.*]] = grade.slot %{{.*}}[4]
// CHECK: %[[EDG:.*]] = grade.slot %{{.*}}[5]
// CHECK: %[[X:.*]] = grade.slot %{{.*}}[7]
// CHECK: scf.parallel (%[[I:.*]]) =
// CHECK:   memref.load %[[OFF]][%[[I]]]
// CHECK:   %[[IN:.*]] = scf.for %[[E:.*]] = %{{.*}} to %{{.*}} step
// CHECK:     %[[J:.*]] = memref.load %[[COL]][%[[E]]] : memref<?xi32>
// CHECK:     %[[JI:.*]] = arith.index_castui %[[J]]
// CHECK:     memref.load %[[X]][%[[JI]]]
// CHECK:   %[[OUT:.*]] = scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step
// CHECK:     %[[EK:.*]] = memref.load %[[EDG]][%[[K]]]
// CHECK:     %[[EKI:.*]] = arith.index_castui %[[EK]] : i64 to index
// CHECK:     %[[T:.*]] = memref.load %[[TGT]][%[[K]]] : memref<?xi32>
// CHECK:     %[[TI:.*]] = arith.index_castui %[[T]]
// CHECK-DAG: memref.load %[[W]][%[[EKI]]]
// CHECK-DAG: memref.load %[[X]][%[[TI]]]
// CHECK:   arith.addf %[[IN]], %[[OUT]]
// CHECK-NOT: scf.parallel
// CHECK-LABEL: func.func @gradegen_entry_step(
// CHECK: call @both_step_kernel0(

grade.model @both {
  grade.graph @G weight(f64)
  grade.decl input @x0 : !grade.field<node, f64>
  grade.decl state @x : !grade.field<node, f64> output
  grade.solve euler dt(1.000000e-01) over [0.000000e+00, 1.000000e+00]
  grade.step targets [@x] (%G: !grade.graph, %t: f64, %dt: f64) {
    %0 = grade.load @x : !grade.field<node, f64>
    %1 = grade.gather src %G, %0 : !grade.field<node, f64> -> !grade.field<edge, f64>
    %2 = grade.reduce sum %G, %1 : !grade.field<edge, f64> -> !grade.field<node, f64>
    %3 = grade.gather dst %G, %0 : !grade.field<node, f64> -> !grade.field<edge, f64>
    %w = grade.weight %G : !grade.field<edge, f64>
    %4 = grade.binary mul %w, %3 : !grade.field<edge, f64>, !grade.field<edge, f64> -> !grade.field<edge, f64>
    %5 = grade.reduce sum out %G, %4 : !grade.field<edge, f64> -> !grade.field<node, f64>
    %6 = grade.binary add %2, %5 : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
    %7 = grade.binary mul %dt, %6 : f64, !grade.field<node, f64> -> !grade.field<node, f64>
    %8 = grade.binary add %0, %7 : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
    grade.yield %8 : !grade.field<node, f64>
  }
}

// -----

// Over out-edges the roles of the ends swap: a computed value read at the
// destination is at another node, so it needs a kernel boundary (s is
// written by kernel 0 and read at out_targets by kernel 1) ...

// CHECK-LABEL: grade.model @remote
// CHECK-LABEL: func.func private @remote_step_kernel0(
// CHECK: scf.for
// CHECK-NOT: scf.for
// CHECK: return
// CHECK-LABEL: func.func private @remote_step_kernel1(
// CHECK: %[[OFF:.*]] = grade.slot %{{.*}}[3]
// CHECK: %[[TGT:.*]] = grade.slot %{{.*}}[4]
// CHECK: %[[EDG:.*]] = grade.slot %{{.*}}[5]
// CHECK: %[[S:.*]] = grade.slot %{{.*}}[8]
// CHECK:   scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step
// CHECK:     %[[T:.*]] = memref.load %[[TGT]][%[[K]]] : memref<?xi32>
// CHECK:     %[[TI:.*]] = arith.index_castui %[[T]]
// CHECK:     memref.load %[[S]][%[[TI]]]
// CHECK-NOT: func.func private @remote_step_kernel2

grade.model @remote {
  grade.graph @G
  grade.decl input @x0 : !grade.field<node, f64>
  grade.decl state @x : !grade.field<node, f64> output
  grade.solve euler dt(1.000000e-01) over [0.000000e+00, 1.000000e+00]
  grade.step targets [@x] (%G: !grade.graph, %t: f64, %dt: f64) {
    %0 = grade.load @x : !grade.field<node, f64>
    %1 = grade.gather src %G, %0 : !grade.field<node, f64> -> !grade.field<edge, f64>
    %s = grade.reduce sum %G, %1 : !grade.field<edge, f64> -> !grade.field<node, f64>
    %2 = grade.gather dst %G, %s : !grade.field<node, f64> -> !grade.field<edge, f64>
    %3 = grade.reduce max out %G, %2 : !grade.field<edge, f64> -> !grade.field<node, f64>
    %7 = grade.binary mul %dt, %3 : f64, !grade.field<node, f64> -> !grade.field<node, f64>
    %8 = grade.binary add %0, %7 : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
    grade.yield %8 : !grade.field<node, f64>
  }
}

// -----

// ... while one read at the source is the node's own value: one kernel, the
// out-edge pass after the in-edge pass that computes it.

// CHECK-LABEL: grade.model @local
// CHECK-LABEL: func.func private @local_step_kernel0(
// CHECK: scf.parallel
// CHECK:   %[[S:.*]] = scf.for
// CHECK:   scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %{{.*}}) -> (f64)
// CHECK:     arith.addf %[[ACC]], %[[S]]
// CHECK-NOT: func.func private @local_step_kernel1

grade.model @local {
  grade.graph @G
  grade.decl input @x0 : !grade.field<node, f64>
  grade.decl state @x : !grade.field<node, f64> output
  grade.solve euler dt(1.000000e-01) over [0.000000e+00, 1.000000e+00]
  grade.step targets [@x] (%G: !grade.graph, %t: f64, %dt: f64) {
    %0 = grade.load @x : !grade.field<node, f64>
    %1 = grade.gather src %G, %0 : !grade.field<node, f64> -> !grade.field<edge, f64>
    %s = grade.reduce sum %G, %1 : !grade.field<edge, f64> -> !grade.field<node, f64>
    %2 = grade.gather src %G, %s : !grade.field<node, f64> -> !grade.field<edge, f64>
    %3 = grade.reduce sum out %G, %2 : !grade.field<edge, f64> -> !grade.field<node, f64>
    %7 = grade.binary mul %dt, %3 : f64, !grade.field<node, f64> -> !grade.field<node, f64>
    %8 = grade.binary add %0, %7 : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
    grade.yield %8 : !grade.field<node, f64>
  }
}
