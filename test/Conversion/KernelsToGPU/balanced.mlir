// The balanced schedule's rules (docs/gpu.md, "Schedules"), kernel by
// kernel: auto takes it where every reduction over a node's edges can be
// split over a warp's lanes and recombined, and keeps rows elsewhere.
// RUN: grade-opt %s --convert-kernels-to-gpu --split-input-file | FileCheck %s
// RUN: grade-opt %s --convert-kernels-to-gpu=schedule=rows --split-input-file | FileCheck %s --check-prefix=ROWS
// ROWS-NOT: balanced
// RUN: not grade-opt %s --convert-kernels-to-gpu=schedule=balanced --split-input-file 2>&1 | FileCheck %s --check-prefix=FORCED

// A sum from 0 (each kernel reads y at its node and stores it after the
// last loop over edges: an in-place update, allowed).
// CHECK: gpu.func @sum({{.*}}grade.schedule = "balanced(32)"
func.func private @sum_cuda(%off: memref<?xi64>, %src: memref<?xi32>, %x: memref<?xf64>, %y: memref<?xf64>, %n: index) attributes {grade.gpu_kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %init = arith.constant 0.0 : f64
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %lo64 = memref.load %off[%i] : memref<?xi64>
    %lo = arith.index_castui %lo64 : i64 to index
    %i1 = arith.addi %i, %c1 : index
    %hi64 = memref.load %off[%i1] : memref<?xi64>
    %hi = arith.index_castui %hi64 : i64 to index
    %r = scf.for %e = %lo to %hi step %c1 iter_args(%a = %init) -> (f64) {
      %j32 = memref.load %src[%e] : memref<?xi32>
      %j = arith.index_castui %j32 : i32 to index
      %v = memref.load %x[%j] : memref<?xf64>
      %a2 = arith.addf %a, %v : f64
      scf.yield %a2 : f64
    }
    %old = memref.load %y[%i] : memref<?xf64>
    %new = arith.addf %old, %r : f64
    memref.store %new, %y[%i] : memref<?xf64>
    scf.reduce
  }
  return
}

// -----

// A sum carried from 1.0: 32 lanes would add it 32 times.
// CHECK: gpu.func @sum_from_one({{.*}}grade.schedule = "rows"
// FORCED: error: 'func.func' op cannot balance its nodes' edges over a warp (a loop over edges nested in another loop or a branch, a reduction other than one add, mul, min, max, and or or of the running value, scratch shared by a node's edges other than such a reduction, or a buffer it reads and stores to before its last loop over edges); use the rows or auto schedule
func.func private @sum_from_one_cuda(%off: memref<?xi64>, %src: memref<?xi32>, %x: memref<?xf64>, %y: memref<?xf64>, %n: index) attributes {grade.gpu_kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %init = arith.constant 1.0 : f64
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %lo64 = memref.load %off[%i] : memref<?xi64>
    %lo = arith.index_castui %lo64 : i64 to index
    %i1 = arith.addi %i, %c1 : index
    %hi64 = memref.load %off[%i1] : memref<?xi64>
    %hi = arith.index_castui %hi64 : i64 to index
    %r = scf.for %e = %lo to %hi step %c1 iter_args(%a = %init) -> (f64) {
      %j32 = memref.load %src[%e] : memref<?xi32>
      %j = arith.index_castui %j32 : i32 to index
      %v = memref.load %x[%j] : memref<?xf64>
      %a2 = arith.addf %a, %v : f64
      scf.yield %a2 : f64
    }
    %old = memref.load %y[%i] : memref<?xf64>
    %new = arith.addf %old, %r : f64
    memref.store %new, %y[%i] : memref<?xf64>
    scf.reduce
  }
  return
}

// -----

// A maximum from any start (idempotent).
// CHECK: gpu.func @max_from_zero({{.*}}grade.schedule = "balanced(32)"
func.func private @max_from_zero_cuda(%off: memref<?xi64>, %src: memref<?xi32>, %x: memref<?xf64>, %y: memref<?xf64>, %n: index) attributes {grade.gpu_kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %init = arith.constant 0.0 : f64
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %lo64 = memref.load %off[%i] : memref<?xi64>
    %lo = arith.index_castui %lo64 : i64 to index
    %i1 = arith.addi %i, %c1 : index
    %hi64 = memref.load %off[%i1] : memref<?xi64>
    %hi = arith.index_castui %hi64 : i64 to index
    %r = scf.for %e = %lo to %hi step %c1 iter_args(%a = %init) -> (f64) {
      %j32 = memref.load %src[%e] : memref<?xi32>
      %j = arith.index_castui %j32 : i32 to index
      %v = memref.load %x[%j] : memref<?xf64>
      %a2 = arith.maxnumf %a, %v : f64
      scf.yield %a2 : f64
    }
    %old = memref.load %y[%i] : memref<?xf64>
    %new = arith.addf %old, %r : f64
    memref.store %new, %y[%i] : memref<?xf64>
    scf.reduce
  }
  return
}

// -----

