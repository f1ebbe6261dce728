// RUN: grade-opt %s -convert-grade-to-loops | FileCheck %s

// Two-hop diffusion: y = sum_in(x[src]) must be complete before
// z = sum_in(y[src]) reads it at neighbours, so the step has two kernels
// and y lives in a temporary between them. Kernel 1 reads the old x only
// at the node it updates, so it writes the new state in place: no swap.
// The derivative of eval_rhs is a slot of its own.

// CHECK-LABEL: grade.model @twohop
// CHECK-SAME: rhs_outputs = [@[[D:d_x_[0-9]+]]]
// CHECK-SAME: swaps = []
// CHECK: grade.decl temp @[[D]] : !grade.field<node, f64>
// CHECK: grade.decl temp @[[Y:tmp[0-9]+]] : !grade.field<node, f64>
// CHECK-NOT: grade.decl temp

// CHECK-LABEL: func.func private @twohop_step_kernel0(
// CHECK-SAME: %{{.*}}: !llvm.ptr, %{{.*}}: index, %{{.*}}: index)
// CHECK: %[[X0:.*]] = grade.slot %{{.*}}[6]
// CHECK: %[[T0:.*]] = grade.slot %{{.*}}[8]
// CHECK: scf.parallel
// CHECK: scf.for
// CHECK: memref.store %{{.*}}, %[[T0]]
// CHECK-LABEL: func.func private @twohop_step_kernel1(
// CHECK-SAME: %{{.*}}: !llvm.ptr, %{{.*}}: index, %{{.*}}: index, %{{.*}}: f64)
// CHECK: %[[X1:.*]] = grade.slot %{{.*}}[6]
// CHECK: %[[T1:.*]] = grade.slot %{{.*}}[8]
// CHECK: scf.parallel
// CHECK: scf.for
// CHECK: memref.load %[[T1]]
// CHECK: memref.store %{{.*}}, %[[X1]]
// CHECK-LABEL: func.func @gradegen_entry_step(
// CHECK: call @twohop_step_kernel0
// CHECK: call @twohop_step_kernel1

grade.model @twohop {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    %xs = grade.gather src %G, %x : !grade.field<node, f64> -> !grade.field<edge, f64>
    %y = grade.reduce sum %G, %xs : !grade.field<edge, f64> -> !grade.field<node, f64>
    %ys = grade.gather src %G, %y : !grade.field<node, f64> -> !grade.field<edge, f64>
    %z = grade.reduce sum %G, %ys : !grade.field<edge, f64> -> !grade.field<node, f64>
    grade.yield %z : !grade.field<node, f64>
  }
  grade.step targets [@x] (%G: !grade.graph, %t: f64, %dt: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    %xs = grade.gather src %G, %x : !grade.field<node, f64> -> !grade.field<edge, f64>
    %y = grade.reduce sum %G, %xs : !grade.field<edge, f64> -> !grade.field<node, f64>
    %ys = grade.gather src %G, %y : !grade.field<node, f64> -> !grade.field<edge, f64>
    %z = grade.reduce sum %G, %ys : !grade.field<edge, f64> -> !grade.field<node, f64>
    %u = grade.binary mul %dt, %z : f64, !grade.field<node, f64> -> !grade.field<node, f64>
    %xn = grade.binary add %x, %u : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
    grade.yield %xn : !grade.field<node, f64>
  }
  grade.solve euler dt(0.1) over [0.0, 1.0]
}
