// RUN: grade-opt %s --convert-kernels-to-gpu --split-input-file | FileCheck %s

// A kernel over blocks of 64 nodes (a global reduction): one thread per
// block, the loop's body under a bound check; the launch, in a host function
// of its own that the entry calls (it recomputes N and the grid from the
// entry's arguments), covers the bound, ceil(ceil(N / 64) / 128) blocks of
// 128 threads and at least one; the entry's partials become memory the
// kernel can write and the host read after a wait.

// CHECK-LABEL: func.func private @model_rhs_kernel0_launch(
// CHECK-SAME: %[[LN64:[^:]+]]: i64, %[[LX:[^:]+]]: memref<?xf64>, %[[LP:[^:]+]]: memref<?xf64>) attributes {passthrough = ["noinline"]}
// CHECK: %[[LN:.*]] = arith.index_cast %[[LN64]]
// CHECK: %[[BOUND:.*]] = arith.ceildivui %[[LN]], %[[C64:.*]] : index
// CHECK: %[[GRID:.*]] = arith.ceildivui %[[BOUND]], %[[C128:.*]] : index
// CHECK: %[[BLOCKS:.*]] = arith.maxui %[[GRID]], %[[C1:.*]] : index
// CHECK: gpu.launch_func @gradegen_kernels::@model_rhs_kernel0 blocks in (%[[BLOCKS]], %[[C1]], %[[C1]]) threads in (%[[C128]], %[[C1]], %[[C1]]) args(%[[LX]] : memref<?xf64>, %[[LP]] : memref<?xf64>, %[[LN]] : index)
// CHECK-NEXT: return
// CHECK-LABEL: func.func @gradegen_cuda_entry_rhs(
// CHECK-SAME: %[[SLOTS:[^:]+]]: !llvm.ptr, %[[N64:[^:]+]]: i64
// CHECK: %[[N:.*]] = arith.index_cast %[[N64]]
// CHECK: %[[X:.*]] = gpu.alloc  host_shared (%[[N]]) : memref<?xf64>
// CHECK: %[[PARTIALS:.*]] = gpu.alloc  host_shared (%[[N]]) : memref<?xf64>
// CHECK-NEXT: call @model_rhs_kernel0_launch(%[[N64]], %[[X]], %[[PARTIALS]])
// CHECK-NEXT: llvm.call @gradegen_gpu_wait()
// CHECK-NEXT: memref.load %[[PARTIALS]]
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
// CHECK: gpu.func @model_rhs_kernel0(%[[KX:.*]]: memref<?xf64>, %[[OUT:.*]]: memref<?xf64>, %[[KN:.*]]: index) kernel attributes {grade.schedule = "rows"}
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

// -----

// Lanes: element-wise loops over 48 features, scratch at the feature: 32
// threads per node, lane l taking features l and l + 32 (the second round
// only for l < 16), a scratch array of 2 per lane indexed by the round; the
// launch covers 32 threads per node. A loop reducing across features keeps
// its kernel on rows.

