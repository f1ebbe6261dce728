// RUN: grade-opt %s -convert-gk-to-scf | FileCheck %s
// RUN: grade-opt %s -convert-gk-to-scf=prefetch=false | FileCheck %s --check-prefix=NOPF

// The plan transcribed: one private, never inlined function per launched
// kernel taking the slot array, N, E and the global scalars; it views the
// graph arrays and the distinct buffers it uses (k0 reads x and writes it in
// place: one view of x's slot 6), allocates the per-block partials of its
// global reduction, combines them in block order after its loop (one shared
// function per kind and type) and returns the result, which the entry passes
// to k1. The entry holds calls only.

// CHECK-LABEL: func.func private @gradegen_combine_max_f64(
// CHECK-SAME: %[[CP:arg[0-9]+]]: memref<?xf64>, %[[CB:arg[0-9]+]]: index, %[[CS:arg[0-9]+]]: index, %[[CK:arg[0-9]+]]: index) -> f64 attributes {passthrough = ["noinline"]}
// CHECK: scf.for %[[B:.*]] = %{{.*}} to %[[CB]]
// CHECK: %[[AT:.*]] = arith.muli %[[B]], %[[CS]]
// CHECK: arith.addi %[[AT]], %[[CK]]
// CHECK: arith.maximumf

// CHECK-LABEL: func.func private @m_step_kernel0(
// CHECK-SAME: %[[SLOTS:arg[0-9]+]]: !llvm.ptr, %[[N:arg[0-9]+]]: index, %[[E:arg[0-9]+]]: index) -> f64 attributes {passthrough = ["noinline"]}
// CHECK: grade.slot %[[SLOTS]][0]
// CHECK: grade.slot %[[SLOTS]][1], %[[E]]
// CHECK: %[[X:.*]] = grade.slot %[[SLOTS]][6], %[[N]]
// CHECK-NOT: grade.slot
// CHECK: %[[BLOCKS:.*]] = arith.ceildivui %[[N]]
// CHECK: %[[P:.*]] = memref.alloc(
// CHECK: scf.parallel
// CHECK: scf.for
// CHECK: memref.load %[[X]]
// CHECK: memref.store %{{.*}}, %[[X]]
// CHECK: memref.store %{{.*}}, %[[P]]
// CHECK: %[[MAX:.*]] = call @gradegen_combine_max_f64(%[[P]], %[[BLOCKS]], %{{.*}}, %{{.*}})
// CHECK: %[[G:.*]] = arith.select %{{.*}}, %{{.*}}, %[[MAX]] : f64
// CHECK: memref.dealloc %[[P]]
// CHECK: return %[[G]] : f64

// Rows of 8 f64 (a cache line) read at sources are prefetched.
// CHECK-LABEL: func.func private @m_step_kernel1(
// CHECK-SAME: %{{.*}}: index, %[[S:arg[0-9]+]]: f64)
// CHECK: grade.slot %{{.*}}[8]
// CHECK: grade.slot %{{.*}}[7]
// CHECK: scf.for
// CHECK: memref.prefetch
// CHECK: arith.mulf %{{.*}}, %[[S]]
// NOPF-LABEL: func.func private @m_step_kernel1(
// NOPF-NOT: memref.prefetch
// NOPF: return

// CHECK-LABEL: func.func @gradegen_entry_step(
// CHECK-SAME: %[[ESLOTS:arg0]]: !llvm.ptr
// CHECK-NOT: grade.slot
// CHECK-NOT: memref.alloc
// CHECK: %[[R:.*]] = call @m_step_kernel0(%[[ESLOTS]], %{{.*}}, %{{.*}}) : (!llvm.ptr, index, index) -> f64
// CHECK-NEXT: call @m_step_kernel1(%[[ESLOTS]], %{{.*}}, %{{.*}}, %[[R]])
// CHECK-NEXT: return
// CHECK-NOT: gk.
gk.func @m_step_kernel0 over blocks(1024) (%g : !grade.graph uniform, %x : !grade.field<node, f64> local) -> (!grade.field<node, f64> in @x, f64) passes 1 {
  %xd = grade.gather dst %g, %x : !grade.field<node, f64> -> !grade.field<edge, f64>
  %s = grade.reduce sum %g, %xd {gk.pass = 0 : i64} : !grade.field<edge, f64> -> !grade.field<node, f64>
  %m = grade.reduce_all max %s : !grade.field<node, f64> -> f64
  gk.yield %s, %m : !grade.field<node, f64>, f64
}
gk.func @m_step_kernel1 over nodes (%g : !grade.graph uniform, %t : !grade.field<node, 8xf64> remote, %c : f64 uniform) -> (!grade.field<node, 8xf64> in @y) passes 1 {
  %ts = grade.gather src %g, %t : !grade.field<node, 8xf64> -> !grade.field<edge, 8xf64>
  %s = grade.reduce sum %g, %ts {gk.pass = 0 : i64} : !grade.field<edge, 8xf64> -> !grade.field<node, 8xf64>
  %u = grade.binary mul %s, %c : !grade.field<node, 8xf64>, f64 -> !grade.field<node, 8xf64>
  gk.yield %u : !grade.field<node, 8xf64>
}
grade.model @m {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.decl state @y : !grade.field<node, 8xf64>
  grade.decl input @t : !grade.field<node, 8xf64>
  gk.entry "step" {
  ^bb0(%G: !grade.graph, %t: f64, %dt: f64):
    %x = grade.load @x : !grade.field<node, f64>
    %a:2 = gk.launch @m_step_kernel0(%G, %x) : (!grade.graph, !grade.field<node, f64>) -> (!grade.field<node, f64>, f64)
    %tt = grade.load @t : !grade.field<node, 8xf64>
    %b = gk.launch @m_step_kernel1(%G, %tt, %a#1) : (!grade.graph, !grade.field<node, 8xf64>, f64) -> !grade.field<node, 8xf64>
  }
}
