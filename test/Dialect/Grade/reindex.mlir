// RUN: grade-opt %s | grade-opt | FileCheck %s
// RUN: grade-opt %s --mlir-print-op-generic | grade-opt | FileCheck %s

// grade.reindex printed and parsed back: windows of a convolution, a
// run-time layer of a weight stack, a broadcast of a bias; grade.sym_pow.

// CHECK: #[[$WIN:.*]] = affine_map<(d0, d1, d2) -> (d0, d1 * 3 + d2)>
// CHECK: #[[$LAYER:.*]] = affine_map<(d0, d1)[s0] -> (s0, d0, d1)>
// CHECK: #[[$SPREAD:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: grade.model @windows
grade.model @windows {
  grade.graph @G
  grade.decl input @f : !grade.field<node, 1x8xf64>
  grade.decl param @W : tensor<4x3x3xf64>
  grade.decl param @b : tensor<2xf64>
  grade.decl state @x : !grade.field<node, 3xf64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %f = grade.load @f : !grade.field<node, 1x8xf64>
    // CHECK: grade.reindex %{{.*}} by #[[$WIN]] : !grade.field<node, 1x8xf64> -> !grade.field<node, 1x3x2xf64>
    %u = grade.reindex %f by affine_map<(d0, d1, d2) -> (d0, d1 * 3 + d2)> : !grade.field<node, 1x8xf64> -> !grade.field<node, 1x3x2xf64>
    %W = grade.load @W : tensor<4x3x3xf64>
    // CHECK: grade.reindex %{{.*}}[%{{.*}}] by #[[$LAYER]] : tensor<4x3x3xf64>, f64 -> tensor<3x3xf64>
    %w = grade.reindex %W [%t] by affine_map<(d0, d1)[s0] -> (s0, d0, d1)> : tensor<4x3x3xf64>, f64 -> tensor<3x3xf64>
    %b = grade.load @b : tensor<2xf64>
    // CHECK: grade.reindex %{{.*}} by #[[$SPREAD]] : tensor<2xf64> -> tensor<2x3xf64>
    %bb = grade.reindex %b by affine_map<(d0, d1) -> (d0)> : tensor<2xf64> -> tensor<2x3xf64>
    %x = grade.load @x : !grade.field<node, 3xf64>
    %y = grade.contract "i,ij->j" %x, %w : !grade.field<node, 3xf64>, tensor<3x3xf64> -> !grade.field<node, 3xf64>
    %o = grade.contract "i,j->ij" %x, %x : !grade.field<node, 3xf64>, !grade.field<node, 3xf64> -> !grade.field<node, 3x3xf64>
    // CHECK: grade.sym_pow %{{.*}}, -5.000000e-01 : !grade.field<node, 3x3xf64>
    %s = grade.sym_pow %o, -5.000000e-01 : !grade.field<node, 3x3xf64>
    grade.yield %y : !grade.field<node, 3xf64>
  }
  grade.solve euler dt(1.0) over [0.0, 4.0]
}

