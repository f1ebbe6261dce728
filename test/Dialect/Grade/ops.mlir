// RUN: grade-opt %s | grade-opt | FileCheck %s
// RUN: grade-opt %s --mlir-print-op-generic | grade-opt | FileCheck %s

// Every op and type of the grade dialect, printed and parsed back.

// CHECK-LABEL: grade.model @all
// CHECK: grade.graph @G weight(f32)
// CHECK: grade.decl input @x0 : !grade.field<node, 4xf32>
// CHECK: grade.decl param @W : tensor<4x2xf32>
// CHECK: grade.decl param @b : tensor<2xf32>
// CHECK: grade.decl param @k : f32
// CHECK: grade.decl let @a : !grade.field<edge, f32>
// CHECK: grade.decl state @x : !grade.field<node, 4xf32> output
grade.model @all {
  grade.graph @G weight(f32)
  grade.decl input @x0 : !grade.field<node, 4xf32>
  grade.decl param @W : tensor<4x2xf32>
  grade.decl param @b : tensor<2xf32>
  grade.decl param @k : f32
  grade.decl let @a : !grade.field<edge, f32>
  grade.decl state @x : !grade.field<node, 4xf32> output
  // CHECK: grade.init targets [@a, @x] (%[[G:.*]]: !grade.graph) {
  grade.init targets [@a, @x] (%G: !grade.graph) {
    // CHECK: %[[X0:.*]] = grade.load @x0 : !grade.field<node, 4xf32>
    %x0 = grade.load @x0 : !grade.field<node, 4xf32>
    %W = grade.load @W : tensor<4x2xf32>
    %b = grade.load @b : tensor<2xf32>
    // CHECK: grade.contract "i,ij->j" %[[X0]], %{{.*}} : !grade.field<node, 4xf32>, tensor<4x2xf32> -> !grade.field<node, 2xf32>
    %p = grade.contract "i,ij->j" %x0, %W : !grade.field<node, 4xf32>, tensor<4x2xf32> -> !grade.field<node, 2xf32>
    // CHECK: grade.binary add %{{.*}}, %{{.*}} : !grade.field<node, 2xf32>, tensor<2xf32> -> !grade.field<node, 2xf32>
    %pb = grade.binary add %p, %b : !grade.field<node, 2xf32>, tensor<2xf32> -> !grade.field<node, 2xf32>
    // CHECK: grade.gather src %[[G]], %{{.*}} : !grade.field<node, 2xf32> -> !grade.field<edge, 2xf32>
    %ps = grade.gather src %G, %pb : !grade.field<node, 2xf32> -> !grade.field<edge, 2xf32>
    // CHECK: grade.gather dst %[[G]]
    %pd = grade.gather dst %G, %pb : !grade.field<node, 2xf32> -> !grade.field<edge, 2xf32>
    // CHECK: grade.contract "i,i->" %{{.*}}, %{{.*}} : !grade.field<edge, 2xf32>, !grade.field<edge, 2xf32> -> !grade.field<edge, f32>
    %s = grade.contract "i,i->" %ps, %pd : !grade.field<edge, 2xf32>, !grade.field<edge, 2xf32> -> !grade.field<edge, f32>
    // CHECK: grade.softmax %[[G]], %{{.*}} : !grade.field<edge, f32>
    %a = grade.softmax %G, %s : !grade.field<edge, f32>
    // CHECK: grade.yield %{{.*}}, %[[X0]] : !grade.field<edge, f32>, !grade.field<node, 4xf32>
    grade.yield %a, %x0 : !grade.field<edge, f32>, !grade.field<node, 4xf32>
  }
  // CHECK: grade.rhs targets [@x] (%[[G2:.*]]: !grade.graph, %[[T:.*]]: f64) {
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, 4xf32>
    %a = grade.load @a : !grade.field<edge, f32>
    %k = grade.load @k : f32
    // CHECK: grade.weight %[[G2]] : !grade.field<edge, f32>
    %w = grade.weight %G : !grade.field<edge, f32>
    // CHECK: grade.degree %[[G2]] : !grade.field<node, f32>
    %d = grade.degree %G : !grade.field<node, f32>
    %xs = grade.gather src %G, %x : !grade.field<node, 4xf32> -> !grade.field<edge, 4xf32>
    %aw = grade.binary mul %a, %w : !grade.field<edge, f32>, !grade.field<edge, f32> -> !grade.field<edge, f32>
    %m = grade.binary mul %aw, %xs : !grade.field<edge, f32>, !grade.field<edge, 4xf32> -> !grade.field<edge, 4xf32>
    // CHECK: grade.reduce sum %[[G2]], %{{.*}} : !grade.field<edge, 4xf32> -> !grade.field<node, 4xf32>
    %r = grade.reduce sum %G, %m : !grade.field<edge, 4xf32> -> !grade.field<node, 4xf32>
    // CHECK: grade.reduce mean
    %r2 = grade.reduce mean %G, %m : !grade.field<edge, 4xf32> -> !grade.field<node, 4xf32>
    // CHECK: grade.reduce max
    %r3 = grade.reduce max %G, %m : !grade.field<edge, 4xf32> -> !grade.field<node, 4xf32>
    // Over out-edges: `out` after the kind (and no `out` for in-edges).
    // CHECK: grade.reduce sum out %[[G2]], %{{.*}} : !grade.field<edge, 4xf32> -> !grade.field<node, 4xf32>
    %o1 = grade.reduce sum out %G, %m : !grade.field<edge, 4xf32> -> !grade.field<node, 4xf32>
    // CHECK: grade.reduce mean out
    %o2 = grade.reduce mean out %G, %m : !grade.field<edge, 4xf32> -> !grade.field<node, 4xf32>
    // CHECK: grade.reduce max out
    %o3 = grade.reduce max out %G, %m : !grade.field<edge, 4xf32> -> !grade.field<node, 4xf32>
    // The generic form names the direction as a unit attribute.
    // CHECK: grade.reduce sum out
    %o4 = "grade.reduce"(%G, %m) {kind = 0 : i32, out} : (!grade.graph, !grade.field<edge, 4xf32>) -> !grade.field<node, 4xf32>
    // CHECK: grade.nonempty_in %[[G2]], %{{.*}} : !grade.field<node, 4xf32>
    %ne = grade.nonempty_in %G, %r2 : !grade.field<node, 4xf32>
    // CHECK: grade.unary tanh %{{.*}} : !grade.field<node, 4xf32>
    %th = grade.unary tanh %r3 : !grade.field<node, 4xf32>
    // CHECK: grade.unary relu
    %re = grade.unary relu %ne : !grade.field<node, 4xf32>
    // CHECK: grade.binary max
    %mx = grade.binary max %th, %re : !grade.field<node, 4xf32>, !grade.field<node, 4xf32> -> !grade.field<node, 4xf32>
    // CHECK: grade.binary mul %{{.*}}, %{{.*}} : f32, !grade.field<node, 4xf32> -> !grade.field<node, 4xf32>
    %kx = grade.binary mul %k, %mx : f32, !grade.field<node, 4xf32> -> !grade.field<node, 4xf32>
    %dx = grade.binary div %kx, %d : !grade.field<node, 4xf32>, !grade.field<node, f32> -> !grade.field<node, 4xf32>
    %y = grade.binary sub %r, %dx : !grade.field<node, 4xf32>, !grade.field<node, 4xf32> -> !grade.field<node, 4xf32>
    grade.yield %y : !grade.field<node, 4xf32>
  }
  // CHECK: grade.solve rk4 dt(1.000000e-01) over [0.000000e+00, 2.000000e+00]
  grade.solve rk4 dt(0.1) over [0.0, 2.0]
}

// CHECK-LABEL: func.func @slot
// CHECK: grade.slot %{{.*}}[3], %{{.*}} : memref<?xf64>
func.func @slot(%slots: !llvm.ptr, %n: index) -> memref<?xf64> {
  %m = grade.slot %slots[3], %n : memref<?xf64>
  return %m : memref<?xf64>
}
