// RUN: grade-opt %s | grade-opt | FileCheck %s
// RUN: grade-opt %s --mlir-print-op-generic | grade-opt | FileCheck %s

// grade.contract, printed and parsed back, for each kind of contraction it
// stands for: a dot product, per-head dots, an outer product, a parameter
// matrix times a field vector (both ways round), a per-edge matrix times a
// gathered vector, batched variants, a scalar factor and a trace. Field
// operands give a field of their kind; globals broadcast over the rows.

// CHECK-LABEL: func.func @contractions
func.func @contractions(%G: !grade.graph, %x: !grade.field<node, 3xf64>,
                        %y: !grade.field<node, 2xf64>,
                        %k: !grade.field<edge, 4x8xf32>,
                        %q: !grade.field<edge, 4x8xf32>,
                        %F: !grade.field<edge, 2x2xf64>,
                        %W: tensor<3x2xf64>, %v: tensor<3xf64>, %c: f64,
                        %B: !grade.field<node, 5x3x3xf64>) {
  // CHECK: grade.contract "i,i->" %{{.*}}, %{{.*}} : !grade.field<node, 3xf64>, !grade.field<node, 3xf64> -> !grade.field<node, f64>
  %dot = grade.contract "i,i->" %x, %x : !grade.field<node, 3xf64>, !grade.field<node, 3xf64> -> !grade.field<node, f64>
  // CHECK: grade.contract "i,i->" %{{.*}}, %{{.*}} : !grade.field<node, 3xf64>, tensor<3xf64> -> !grade.field<node, f64>
  %dotg = grade.contract "i,i->" %x, %v : !grade.field<node, 3xf64>, tensor<3xf64> -> !grade.field<node, f64>
  // CHECK: grade.contract "hd,hd->h" %{{.*}}, %{{.*}} : !grade.field<edge, 4x8xf32>, !grade.field<edge, 4x8xf32> -> !grade.field<edge, 4xf32>
  %heads = grade.contract "hd,hd->h" %k, %q : !grade.field<edge, 4x8xf32>, !grade.field<edge, 4x8xf32> -> !grade.field<edge, 4xf32>
  // CHECK: grade.contract "i,j->ij" %{{.*}}, %{{.*}} : !grade.field<node, 3xf64>, !grade.field<node, 2xf64> -> !grade.field<node, 3x2xf64>
  %outer = grade.contract "i,j->ij" %x, %y : !grade.field<node, 3xf64>, !grade.field<node, 2xf64> -> !grade.field<node, 3x2xf64>
  // CHECK: grade.contract "i,ij->j" %{{.*}}, %{{.*}} : !grade.field<node, 3xf64>, tensor<3x2xf64> -> !grade.field<node, 2xf64>
  %xw = grade.contract "i,ij->j" %x, %W : !grade.field<node, 3xf64>, tensor<3x2xf64> -> !grade.field<node, 2xf64>
  // CHECK: grade.contract "ij,j->i" %{{.*}}, %{{.*}} : tensor<3x2xf64>, !grade.field<node, 2xf64> -> !grade.field<node, 3xf64>
  %wy = grade.contract "ij,j->i" %W, %y : tensor<3x2xf64>, !grade.field<node, 2xf64> -> !grade.field<node, 3xf64>
  // CHECK: %[[YS:.*]] = grade.gather src
  %ys = grade.gather src %G, %y : !grade.field<node, 2xf64> -> !grade.field<edge, 2xf64>
  // CHECK: grade.contract "ij,j->i" %{{.*}}, %[[YS]] : !grade.field<edge, 2x2xf64>, !grade.field<edge, 2xf64> -> !grade.field<edge, 2xf64>
  %sheaf = grade.contract "ij,j->i" %F, %ys : !grade.field<edge, 2x2xf64>, !grade.field<edge, 2xf64> -> !grade.field<edge, 2xf64>
  // CHECK: grade.contract "bij,bj->bi" %{{.*}}, %{{.*}} : !grade.field<node, 5x3x3xf64>, !grade.field<node, 5x3xf64> -> !grade.field<node, 5x3xf64>
  %bx = grade.contract "bij,j->bi" %B, %x : !grade.field<node, 5x3x3xf64>, !grade.field<node, 3xf64> -> !grade.field<node, 5x3xf64>
  %bb = grade.contract "bij,bj->bi" %B, %bx : !grade.field<node, 5x3x3xf64>, !grade.field<node, 5x3xf64> -> !grade.field<node, 5x3xf64>
  // CHECK: grade.contract "i,,ij->j" %{{.*}}, %{{.*}}, %{{.*}} : !grade.field<node, 3xf64>, f64, tensor<3x2xf64> -> !grade.field<node, 2xf64>
  %scaled = grade.contract "i,,ij->j" %x, %c, %W : !grade.field<node, 3xf64>, f64, tensor<3x2xf64> -> !grade.field<node, 2xf64>
  // CHECK: grade.contract "bii->b" %{{.*}} : !grade.field<node, 5x3x3xf64> -> !grade.field<node, 5xf64>
  %trace = grade.contract "bii->b" %B : !grade.field<node, 5x3x3xf64> -> !grade.field<node, 5xf64>
  return
}
