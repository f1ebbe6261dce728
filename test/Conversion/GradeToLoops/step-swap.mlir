// RUN: grade-opt %s -convert-grade-to-loops | FileCheck %s
// RUN: grade-opt %s -grade-kernel-pipeline -convert-gk-to-scf=index-bits=64 | FileCheck %s --check-prefix=WIDE
// RUN: not grade-opt %s -grade-kernel-pipeline -convert-gk-to-scf=index-bits=16 2>&1 | FileCheck %s --check-prefix=BAD

// Explicit Euler for dx/dt = sum_in(x[src]) - degree * x. The new state is
// computed by the kernel that reads x at neighbours, so it cannot overwrite
// x in place: it goes to a temporary that the runtime swaps in.

// CHECK-LABEL: grade.model @diffuse
// CHECK-SAME: swaps = {{\[}}[@x, @[[TMP:tmp[0-9]+]]]]
// CHECK: grade.graph @G index(i32)
// CHECK: grade.decl temp @[[TMP]] : !grade.field<node, f64>

// One kernel: chunks of nodes with about equal in-edges plus nodes in
// parallel (gk-choose-schedule: over balanced(256): at most 256, one per
// 4096 edges plus nodes), each chunk's bounds
// found by bisection over the row pointers, its nodes in order, one pass
// over each node's in-edges.
// CHECK-LABEL: func.func private @diffuse_step_kernel0(
// CHECK-SAME: %[[SLOTS:[a-z0-9]+]]: !llvm.ptr, %[[N:[a-z0-9]+]]: index, %[[E:[a-z0-9]+]]: index, %[[DT:[a-z0-9]+]]: f64)
// CHECK: %[[ROW:.*]] = grade.slot %[[SLOTS]][0]
// CHECK: %[[COL:.*]] = grade.slot %[[SLOTS]][1], %[[E]]
// CHECK: %[[X:.*]] = grade.slot %[[SLOTS]][7], %[[N]]
// CHECK: %[[STATUS:.*]] = grade.slot %[[SLOTS]][9]
// CHECK: %[[OUT:.*]] = grade.slot %[[SLOTS]][8], %[[N]]
// One chunk per 4096 edges plus nodes, at most 256:
// CHECK: %[[TOTAL:.*]] = arith.addi %{{.*}}, %{{.*}} : i64
// CHECK: %[[PER:.*]] = arith.divui %[[TOTAL]], %{{.*}} : i64
// CHECK: %[[WANTED:.*]] = arith.index_castui
// CHECK: %[[MAX:.*]] = arith.constant 256 : index
// CHECK: %[[CHUNKS:.*]] = arith.minui %[[WANTED]], %[[MAX]] : index
// CHECK: scf.parallel (%{{.*}}) = (%{{.*}}) to (%[[CHUNKS]])
// CHECK:   scf.while
// CHECK:     memref.load %[[ROW]]
// CHECK:   scf.while
// CHECK:   scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step
// CHECK:   %[[B:.*]] = memref.load %[[ROW]][%[[I]]]
// CHECK:   %[[SUM:.*]] = scf.for %[[E:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %{{.*}}) -> (f64)
// Node numbers are 32-bit (index-bits=32, the default), recorded on the
// graph for the descriptor.
// CHECK:     %[[J:.*]] = memref.load %[[COL]][%[[E]]] : memref<?xi32>
// CHECK:     %[[JI:.*]] = arith.index_castui %[[J]] : i32 to index
// CHECK:     %[[XJ:.*]] = memref.load %[[X]][%[[JI]]]
// CHECK:     %[[NEW:.*]] = arith.addf %[[ACC]], %[[XJ]]
// CHECK:     scf.yield %[[NEW]]
// The degree is the row length, the update x + dt * f lands in the
// epilogue, written to the temporary.
// CHECK:   arith.sitofp
// CHECK:   %[[XI:.*]] = memref.load %[[X]][%[[I]]]
// CHECK:   memref.store %{{.*}}, %[[OUT]][%[[I]]]
// The new state is checked for NaN and Inf (gk-check-finite): the node
// raises the step's status flag if it stored one.
// CHECK:   scf.if
// CHECK: memref.store %{{.*}}, %[[STATUS]][%{{.*}}] : memref<?xi32>
// CHECK-NOT: scf.parallel
// CHECK: return

// The entry passes the slot array on and calls the kernel.
// CHECK-LABEL: func.func @gradegen_entry_step(
// CHECK-SAME: %[[SLOTS:.*]]: !llvm.ptr, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: f64, %[[DTA:.*]]: f64)
// CHECK: call @diffuse_step_kernel0(%[[SLOTS]], {{.*}}, %[[DTA]])

grade.model @diffuse {
  grade.graph @G
  grade.decl input @x0 : !grade.field<node, f64>
  grade.decl state @x : !grade.field<node, f64> output
  grade.solve euler dt(1.000000e-01) over [0.000000e+00, 1.000000e+00]
  grade.step targets [@x] (%G: !grade.graph, %t: f64, %dt: f64) {
    %0 = grade.load @x : !grade.field<node, f64>
    %1 = grade.gather src %G, %0 : !grade.field<node, f64> -> !grade.field<edge, f64>
    %2 = grade.reduce sum %G, %1 : !grade.field<edge, f64> -> !grade.field<node, f64>
    %3 = grade.degree %G : !grade.field<node, f64>
    %4 = grade.binary mul %3, %0 : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
    %5 = grade.binary sub %2, %4 : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
    %6 = grade.binary mul %dt, %5 : f64, !grade.field<node, f64> -> !grade.field<node, f64>
    %7 = grade.binary add %0, %6 : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
    grade.yield %7 : !grade.field<node, f64>
  }
}

// With index-bits=64 the node numbers stay i64; offsets are i64 either way.
// WIDE: grade.graph @G index(i64)
// WIDE: %[[ROW:.*]] = grade.slot %{{.*}}[0], %{{.*}} : memref<?xi64>
// WIDE: %[[COL:.*]] = grade.slot %{{.*}}[1], %{{.*}} : memref<?xi64>
// WIDE: %[[J:.*]] = memref.load %[[COL]][%{{.*}}] : memref<?xi64>
// WIDE: arith.index_castui %[[J]] : i64 to index

// BAD: error: 'grade.model' op cannot number nodes with 16-bit integers; index-bits is 32 or 64
