// RUN: grade-opt %s -convert-grade-to-loops -canonicalize -cse | FileCheck %s

// Global reductions need a kernel boundary: kernel 0 computes x * x and w
// and reduces them, per block of 1024 nodes (the node reduction in the node
// body, the edge reduction in the pass over the in-edges), into one partial
// per block, which it allocates; after its loop it combines the partials
// serially in block order (one shared function per kind and type; 0 for an
// empty field: x counts nodes, w edges), frees them and returns the sum and
// the max. The entry adds them and only then calls kernel 1, which scales x.

// CHECK-LABEL: func.func private @gradegen_combine_max_f64(
// CHECK: arith.maximumf
// CHECK-LABEL: func.func private @gradegen_combine_sum_f64(
// CHECK: scf.for %[[CB:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[CACC:.*]] = %{{.*}}) -> (f64) {
// CHECK: %[[CV:.*]] = memref.load
// CHECK: arith.addf %[[CACC]], %[[CV]]

// CHECK-LABEL: func.func private @ra_rhs_kernel0(
// CHECK-SAME: %[[SLOTS:arg[0-9]+]]: !llvm.ptr, %[[N:arg[0-9]+]]: index, %[[E:arg[0-9]+]]: index) -> (f64, f64)
// CHECK-DAG: %[[NEGINF:.*]] = arith.constant 0xFFF0000000000000 : f64
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f64
// CHECK-DAG: %[[B:.*]] = arith.constant 1024 : index
// CHECK: %[[W:.*]] = grade.slot %[[SLOTS]][6], %[[E]]
// CHECK: %[[NB:.*]] = arith.ceildivui %[[N]], %[[B]] : index
// CHECK: %[[PS:.*]] = memref.alloc(%[[NB]])
// CHECK: %[[PM:.*]] = memref.alloc(%[[NB]])
// CHECK: scf.parallel (%[[BLK:.*]]) = (%{{.*}}) to (%[[NB]])
// CHECK-DAG: %[[AM:.*]] = memref.alloca() : memref<1xf64>
// CHECK-DAG: %[[AS:.*]] = memref.alloca() : memref<1xf64>
// CHECK-DAG: memref.store %[[ZERO]], %[[AS]]
// CHECK-DAG: memref.store %[[NEGINF]], %[[AM]]
// CHECK: %[[FIRST:.*]] = arith.muli %[[BLK]], %[[B]]
// CHECK: %[[END:.*]] = arith.addi %[[FIRST]], %[[B]]
// CHECK: %[[LAST:.*]] = arith.minui %[[END]], %[[N]]
// CHECK: scf.for %[[I:.*]] = %[[FIRST]] to %[[LAST]]
// CHECK: scf.for %[[EDGE:.*]] = 
// CHECK: %[[WE:.*]] = memref.load %[[W]][%[[EDGE]]]
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
// The blocks are marked: grade-parallel-to-openmp leaves them to
// convert-scf-to-openmp (bench/README.md, "Kernels' parallel regions").
// CHECK: } {grade.reduction_blocks}
// CHECK: %[[NOROWS:.*]] = arith.cmpi eq, %[[N]], %{{.*}}
// CHECK: %[[SUM:.*]] = call @gradegen_combine_sum_f64(%[[PS]], %[[NB]], %{{.*}}, %{{.*}})
// CHECK: %[[SUM0:.*]] = arith.select %[[NOROWS]], %[[ZERO]], %[[SUM]]
// CHECK: memref.dealloc %[[PS]]
// CHECK: %[[NOEDGES:.*]] = arith.cmpi eq, %[[E]], %{{.*}}
// CHECK: %[[MAX:.*]] = call @gradegen_combine_max_f64(%[[PM]], %[[NB]], %{{.*}}, %{{.*}})
// CHECK: %[[MAX0:.*]] = arith.select %[[NOEDGES]], %[[ZERO]], %[[MAX]]
// CHECK: memref.dealloc %[[PM]]
// CHECK: return %[[SUM0]], %[[MAX0]] : f64, f64

// CHECK-LABEL: func.func private @ra_rhs_kernel1(
// CHECK-SAME: %{{.*}}: index, %[[C:arg[0-9]+]]: f64)
// CHECK: scf.parallel
// CHECK: arith.mulf %{{.*}}, %[[C]]
// CHECK-NOT: grade.reduction_blocks
// CHECK-NOT: scf.for

// CHECK-LABEL: func.func @gradegen_entry_rhs(
// CHECK-NOT: memref.alloc
// CHECK: %[[R:.*]]:2 = call @ra_rhs_kernel0(
// CHECK-NEXT: %[[C:.*]] = arith.addf %[[R]]#0, %[[R]]#1
// CHECK-NEXT: call @ra_rhs_kernel1({{.*}}, %[[C]])
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
