// RUN: grade-opt %s -grade-expand-softmax | FileCheck %s

// CHECK-LABEL: func.func @softmax
// CHECK-SAME: (%[[G:.*]]: !grade.graph, %[[S:.*]]: !grade.field<edge, 2xf32>)
// CHECK: %[[M:.*]] = grade.reduce max %[[G]], %[[S]] : !grade.field<edge, 2xf32> -> !grade.field<node, 2xf32>
// CHECK: %[[MD:.*]] = grade.gather dst %[[G]], %[[M]]
// CHECK: %[[Z:.*]] = grade.binary sub %[[S]], %[[MD]]
// CHECK: %[[E:.*]] = grade.unary exp %[[Z]]
// CHECK: %[[SUM:.*]] = grade.reduce sum %[[G]], %[[E]]
// CHECK: %[[SD:.*]] = grade.gather dst %[[G]], %[[SUM]]
// CHECK: %[[A:.*]] = grade.binary div %[[E]], %[[SD]]
// CHECK-NOT: grade.softmax
// CHECK: return %[[A]]
func.func @softmax(%G: !grade.graph, %s: !grade.field<edge, 2xf32>) -> !grade.field<edge, 2xf32> {
  %a = grade.softmax %G, %s : !grade.field<edge, 2xf32>
  return %a : !grade.field<edge, 2xf32>
}
