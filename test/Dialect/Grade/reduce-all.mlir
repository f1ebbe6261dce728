// RUN: grade-opt %s -split-input-file | grade-opt -split-input-file | FileCheck %s
// RUN: grade-opt %s -split-input-file --mlir-print-op-generic | grade-opt -split-input-file | FileCheck %s

// grade.reduce_all reduces a node or edge field to a global with the
// field's element type and feature shape, for each of its four kinds.

// CHECK-LABEL: func.func @kinds
// CHECK: grade.reduce_all sum %{{.*}} : !grade.field<node, f64> -> f64
// CHECK: grade.reduce_all mean %{{.*}} : !grade.field<edge, f32> -> f32
// CHECK: grade.reduce_all max %{{.*}} : !grade.field<node, 4xf64> -> tensor<4xf64>
// CHECK: grade.reduce_all min %{{.*}} : !grade.field<edge, 2x3xf32> -> tensor<2x3xf32>
func.func @kinds(%x: !grade.field<node, f64>, %e: !grade.field<edge, f32>,
                 %v: !grade.field<node, 4xf64>, %m: !grade.field<edge, 2x3xf32>)
    -> (f64, f32, tensor<4xf64>, tensor<2x3xf32>) {
  %0 = grade.reduce_all sum %x : !grade.field<node, f64> -> f64
  %1 = grade.reduce_all mean %e : !grade.field<edge, f32> -> f32
  %2 = grade.reduce_all max %v : !grade.field<node, 4xf64> -> tensor<4xf64>
  %3 = grade.reduce_all min %m : !grade.field<edge, 2x3xf32> -> tensor<2x3xf32>
  return %0, %1, %2, %3 : f64, f32, tensor<4xf64>, tensor<2x3xf32>
}