// CHECK-LABEL: func.func private @wide_kernel0_launch(
// CHECK: %[[N:.*]] = arith.index_cast
// CHECK: %[[THREADS:.*]] = arith.muli %[[N]], %c32 : index
// CHECK: %[[GRID:.*]] = arith.ceildivui %[[THREADS]], %c128
// CHECK: gpu.launch_func @gradegen_kernels::@wide_kernel0 blocks in (%{{.*}}, %c1, %c1) threads in (%c128, %c1, %c1)
// CHECK-LABEL: func.func private @dot_kernel0_launch(
// CHECK: gpu.launch_func @gradegen_kernels::@dot_kernel0
// CHECK-LABEL: func.func @gradegen_cuda_entry_rhs(
// CHECK: call @wide_kernel0_launch(
// CHECK-NEXT: call @dot_kernel0_launch(
// CHECK-LABEL: gpu.func @wide_kernel0(
// CHECK-SAME: %[[X:.*]]: memref<?xf32>, %[[Y:.*]]: memref<?xf32>, %[[WN:.*]]: index) kernel attributes {grade.schedule = "lanes(32)"}
// CHECK: %[[T:.*]] = arith.addi
// CHECK: %[[LANE:.*]] = arith.remui %[[T]], %c32
// CHECK: %[[NODE:.*]] = arith.divui %[[T]], %c32
// CHECK: arith.cmpi ult, %[[NODE]], %[[WN]]
// CHECK: %[[S:.*]] = memref.alloca() : memref<2xf32>
// CHECK: scf.for %[[J:.*]] = %c0 to %c2{{.*}} step %c1 {
// CHECK:   %[[OFF:.*]] = arith.muli %[[J]], %c32
// CHECK:   %[[F:.*]] = arith.addi %[[LANE]], %[[OFF]]
// CHECK:   %[[IN:.*]] = arith.cmpi ult, %[[F]], %c48{{.*}}
// CHECK:   scf.if %[[IN]] {
// CHECK:     %[[AT:.*]] = arith.addi %{{.*}}, %[[F]]
// CHECK:     memref.load %[[X]][%[[AT]]]
// CHECK:     memref.store %{{.*}}, %[[S]][%[[J]]]
// CHECK: scf.for %[[J2:.*]] = %c0 to %c2{{.*}} step %c1 {
// CHECK:   memref.load %[[S]][%[[J2]]]
// CHECK:   memref.store %{{.*}}, %[[Y]]
// CHECK-LABEL: gpu.func @dot_kernel0({{.*}}) kernel attributes {grade.schedule = "rows"}
module {
  func.func private @wide_kernel0_cuda(%x: memref<?xf32>, %y: memref<?xf32>, %n: index) attributes {grade.gpu_kernel} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c48 = arith.constant 48 : index
    scf.parallel (%i) = (%c0) to (%n) step (%c1) {
      %s = memref.alloca() : memref<48xf32>
      %base = arith.muli %i, %c48 : index
      scf.for %f = %c0 to %c48 step %c1 {
        %at = arith.addi %base, %f : index
        %v = memref.load %x[%at] : memref<?xf32>
        %w = arith.addf %v, %v : f32
        memref.store %w, %s[%f] : memref<48xf32>
      }
      scf.for %f = %c0 to %c48 step %c1 {
        %at = arith.addi %base, %f : index
        %v = memref.load %s[%f] : memref<48xf32>
        memref.store %v, %y[%at] : memref<?xf32>
      }
      scf.reduce
    }
    return
  }
  func.func private @dot_kernel0_cuda(%x: memref<?xf32>, %y: memref<?xf32>, %n: index) attributes {grade.gpu_kernel} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c48 = arith.constant 48 : index
    %zero = arith.constant 0.0 : f32
    scf.parallel (%i) = (%c0) to (%n) step (%c1) {
      %base = arith.muli %i, %c48 : index
      %sum = scf.for %f = %c0 to %c48 step %c1 iter_args(%acc = %zero) -> (f32) {
        %at = arith.addi %base, %f : index
        %v = memref.load %x[%at] : memref<?xf32>
        %next = arith.addf %acc, %v : f32
        scf.yield %next : f32
      }
      memref.store %sum, %y[%i] : memref<?xf32>
      scf.reduce
    }
    return
  }
  func.func @gradegen_cuda_entry_rhs(%slots: !llvm.ptr, %n64: i64, %e64: i64, %t: f64, %dt: f64) attributes {grade.gpu_entry} {
    %n = arith.index_cast %n64 : i64 to index
    %x = memref.alloc(%n) : memref<?xf32>
    func.call @wide_kernel0_cuda(%x, %x, %n) : (memref<?xf32>, memref<?xf32>, index) -> ()
    func.call @dot_kernel0_cuda(%x, %x, %n) : (memref<?xf32>, memref<?xf32>, index) -> ()
    memref.dealloc %x : memref<?xf32>
    return
  }
}
