// RUN: grade-opt %s -convert-gk-to-scf | FileCheck %s
// RUN: grade-opt %s -convert-gk-to-scf=prefetch=false | FileCheck %s --check-prefix=NOPF

// The plan transcribed: one private function per launched kernel taking the
// graph arrays and one memref per distinct buffer (k0 reads x and writes it
// in place: one argument, x's slot 6), then N and the global scalars; the
// entry views the slots and calls the kernels in order, combining k0's
// per-block partial maxima in block order before k1 reads the result.

// CHECK-LABEL: func.func private @m_step_kernel0(
// CHECK-SAME: %[[ROW:arg[0-9]+]]: memref<?xi64> {llvm.noalias}, %[[COL:arg[0-9]+]]: memref<?xi64> {llvm.noalias}, %[[X:arg[0-9]+]]: memref<?xf64> {llvm.noalias}, %[[P:arg[0-9]+]]: memref<?xf64> {llvm.noalias}, %[[N:arg[0-9]+]]: index)
// CHECK: scf.parallel
// CHECK: scf.for
// CHECK: memref.load %[[X]]
// CHECK: memref.store %{{.*}}, %[[X]]
// CHECK: memref.store %{{.*}}, %[[P]]

// Rows of 8 f64 (a cache line) read at sources are prefetched.
// CHECK-LABEL: func.func private @m_step_kernel1(
// CHECK-SAME: %{{.*}}: index, %[[S:arg[0-9]+]]: f64)
// CHECK: scf.for
// CHECK: memref.prefetch
// CHECK: arith.mulf %{{.*}}, %[[S]]
// NOPF-LABEL: func.func private @m_step_kernel1(
// NOPF-NOT: memref.prefetch
// NOPF: return

// CHECK-LABEL: func.func @gradegen_entry_step(
// CHECK: %[[XS:.*]] = grade.slot %{{.*}}[6]
// CHECK: %[[TS:.*]] = grade.slot %{{.*}}[8]
// CHECK: %[[YS:.*]] = grade.slot %{{.*}}[7]
// CHECK: %[[PART:.*]] = memref.alloc(
// CHECK: call @m_step_kernel0(%{{.*}}, %{{.*}}, %[[XS]], %[[PART]], %{{.*}})
// CHECK: %[[MAX:.*]] = scf.for
// CHECK: arith.maximumf
// CHECK: %[[G:.*]] = arith.select %{{.*}}, %{{.*}}, %[[MAX]] : f64
// CHECK: call @m_step_kernel1(%{{.*}}, %{{.*}}, %[[TS]], %[[YS]], %{{.*}}, %[[G]])
// CHECK: memref.dealloc %[[PART]]
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
