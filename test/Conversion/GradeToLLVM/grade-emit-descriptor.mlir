// RUN: grade-opt %s -grade-emit-descriptor | FileCheck %s

// The lowered model becomes the static descriptor of grade/model_abi.h:
// fields (public declarations), the slot table (graph arrays 0-5, of which
// 3-5, the out-edge index, are unused without `grade.out_edges`, then the
// declarations in order: fields, the derivative of x, a temporary), the
// tableau, the entry table with the step's swap (slots 8 and 10), the
// OpenMP hooks, and the two exported accessors. Strings are data.

// CHECK-NOT: grade.model
// CHECK-DAG: llvm.mlir.global private constant @__grade_decay.str.0("decay\00")
// CHECK-DAG: llvm.mlir.global private constant @__grade_decay.str.1("decay.grade\00")
// CHECK-DAG: llvm.mlir.global private constant @[[$X0:__grade_decay.str.[0-9]+]]("x0\00")
// The field table: x0 (input, node, f32, rank 1, [2]), k, x (output).
// CHECK-LABEL: llvm.mlir.global private constant @__grade_decay.array.{{[0-9]+}}() {{.*}} : !llvm.array<3 x struct<(ptr, i32, i32, i32, i32, array<4 x i64>, i32, i32)>>
// CHECK: llvm.mlir.addressof @[[$X0]]
// CHECK: llvm.mlir.constant(1 : i32)
// The slot table: 11 slots.
// CHECK-LABEL: llvm.mlir.global private constant @__grade_decay.array.{{[0-9]+}}() {{.*}} : !llvm.array<11 x struct<(ptr, i32, i32, i32, i32, i32, i32, array<4 x i64>)>>
// The entry table: init, rhs, step.
// CHECK-LABEL: llvm.mlir.global private constant @__grade_decay.array.{{[0-9]+}}() {{.*}} : !llvm.array<3 x struct<(ptr, i32, i32, ptr, ptr)>>
// CHECK-DAG: llvm.mlir.addressof @gradegen_entry_init
// CHECK-DAG: llvm.mlir.addressof @gradegen_entry_rhs
// CHECK-DAG: llvm.mlir.addressof @gradegen_entry_step
// CHECK: llvm.func @omp_set_num_threads(i32)
// CHECK: llvm.func @omp_get_num_procs() -> i32
// CHECK-LABEL: llvm.mlir.global private constant @__grade_decay.descriptor()
// CHECK: llvm.mlir.constant(2 : i32)
// CHECK: llvm.mlir.constant(272 : i32)
// CHECK-LABEL: llvm.func @grade_model_descriptor() -> !llvm.ptr
// CHECK: %[[D:.*]] = llvm.mlir.addressof @__grade_decay.descriptor : !llvm.ptr
// CHECK: llvm.return %[[D]]
// CHECK-LABEL: llvm.func @grade_decay_model_descriptor() -> !llvm.ptr
// CHECK: llvm.mlir.addressof @__grade_decay.descriptor

grade.model @decay attributes {source = "decay.grade", rhs_outputs = [@d_x_0], swaps = [[@x, @tmp1]]} {
  grade.graph @G weight(f32)
  grade.decl input @x0 : !grade.field<node, 2xf32>
  grade.decl param @k : f32
  grade.decl state @x : !grade.field<node, 2xf32> output
  grade.solve euler dt(0.1) over [0.0, 2.0]
  grade.decl temp @d_x_0 : !grade.field<node, 2xf32>
  grade.decl temp @tmp1 : !grade.field<node, 2xf32>
}

// The entry points (bodies do not matter here).
llvm.func @gradegen_entry_init(%slots: !llvm.ptr, %n: i64, %e: i64, %t: f64, %dt: f64) {
  llvm.return
}
llvm.func @gradegen_entry_rhs(%slots: !llvm.ptr, %n: i64, %e: i64, %t: f64, %dt: f64) {
  llvm.return
}
llvm.func @gradegen_entry_step(%slots: !llvm.ptr, %n: i64, %e: i64, %t: f64, %dt: f64) {
  llvm.return
}
