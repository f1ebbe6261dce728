// RUN: grade-opt %s --convert-kernels-to-gpu --split-input-file | FileCheck %s

// A kernel over blocks of 64 nodes (a global reduction): one thread per
// block, the loop's body under a bound check; the launch covers the bound,
// ceil(ceil(N / 64) / 128) blocks of 128 threads and at least one; the
// entry's partials become memory the kernel can write and the host read.

// CHECK-LABEL: func.func @gradegen_cuda_entry_rhs(
// CHECK-SAME: %[[SLOTS:[^:]+]]: !llvm.ptr, %[[N64:[^:]+]]: i64
// CHECK: %[[N:.*]] = arith.index_cast %[[N64]]
// CHECK: %[[X:.*]] = gpu.alloc  host_shared (%[[N]]) : memref<?xf64>
// CHECK: %[[PARTIALS:.*]] = gpu.alloc  host_shared (%[[N]]) : memref<?xf64>
// CHECK: %[[BOUND:.*]] = arith.ceildivui %[[N]], %[[C64:.*]] : index
// CHECK: %[[GRID:.*]] = arith.ceildivui %[[BOUND]], %[[C128:.*]] : index
// CHECK: %[[BLOCKS:.*]] = arith.maxui %[[GRID]], %[[C1:.*]] : index
// CHECK: gpu.launch_func @gradegen_kernels::@model_rhs_kernel0 blocks in (%[[BLOCKS]], %[[C1]], %[[C1]]) threads in (%[[C128]], %[[C1]], %[[C1]]) args(%[[X]] : memref<?xf64>, %[[PARTIALS]] : memref<?xf64>, %[[N]] : index)
// CHECK: memref.load %[[PARTIALS]]
// CHECK: %[[ADDRESS:.*]] = memref.extract_aligned_pointer_as_index %[[PARTIALS]]
// CHECK: %[[I64:.*]] = arith.index_cast %[[ADDRESS]] : index to i64
// CHECK: %[[PTR:.*]] = llvm.inttoptr %[[I64]] : i64 to !llvm.ptr
// CHECK: %[[NULL:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK: llvm.call @mgpuMemFree(%[[PTR]], %[[NULL]])
// CHECK: memref.extract_aligned_pointer_as_index %[[X]]
// CHECK: llvm.call @mgpuMemFree(
// CHECK-NOT: memref.dealloc
// CHECK-NOT: func.func private @model_rhs_kernel0_cuda

// CHECK-LABEL: gpu.module @gradegen_kernels
// CHECK: gpu.func @model_rhs_kernel0(%[[KX:.*]]: memref<?xf64>, %[[OUT:.*]]: memref<?xf64>, %[[KN:.*]]: index) kernel
// CHECK: %[[KBOUND:.*]] = arith.ceildivui %[[KN]], %{{.*}} : index
// CHECK: %[[BID:.*]] = gpu.block_id  x
// CHECK: %[[BDIM:.*]] = gpu.block_dim  x
// CHECK: %[[TID:.*]] = gpu.thread_id  x
// CHECK: %[[BASE:.*]] = arith.muli %[[BID]], %[[BDIM]] : index
// CHECK: %[[I:.*]] = arith.addi %[[BASE]], %[[TID]] : index
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[I]], %[[KBOUND]] : index
// CHECK: scf.if %[[IN]] {
// CHECK:   memref.load %[[KX]][%[[I]]]
// CHECK:   memref.store %{{.*}}, %[[OUT]][%[[I]]]
// CHECK: }
// CHECK: gpu.return

module {
  func.func private @model_rhs_kernel0_cuda(%x: memref<?xf64>, %out: memref<?xf64>, %n: index) attributes {grade.gpu_kernel} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    %blocks = arith.ceildivui %n, %c64 : index
    scf.parallel (%b) = (%c0) to (%blocks) step (%c1) {
      %v = memref.load %x[%b] : memref<?xf64>
      memref.store %v, %out[%b] : memref<?xf64>
      scf.reduce
    }
    return
  }
  func.func @gradegen_cuda_entry_rhs(%slots: !llvm.ptr, %n64: i64, %e64: i64, %t: f64, %dt: f64) attributes {grade.gpu_entry} {
    %c0 = arith.constant 0 : index
    %n = arith.index_cast %n64 : i64 to index
    %x = memref.alloc(%n) : memref<?xf64>
    %partials = memref.alloc(%n) : memref<?xf64>
    func.call @model_rhs_kernel0_cuda(%x, %partials, %n) : (memref<?xf64>, memref<?xf64>, index) -> ()
    %first = memref.load %partials[%c0] : memref<?xf64>
    memref.dealloc %partials : memref<?xf64>
    memref.dealloc %x : memref<?xf64>
    return
  }
}

// -----

// The CPU flavour is left alone.
// CHECK-LABEL: func.func private @cpu_kernel(
// CHECK: scf.parallel
// CHECK-NOT: gpu.module
module {
  func.func private @cpu_kernel(%x: memref<?xf64>, %n: index) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    scf.parallel (%i) = (%c0) to (%n) step (%c1) {
      %v = memref.load %x[%i] : memref<?xf64>
      memref.store %v, %x[%i] : memref<?xf64>
      scf.reduce
    }
    return
  }
}
