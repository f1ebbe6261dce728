// RUN: grade-opt %s -convert-grade-to-loops -canonicalize -cse | FileCheck %s

// Global reductions need a kernel boundary: kernel 0 computes x * x and w
// and reduces them, per block of 1024 nodes (the node reduction in the node
// body, the edge reduction in the pass over the in-edges), into one partial
// per block; the entry combines the partials serially in block order
// (0 for an empty field), computes the global sum + max, and only then
// calls kernel 1, which scales x by it. The partials are freed at the end.

// CHECK-LABEL: func.func private @ra_rhs_kernel0(
// CHECK-SAME: %[[W:arg[0-9]+]]: memref<?xf64> {llvm.noalias}, %[[PS:arg[0-9]+]]: memref<?xf64> {llvm.noalias}, %[[PM:arg[0-9]+]]: memref<?xf64> {llvm.noalias}, %[[N:arg[0-9]+]]: index)
// CHECK-DAG: %[[NEGINF:.*]] = arith.constant 0xFFF0000000000000 : f64
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f64
// CHECK-DAG: %[[B:.*]] = arith.constant 1024 : index
// CHECK: %[[NB:.*]] = arith.ceildivui %[[N]], %[[B]] : index
// CHECK: scf.parallel (%[[BLK:.*]]) = (%{{.*}}) to (%[[NB]])
// CHECK-DAG: %[[AM:.*]] = memref.alloca() : memref<1xf64>
// CHECK-DAG: %[[AS:.*]] = memref.alloca() : memref<1xf64>
// CHECK-DAG: memref.store %[[ZERO]], %[[AS]]
// CHECK-DAG: memref.store %[[NEGINF]], %[[AM]]
// CHECK: %[[FIRST:.*]] = arith.muli %[[BLK]], %[[B]]
// CHECK: %[[END:.*]] = arith.addi %[[FIRST]], %[[B]]
// CHECK: %[[LAST:.*]] = arith.minui %[[END]], %[[N]]
// CHECK: scf.for %[[I:.*]] = %[[FIRST]] to %[[LAST]]
// CHECK: scf.for %[[E:.*]] = 
// CHECK: %[[WE:.*]] = memref.load %[[W]][%[[E]]]
// CHECK: arith.maximumf %{{.*}}, %[[WE]] : f64
// CHECK: memref.store %{{.*}}, %[[AM]]
// CHECK: }
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: memref.store %{{.*}}, %[[AS]]
// CHECK: }
// CHECK: %[[S:.*]] = memref.load %[[AS]]
// CHECK: memref.store %[[S]], %[[PS]][%[[BLK]]]
// CHECK: %[[M:.*]] = memref.load %[[AM]]
// CHECK: memref.store %[[M]], %[[PM]][%[[BLK]]]

// CHECK-LABEL: func.func private @ra_rhs_kernel1(
// CHECK-SAME: %{{.*}}: index, %[[C:arg[0-9]+]]: f64)
// CHECK: scf.parallel
// CHECK: arith.mulf %{{.*}}, %[[C]]
// CHECK-NOT: scf.for

// CHECK-LABEL: func.func @gradegen_entry_rhs(
// CHECK: %[[NB:.*]] = arith.ceildivui
// CHECK: %[[P0:.*]] = memref.alloc(%[[NB]])
// CHECK: %[[P1:.*]] = memref.alloc(%[[NB]])
// CHECK: call @ra_rhs_kernel0({{.*}}, %[[P0]], %[[P1]], %{{.*}})
// CHECK: %[[SUM:.*]] = scf.for %[[B0:.*]] = %{{.*}} to %[[NB]] step %{{.*}} iter_args(%[[ACC:.*]] = %{{.*}}) -> (f64) {
// CHECK: %[[V:.*]] = memref.load %[[P0]][%[[B0]]]
// CHECK: arith.addf %[[ACC]], %[[V]]
// CHECK: %[[SUM0:.*]] = arith.select %{{.*}}, %{{.*}}, %[[SUM]]
// CHECK: %[[MAX:.*]] = scf.for
// CHECK: memref.load %[[P1]]
// CHECK: arith.maximumf
// CHECK: %[[MAX0:.*]] = arith.select %{{.*}}, %{{.*}}, %[[MAX]]
// CHECK: %[[C:.*]] = arith.addf %[[SUM0]], %[[MAX0]]
// CHECK: call @ra_rhs_kernel1({{.*}}, %[[C]])
// CHECK: memref.dealloc %[[P0]]
// CHECK: memref.dealloc %[[P1]]
// CHECK-NEXT: return

grade.model @ra {
  grade.graph @G
  grade.decl input @w : !grade.field<edge, f64>
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    %w = grade.load @w : !grade.field<edge, f64>
    %xx = grade.binary mul %x, %x : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
    %s = grade.reduce_all sum %xx : !grade.field<node, f64> -> f64
    %m = grade.reduce_all max %w : !grade.field<edge, f64> -> f64
    %c = arith.addf %s, %m : f64
    %y = grade.binary mul %x, %c : !grade.field<node, f64>, f64 -> !grade.field<node, f64>
    grade.yield %y : !grade.field<node, f64>
  }
  grade.solve euler dt(0.1) over [0.0, 1.0]
}
