// RUN: grade-opt %s -canonicalize -split-input-file | FileCheck %s

// Scalar arithmetic folds to constants; identities drop out when they keep
// the type, and never when they would change it (broadcast).

// CHECK-LABEL: func.func @fold_scalars
// CHECK-DAG: %[[A:.*]] = arith.constant 2.000000e+00 : f64
// CHECK-DAG: %[[B:.*]] = arith.constant 7.3890560989306504 : f64
// CHECK-DAG: %[[C:.*]] = arith.constant 5.000000e-01 : f32
// CHECK: return %[[A]], %[[B]], %[[C]]
func.func @fold_scalars() -> (f64, f64, f32) {
  %four = arith.constant 4.0 : f64
  %two = arith.constant 2.0 : f64
  %s = grade.unary sqrt %four : f64
  %e = grade.unary exp %two : f64
  %one = arith.constant 1.0 : f32
  %c2 = arith.constant 2.0 : f32
  %h = grade.binary div %one, %c2 : f32, f32 -> f32
  return %s, %e, %h : f64, f64, f32
}

// CHECK-LABEL: func.func @identities
// CHECK-SAME: (%[[X:.*]]: !grade.field<node, 4xf64>)
// CHECK-NOT: grade.binary
// CHECK: return %[[X]], %[[X]]
func.func @identities(%x: !grade.field<node, 4xf64>) -> (!grade.field<node, 4xf64>, !grade.field<node, 4xf64>) {
  %zero = arith.constant 0.0 : f64
  %one = arith.constant 1.0 : f64
  %a = grade.binary add %x, %zero : !grade.field<node, 4xf64>, f64 -> !grade.field<node, 4xf64>
  %b = grade.binary mul %one, %a : f64, !grade.field<node, 4xf64> -> !grade.field<node, 4xf64>
  return %a, %b : !grade.field<node, 4xf64>, !grade.field<node, 4xf64>
}

// Other constants stay.
// CHECK-LABEL: func.func @test_not_identity
// CHECK: grade.binary mul
// CHECK: grade.binary sub
func.func @test_not_identity(%x: !grade.field<node, f64>) -> !grade.field<node, f64> {
  %two = arith.constant 2.0 : f64
  %one = arith.constant 1.0 : f64
  %b = grade.binary mul %x, %two : !grade.field<node, f64>, f64 -> !grade.field<node, f64>
  %c = grade.binary sub %one, %b : f64, !grade.field<node, f64> -> !grade.field<node, f64>
  return %c : !grade.field<node, f64>
}

// The trigonometric, hyperbolic and rounding functions fold like the C
// library computes them; round takes halfway cases to even and sign gives
// 0 for -0.
// CHECK-LABEL: func.func @fold_functions
// CHECK-DAG: %[[SIN:.*]] = arith.constant 0.47942553860420301 : f64
// CHECK-DAG: %[[ATAN:.*]] = arith.constant 0.46364760900080609 : f64
// CHECK-DAG: %[[COSH:.*]] = arith.constant 1.1276259652063807 : f64
// CHECK-DAG: %[[ROUND:.*]] = arith.constant 2.000000e+00 : f32
// CHECK-DAG: %[[FLOOR:.*]] = arith.constant -3.000000e+00 : f32
// CHECK-DAG: %[[SIGN:.*]] = arith.constant 0.000000e+00 : f64
// CHECK-DAG: %[[ATAN2:.*]] = arith.constant 2.5535900500422257 : f64
// CHECK-NOT: grade.unary
// CHECK-NOT: grade.binary
// CHECK: return %[[SIN]], %[[ATAN]], %[[COSH]], %[[ROUND]], %[[FLOOR]], %[[SIGN]], %[[ATAN2]]
func.func @fold_functions() -> (f64, f64, f64, f32, f32, f64, f64) {
  %half = arith.constant 0.5 : f64
  %mzero = arith.constant -0.0 : f64
  %m075 = arith.constant -0.75 : f64
  %h32 = arith.constant 2.5 : f32
  %m32 = arith.constant -2.5 : f32
  %s = grade.unary sin %half : f64
  %a = grade.unary atan %half : f64
  %c = grade.unary cosh %half : f64
  %r = grade.unary round %h32 : f32
  %f = grade.unary floor %m32 : f32
  %g = grade.unary sign %mzero : f64
  %t = grade.binary atan2 %half, %m075 : f64, f64 -> f64
  return %s, %a, %c, %r, %f, %g, %t : f64, f64, f64, f32, f32, f64, f64
}
