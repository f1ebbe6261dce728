// The warp-reduce schedule's rules (docs/gpu.md, "Schedules"): a kernel
// over blocks of nodes whose block scratch is either an accumulator (only
// combined into by the loop over the block's nodes, from its identity) or
// the scratch of each node (used only inside that loop).
// RUN: grade-opt %s --convert-kernels-to-gpu --split-input-file | FileCheck %s
// RUN: grade-opt %s --convert-kernels-to-gpu=schedule=rows --split-input-file | FileCheck %s --check-prefix=ROWS
// ROWS-NOT: warp-reduce

// CHECK: gpu.func @sum({{.*}}grade.schedule = "warp-reduce(32)"
func.func private @sum_cuda(%x: memref<?xf64>, %partials: memref<?xf64>, %n: index) attributes {grade.gpu_kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c1024 = arith.constant 1024 : index
  %init = arith.constant 0.0 : f64
  %blocks = arith.ceildivui %n, %c1024 : index
  scf.parallel (%b) = (%c0) to (%blocks) step (%c1) {
    %acc = memref.alloca() : memref<1xf64>
    %node = memref.alloca() : memref<1xf64>
    memref.store %init, %acc[%c0] : memref<1xf64>
    %first = arith.muli %b, %c1024 : index
    %end = arith.addi %first, %c1024 : index
    %last = arith.minui %end, %n : index
    scf.for %i = %first to %last step %c1 {
      %v = memref.load %x[%i] : memref<?xf64>
      memref.store %v, %node[%c0] : memref<1xf64>
      %w = memref.load %node[%c0] : memref<1xf64>
      %a = memref.load %acc[%c0] : memref<1xf64>
      %s = arith.addf %a, %w : f64
      memref.store %s, %acc[%c0] : memref<1xf64>
    }
    %t = memref.load %acc[%c0] : memref<1xf64>
    memref.store %t, %partials[%b] : memref<?xf64>
    scf.reduce
  }
  return
}

// -----

// A sum from 1.0: each lane would add it.
// CHECK: gpu.func @sum_from_one({{.*}}grade.schedule = "rows"
func.func private @sum_from_one_cuda(%x: memref<?xf64>, %partials: memref<?xf64>, %n: index) attributes {grade.gpu_kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c1024 = arith.constant 1024 : index
  %init = arith.constant 1.0 : f64
  %blocks = arith.ceildivui %n, %c1024 : index
  scf.parallel (%b) = (%c0) to (%blocks) step (%c1) {
    %acc = memref.alloca() : memref<1xf64>
    %node = memref.alloca() : memref<1xf64>
    memref.store %init, %acc[%c0] : memref<1xf64>
    %first = arith.muli %b, %c1024 : index
    %end = arith.addi %first, %c1024 : index
    %last = arith.minui %end, %n : index
    scf.for %i = %first to %last step %c1 {
      %v = memref.load %x[%i] : memref<?xf64>
      memref.store %v, %node[%c0] : memref<1xf64>
      %w = memref.load %node[%c0] : memref<1xf64>
      %a = memref.load %acc[%c0] : memref<1xf64>
      %s = arith.addf %a, %w : f64
      memref.store %s, %acc[%c0] : memref<1xf64>
    }
    %t = memref.load %acc[%c0] : memref<1xf64>
    memref.store %t, %partials[%b] : memref<?xf64>
    scf.reduce
  }
  return
}

// -----

// A node's scratch read after the loop (the block's last node's value):
// each lane has another.
// CHECK: gpu.func @last_node({{.*}}grade.schedule = "rows"
func.func private @last_node_cuda(%x: memref<?xf64>, %partials: memref<?xf64>, %n: index) attributes {grade.gpu_kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c1024 = arith.constant 1024 : index
  %init = arith.constant 0.0 : f64
  %blocks = arith.ceildivui %n, %c1024 : index
  scf.parallel (%b) = (%c0) to (%blocks) step (%c1) {
    %acc = memref.alloca() : memref<1xf64>
    %node = memref.alloca() : memref<1xf64>
    memref.store %init, %acc[%c0] : memref<1xf64>
    %first = arith.muli %b, %c1024 : index
    %end = arith.addi %first, %c1024 : index
    %last = arith.minui %end, %n : index
    scf.for %i = %first to %last step %c1 {
      %v = memref.load %x[%i] : memref<?xf64>
      memref.store %v, %node[%c0] : memref<1xf64>
      %w = memref.load %node[%c0] : memref<1xf64>
      %a = memref.load %acc[%c0] : memref<1xf64>
      %s = arith.addf %a, %w : f64
      memref.store %s, %acc[%c0] : memref<1xf64>
    }
    %t = memref.load %acc[%c0] : memref<1xf64>
    %l = memref.load %node[%c0] : memref<1xf64>
    memref.store %l, %x[%b] : memref<?xf64>
    memref.store %t, %partials[%b] : memref<?xf64>
    scf.reduce
  }
  return
}
