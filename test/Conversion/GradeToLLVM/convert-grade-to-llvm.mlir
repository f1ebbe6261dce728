// RUN: grade-opt %s -convert-grade-to-llvm | FileCheck %s

// grade.slot becomes a pointer load from the slot table wrapped in a memref
// descriptor; the lowered model is left for grade-emit-descriptor.

// CHECK: grade.model @decay
// CHECK-LABEL: func.func @view(
// CHECK-SAME: %[[SLOTS:.*]]: !llvm.ptr, %[[N:.*]]: index)
// CHECK: %[[ADDR:.*]] = llvm.getelementptr %[[SLOTS]][5] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK: %[[PTR:.*]] = llvm.load %[[ADDR]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[SIZE:.*]] = arith.index_cast %[[N]] : index to i64
// CHECK: llvm.insertvalue %[[PTR]], %{{.*}}[0]
// CHECK: llvm.insertvalue %[[PTR]], %{{.*}}[1]
// CHECK: llvm.insertvalue %[[SIZE]], %{{.*}}[3, 0]
// CHECK: %[[M:.*]] = builtin.unrealized_conversion_cast %{{.*}} : !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)> to memref<?xf32>
// CHECK: return %[[M]]
// CHECK-NOT: grade.slot

grade.model @decay attributes {source = "decay.grade", rhs_outputs = [@d_x_0], swaps = [[@x, @tmp1]]} {
  grade.graph @G weight(f32)
  grade.decl input @x0 : !grade.field<node, 2xf32>
  grade.decl state @x : !grade.field<node, 2xf32> output
  grade.solve euler dt(0.1) over [0.0, 2.0]
  grade.decl temp @d_x_0 : !grade.field<node, 2xf32>
  grade.decl temp @tmp1 : !grade.field<node, 2xf32>
}

func.func @view(%slots: !llvm.ptr, %n: index) -> memref<?xf32> {
  %m = grade.slot %slots[5], %n : memref<?xf32>
  return %m : memref<?xf32>
}
