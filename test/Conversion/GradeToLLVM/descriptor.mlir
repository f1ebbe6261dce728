// RUN: grade-opt %s -convert-grade-to-llvm | FileCheck %s

// The lowered model becomes the descriptor blob the support library parses
// (slots 0-2 are the graph; declarations follow in order, with the wiring
// of eval_rhs and of the post-step swaps) and the model-specific alias of
// the ABI entry point. grade.slot becomes a pointer load wrapped in a
// memref descriptor.

// CHECK-NOT: grade.model
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
// CHECK: llvm.mlir.global external constant @gradegen_descriptor_blob("grade-model-blob 1\0Aname decay\0Asource decay.grade\0Ascheme euler 1 1\0Atime 0x0p+0 0x1p+1 0x1.999999999999ap-4\0Aweights f32\0Aslot 3 x0 input node f32 1 2 0\0Aslot 4 k param global f32 0 0\0Aslot 5 x state node f32 1 2 1\0Aslot 6 d_x_0 temp node f32 1 2 0\0Aslot 7 tmp1 temp node f32 1 2 0\0Arhs_out 5 6\0Aswap 5 7\0Aend\0A\00")
// CHECK: llvm.func @grade_model_api() -> !llvm.ptr
// CHECK-LABEL: llvm.func @grade_decay_model_api() -> !llvm.ptr
// CHECK: %[[API:.*]] = llvm.call @grade_model_api() : () -> !llvm.ptr
// CHECK: llvm.return %[[API]]

grade.model @decay attributes {source = "decay.grade", rhs_outputs = [@d_x_0], swaps = [[@x, @tmp1]]} {
  grade.graph @G weight(f32)
  grade.decl input @x0 : !grade.field<node, 2xf32>
  grade.decl param @k : f32
  grade.decl state @x : !grade.field<node, 2xf32> output
  grade.solve euler dt(0.1) over [0.0, 2.0]
  grade.decl temp @d_x_0 : !grade.field<node, 2xf32>
  grade.decl temp @tmp1 : !grade.field<node, 2xf32>
}

func.func @view(%slots: !llvm.ptr, %n: index) -> memref<?xf32> {
  %m = grade.slot %slots[5], %n : memref<?xf32>
  return %m : memref<?xf32>
}

// The entry points the support library calls (bodies do not matter here).
func.func @gradegen_entry_init(%slots: !llvm.ptr, %n: i64, %e: i64, %t: f64, %dt: f64) {
  return
}
func.func @gradegen_entry_rhs(%slots: !llvm.ptr, %n: i64, %e: i64, %t: f64, %dt: f64) {
  return
}
func.func @gradegen_entry_step(%slots: !llvm.ptr, %n: i64, %e: i64, %t: f64, %dt: f64) {
  return
}
