// RUN: grade-opt %s -grade-parallel-to-openmp | FileCheck %s

// A kernel's loop over nodes: one OpenMP region whose threads each run a
// contiguous block, bounds computed from the thread number, no worksharing
// loop (__kmpc_for_static_init); the body's scratch array is freed after
// every iteration (stack pointer saved and restored).

// CHECK-LABEL: func.func private @omp_get_num_threads() -> i32
// CHECK-LABEL: func.func private @omp_get_thread_num() -> i32
// CHECK-LABEL: func.func @kernel(
// CHECK-SAME: %[[N:[^:]*]]: index, %[[OUT:.*]]: memref<?xf64>)
// CHECK: omp.parallel {
// CHECK-NEXT: %[[T32:.*]] = func.call @omp_get_thread_num() : () -> i32
// CHECK-NEXT: %[[T:.*]] = arith.index_cast %[[T32]] : i32 to index
// CHECK-NEXT: %[[C32:.*]] = func.call @omp_get_num_threads() : () -> i32
// CHECK-NEXT: %[[C:.*]] = arith.index_cast %[[C32]] : i32 to index
// CHECK: %[[SPAN:.*]] = arith.subi %[[N]], %[[LB:.*]] : index
// CHECK: %[[TRIP0:.*]] = arith.ceildivsi %[[SPAN]], %[[STEP:.*]] : index
// CHECK: %[[TRIP:.*]] = arith.maxsi %[[TRIP0]], %{{.*}} : index
// CHECK: %[[P:.*]] = arith.muli %[[TRIP]], %[[T]] : index
// CHECK: %[[Q:.*]] = arith.divui %[[P]], %[[C]] : index
// CHECK: %[[BEGIN:.*]] = arith.minsi %{{.*}}, %[[N]] : index
// CHECK: %[[NEXT:.*]] = arith.addi %[[T]], %{{.*}} : index
// CHECK: arith.muli %[[TRIP]], %[[NEXT]] : index
// CHECK: %[[END:.*]] = arith.minsi %{{.*}}, %[[N]] : index
// CHECK: scf.for %[[I:.*]] = %[[BEGIN]] to %[[END]] step %[[STEP]] {
// CHECK-NEXT: %[[STACK:.*]] = llvm.intr.stacksave : !llvm.ptr
// CHECK-NEXT: %[[SCRATCH:.*]] = memref.alloca() : memref<4xf64>
// CHECK: memref.store %{{.*}}, %[[SCRATCH]]
// CHECK: memref.store %{{.*}}, %[[OUT]][%[[I]]]
// CHECK-NEXT: llvm.intr.stackrestore %[[STACK]] : !llvm.ptr
// CHECK-NEXT: }
// CHECK-NEXT: omp.terminator
// CHECK-NOT: scf.parallel
// CHECK-NOT: omp.wsloop
// CHECK: return
func.func @kernel(%n: index, %out: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f64
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %scratch = memref.alloca() : memref<4xf64>
    memref.store %one, %scratch[%c0] : memref<4xf64>
    %v = memref.load %scratch[%c0] : memref<4xf64>
    memref.store %v, %out[%i] : memref<?xf64>
    scf.reduce
  }
  return
}

// Loops of two dimensions, with results, over the blocks of a kernel with
// global reductions, or nested in another parallel loop are left to
// convert-scf-to-openmp. A body without allocas needs no stack save.

// CHECK-LABEL: func.func @left_alone(
// CHECK: scf.parallel (%{{.*}}, %{{.*}}) =
// CHECK: scf.parallel (%{{.*}}) = {{.*}} init
// CHECK: scf.parallel (%{{.*}}) = {{.*}} {
// CHECK: } {grade.reduction_blocks}
// CHECK: omp.parallel
// CHECK-NEXT: func.call @omp_get_thread_num
// CHECK-NOT: stacksave
// CHECK: scf.for
// CHECK-NEXT: scf.parallel (%{{.*}}) =
func.func @left_alone(%n: index, %out: memref<?xf64>) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  scf.parallel (%i, %j) = (%c0, %c0) to (%n, %n) step (%c1, %c1) {
    scf.reduce
  }
  %sum = scf.parallel (%i) = (%c0) to (%n) step (%c1) init (%zero) -> f64 {
    %v = memref.load %out[%i] : memref<?xf64>
    scf.reduce (%v : f64) {
    ^bb0(%a: f64, %b: f64):
      %s = arith.addf %a, %b : f64
      scf.reduce.return %s : f64
    }
  }
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %zero, %out[%i] : memref<?xf64>
    scf.reduce
  } {grade.reduction_blocks}
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    scf.parallel (%j) = (%c0) to (%i) step (%c1) {
      memref.store %zero, %out[%j] : memref<?xf64>
      scf.reduce
    }
    scf.reduce
  }
  return %sum : f64
}
