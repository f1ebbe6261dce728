// RUN: grade-opt %s | FileCheck %s
// RUN: grade-opt %s | grade-opt | FileCheck %s
// RUN: grade-opt %s -mlir-print-op-generic | grade-opt | FileCheck %s

// The custom syntax round-trips: iteration space, captures with their
// accesses, results with their buffers, passes, and entries with launches.

// CHECK-LABEL: gk.func @k over blocks(1024) (%g : !grade.graph uniform, %c1 : !grade.field<node, 4xf32> both, %c2 : f32 uniform) -> (!grade.field<node, 4xf32> in @tmp0, f32) passes 1 {
// CHECK: grade.reduce sum %g, %{{.*}} {gk.pass = 0 : i64}
// CHECK: grade.reduce_all max
// CHECK: gk.yield %{{.*}}, %{{.*}} : !grade.field<node, 4xf32>, f32
gk.func @k over blocks(1024) (%g : !grade.graph uniform, %x : !grade.field<node, 4xf32> both, %c : f32 uniform) -> (!grade.field<node, 4xf32> in @tmp0, f32) passes 1 {
  %xs = grade.gather src %g, %x : !grade.field<node, 4xf32> -> !grade.field<edge, 4xf32>
  %s = grade.reduce sum %g, %xs {gk.pass = 0 : i64} : !grade.field<edge, 4xf32> -> !grade.field<node, 4xf32>
  %y = grade.binary mul %s, %c : !grade.field<node, 4xf32>, f32 -> !grade.field<node, 4xf32>
  %d = grade.contract "i,i->" %y, %y : !grade.field<node, 4xf32>, !grade.field<node, 4xf32> -> !grade.field<node, f32>
  %m = grade.reduce_all max %d : !grade.field<node, f32> -> f32
  gk.yield %y, %m : !grade.field<node, 4xf32>, f32
}

// CHECK-LABEL: gk.func @balanced over balanced(256) (%g : !grade.graph uniform, %c1 : !grade.field<node, f32> both) -> (!grade.field<node, f32> in @tmp1) passes 1 {
gk.func @balanced over balanced(256) (%g : !grade.graph uniform, %x : !grade.field<node, f32> both) -> (!grade.field<node, f32> in @tmp1) passes 1 {
  %xs = grade.gather src %g, %x : !grade.field<node, f32> -> !grade.field<edge, f32>
  %s = grade.reduce sum %g, %xs {gk.pass = 0 : i64} : !grade.field<edge, f32> -> !grade.field<node, f32>
  gk.yield %s : !grade.field<node, f32>
}

// CHECK-LABEL: gk.func @wide over nodes (%g : !grade.graph uniform, %c1 : !grade.field<node, 2xf64> local, %c2 : tensor<2x64xf64> uniform) -> (!grade.field<node, 64xf64> in @tmp2) passes 0 vectors(512) {
gk.func @wide over nodes (%g : !grade.graph uniform, %x : !grade.field<node, 2xf64> local, %w : tensor<2x64xf64> uniform) -> (!grade.field<node, 64xf64> in @tmp2) passes 0 vectors(512) {
  %p = grade.contract "i,ij->j" %x, %w : !grade.field<node, 2xf64>, tensor<2x64xf64> -> !grade.field<node, 64xf64>
  gk.yield %p : !grade.field<node, 64xf64>
}

// CHECK-LABEL: grade.model @m
// CHECK: gk.entry "step" {
// CHECK-NEXT: ^bb0(%G: !grade.graph, %t: f64, %dt: f64):
// CHECK: %[[X:.*]] = grade.load @x : !grade.field<node, 4xf32>
// CHECK: %{{.*}}:2 = gk.launch @k(%G, %[[X]], %{{.*}}) : (!grade.graph, !grade.field<node, 4xf32>, f32) -> (!grade.field<node, 4xf32>, f32)
// CHECK: gk.kernel "inline" over nodes (%g = %G : !grade.graph uniform, %x = %[[X]] : !grade.field<node, 4xf32> local) -> (!grade.field<node, 4xf32>) {
grade.model @m {
  grade.graph @G
  grade.decl state @x : !grade.field<node, 4xf32>
  grade.decl temp @tmp0 : !grade.field<node, 4xf32>
  gk.entry "step" {
  ^bb0(%G: !grade.graph, %t: f64, %dt: f64):
    %x = grade.load @x : !grade.field<node, 4xf32>
    %c = arith.truncf %dt : f64 to f32
    %r:2 = gk.launch @k(%G, %x, %c) : (!grade.graph, !grade.field<node, 4xf32>, f32) -> (!grade.field<node, 4xf32>, f32)
  }
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, 4xf32>
    %y = gk.kernel "inline" over nodes (%g = %G : !grade.graph uniform, %z = %x : !grade.field<node, 4xf32> local) -> (!grade.field<node, 4xf32>) {
      gk.yield %z : !grade.field<node, 4xf32>
    }
    grade.yield %y : !grade.field<node, 4xf32>
  }
}
