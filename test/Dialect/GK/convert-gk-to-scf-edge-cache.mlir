// RUN: grade-opt %s -convert-gk-to-scf | FileCheck %s
// RUN: grade-opt %s -convert-gk-to-scf=cache-edge-values=false | FileCheck %s --check-prefix=OFF

// A softmax-weighted sum in three passes over the in-edges (maximum, sum of
// exp, weighted sum): the attention score, a dot product with a row of k
// read at the source, is computed by pass 0 and stored per edge in a buffer
// of the chunk's largest in-degree rows; pass 1 reads it there (no row of k)
// and stores its exp in a second buffer, which pass 2 reads (no exp). Both
// buffers live for the chunk.
// CHECK-LABEL: func.func private @m_step_kernel0(
// CHECK: %[[K:.*]] = grade.slot %{{.*}}[7]
// CHECK: scf.parallel
// CHECK: %[[MAXDEG:.*]] = scf.for {{.*}} iter_args
// CHECK: arith.maxui
// CHECK: %[[SCORES:.*]] = memref.alloc(%{{.*}}) : memref<?xf64>
// CHECK: %[[EXPS:.*]] = memref.alloc(%{{.*}}) : memref<?xf64>
// Pass 0: the score from k's row, stored.
// CHECK: scf.for %[[E0:.*]] = %[[B0:[^ ]*]] to
// CHECK: memref.load %[[K]]
// CHECK: memref.store %{{.*}}, %[[SCORES]]
// CHECK: arith.maximumf
// Pass 1: the stored score, no row of k; its exp stored.
// CHECK: scf.for
// CHECK-NOT: memref.load %[[K]]
// CHECK: memref.load %[[SCORES]]
// CHECK-NOT: memref.load %[[K]]
// CHECK: math.exp
// CHECK-NOT: memref.load %[[K]]
// CHECK: memref.store %{{.*}}, %[[EXPS]]
// Pass 2: the stored exp, no exp and no row of k.
// CHECK: scf.for
// CHECK-NOT: math.exp
// CHECK-NOT: memref.load %[[K]]
// CHECK: memref.load %[[EXPS]]
// CHECK-NOT: math.exp
// CHECK: memref.dealloc %[[SCORES]]
// CHECK: memref.dealloc %[[EXPS]]
// Without the cache: k's row read in each pass, exp computed twice.
// OFF-LABEL: func.func private @m_step_kernel0(
// OFF-NOT: memref.alloc(
// OFF-COUNT-2: math.exp
// OFF-NOT: math.exp
// OFF: return
gk.func @m_step_kernel0 over balanced(4) (%g : !grade.graph uniform, %q : !grade.field<node, 2xf64> local, %k : !grade.field<node, 2xf64> remote, %x : !grade.field<node, 4xf64> remote) -> (!grade.field<node, 4xf64> in @y) passes 3 {
  %qd = grade.gather dst %g, %q : !grade.field<node, 2xf64> -> !grade.field<edge, 2xf64>
  %ks = grade.gather src %g, %k : !grade.field<node, 2xf64> -> !grade.field<edge, 2xf64>
  %s = grade.contract "h,h->" %qd, %ks : !grade.field<edge, 2xf64>, !grade.field<edge, 2xf64> -> !grade.field<edge, f64>
  %m = grade.reduce max %g, %s {gk.pass = 0 : i64} : !grade.field<edge, f64> -> !grade.field<node, f64>
  %md = grade.gather dst %g, %m : !grade.field<node, f64> -> !grade.field<edge, f64>
  %d = grade.binary sub %s, %md : !grade.field<edge, f64>, !grade.field<edge, f64> -> !grade.field<edge, f64>
  %e = grade.unary exp %d : !grade.field<edge, f64>
  %l = grade.reduce sum %g, %e {gk.pass = 1 : i64} : !grade.field<edge, f64> -> !grade.field<node, f64>
  %ld = grade.gather dst %g, %l : !grade.field<node, f64> -> !grade.field<edge, f64>
  %a = grade.binary div %e, %ld : !grade.field<edge, f64>, !grade.field<edge, f64> -> !grade.field<edge, f64>
  %xs = grade.gather src %g, %x : !grade.field<node, 4xf64> -> !grade.field<edge, 4xf64>
  %w = grade.binary mul %a, %xs : !grade.field<edge, f64>, !grade.field<edge, 4xf64> -> !grade.field<edge, 4xf64>
  %r = grade.reduce sum %g, %w {gk.pass = 2 : i64} : !grade.field<edge, 4xf64> -> !grade.field<node, 4xf64>
  gk.yield %r : !grade.field<node, 4xf64>
}
grade.model @m {
  grade.graph @G
  grade.decl input @q : !grade.field<node, 2xf64>
  grade.decl input @k : !grade.field<node, 2xf64>
  grade.decl input @x : !grade.field<node, 4xf64>
  grade.decl state @y : !grade.field<node, 4xf64>
  gk.entry "step" {
  ^bb0(%G: !grade.graph, %tm: f64, %dt: f64):
    %q = grade.load @q : !grade.field<node, 2xf64>
    %k = grade.load @k : !grade.field<node, 2xf64>
    %x = grade.load @x : !grade.field<node, 4xf64>
    %a = gk.launch @m_step_kernel0(%G, %q, %k, %x) : (!grade.graph, !grade.field<node, 2xf64>, !grade.field<node, 2xf64>, !grade.field<node, 4xf64>) -> !grade.field<node, 4xf64>
  }
}