// Not associative.
// CHECK: gpu.func @difference({{.*}}grade.schedule = "rows"
// FORCED: error: 'func.func' op cannot balance its nodes' edges over a warp
func.func private @difference_cuda(%off: memref<?xi64>, %src: memref<?xi32>, %x: memref<?xf64>, %y: memref<?xf64>, %n: index) attributes {grade.gpu_kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %init = arith.constant 0.0 : f64
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %lo64 = memref.load %off[%i] : memref<?xi64>
    %lo = arith.index_castui %lo64 : i64 to index
    %i1 = arith.addi %i, %c1 : index
    %hi64 = memref.load %off[%i1] : memref<?xi64>
    %hi = arith.index_castui %hi64 : i64 to index
    %r = scf.for %e = %lo to %hi step %c1 iter_args(%a = %init) -> (f64) {
      %j32 = memref.load %src[%e] : memref<?xi32>
      %j = arith.index_castui %j32 : i32 to index
      %v = memref.load %x[%j] : memref<?xf64>
      %a2 = arith.subf %a, %v : f64
      scf.yield %a2 : f64
    }
    %old = memref.load %y[%i] : memref<?xf64>
    %new = arith.addf %old, %r : f64
    memref.store %new, %y[%i] : memref<?xf64>
    scf.reduce
  }
  return
}

// -----

// y stored before the loop over edges and read after it: a lane other
// than 0 could read lane 0's store.
// CHECK: gpu.func @store_first({{.*}}grade.schedule = "rows"
// FORCED: error: 'func.func' op cannot balance its nodes' edges over a warp
func.func private @store_first_cuda(%off: memref<?xi64>, %src: memref<?xi32>, %x: memref<?xf64>, %y: memref<?xf64>, %n: index) attributes {grade.gpu_kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %init = arith.constant 0.0 : f64
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %init, %y[%i] : memref<?xf64>
    %lo64 = memref.load %off[%i] : memref<?xi64>
    %lo = arith.index_castui %lo64 : i64 to index
    %i1 = arith.addi %i, %c1 : index
    %hi64 = memref.load %off[%i1] : memref<?xi64>
    %hi = arith.index_castui %hi64 : i64 to index
    %r = scf.for %e = %lo to %hi step %c1 iter_args(%a = %init) -> (f64) {
      %j32 = memref.load %src[%e] : memref<?xi32>
      %j = arith.index_castui %j32 : i32 to index
      %v = memref.load %x[%j] : memref<?xf64>
      %a2 = arith.addf %a, %v : f64
      scf.yield %a2 : f64
    }
    %old = memref.load %y[%i] : memref<?xf64>
    %new = arith.addf %old, %r : f64
    memref.store %new, %y[%i] : memref<?xf64>
    scf.reduce
  }
  return
}

// -----

// A triangular loop over a small matrix (bounds from constants and an
// enclosing loop) is local to the node, not a loop over edges; but it
// writes x, which the edges read.
// CHECK: gpu.func @triangle({{.*}}grade.schedule = "rows"
// FORCED: error: 'func.func' op cannot balance its nodes' edges over a warp
func.func private @triangle_cuda(%off: memref<?xi64>, %src: memref<?xi32>, %x: memref<?xf64>, %y: memref<?xf64>, %n: index) attributes {grade.gpu_kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %init = arith.constant 0.0 : f64
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    scf.for %p = %c0 to %c3 step %c1 {
      %q0 = arith.addi %p, %c1 : index
      scf.for %q = %q0 to %c3 step %c1 {
        %t = memref.load %x[%q] : memref<?xf64>
        memref.store %t, %x[%p] : memref<?xf64>
      }
    }
    %lo64 = memref.load %off[%i] : memref<?xi64>
    %lo = arith.index_castui %lo64 : i64 to index
    %i1 = arith.addi %i, %c1 : index
    %hi64 = memref.load %off[%i1] : memref<?xi64>
    %hi = arith.index_castui %hi64 : i64 to index
    %r = scf.for %e = %lo to %hi step %c1 iter_args(%a = %init) -> (f64) {
      %j32 = memref.load %src[%e] : memref<?xi32>
      %j = arith.index_castui %j32 : i32 to index
      %v = memref.load %x[%j] : memref<?xf64>
      %a2 = arith.addf %a, %v : f64
      scf.yield %a2 : f64
    }
    %old = memref.load %y[%i] : memref<?xf64>
    %new = arith.addf %old, %r : f64
    memref.store %new, %y[%i] : memref<?xf64>
    scf.reduce
  }
  return
}

// -----

// The same loop over scratch: local, and the kernel balanced.
// CHECK: gpu.func @triangle_scratch({{.*}}grade.schedule = "balanced(32)"
func.func private @triangle_scratch_cuda(%off: memref<?xi64>, %src: memref<?xi32>, %x: memref<?xf64>, %y: memref<?xf64>, %n: index) attributes {grade.gpu_kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %init = arith.constant 0.0 : f64
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %s = memref.alloca() : memref<3xf64>
    scf.for %p = %c0 to %c3 step %c1 {
      %q0 = arith.addi %p, %c1 : index
      scf.for %q = %q0 to %c3 step %c1 {
        memref.store %init, %s[%q] : memref<3xf64>
      }
    }
    %lo64 = memref.load %off[%i] : memref<?xi64>
    %lo = arith.index_castui %lo64 : i64 to index
    %i1 = arith.addi %i, %c1 : index
    %hi64 = memref.load %off[%i1] : memref<?xi64>
    %hi = arith.index_castui %hi64 : i64 to index
    %r = scf.for %e = %lo to %hi step %c1 iter_args(%a = %init) -> (f64) {
      %j32 = memref.load %src[%e] : memref<?xi32>
      %j = arith.index_castui %j32 : i32 to index
      %v = memref.load %x[%j] : memref<?xf64>
      %a2 = arith.addf %a, %v : f64
      scf.yield %a2 : f64
    }
    %old = memref.load %y[%i] : memref<?xf64>
    %new = arith.addf %old, %r : f64
    memref.store %new, %y[%i] : memref<?xf64>
    scf.reduce
  }
  return
}
