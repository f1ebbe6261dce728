// RUN: grade-opt %s -convert-grade-to-loops | FileCheck %s
// RUN: grade-opt %s --grade-opt-pipeline --grade-kernel-pipeline --grade-lowering-pipeline --grade-llvm-pipeline | FileCheck %s --check-prefix=LLVM

// Each elementwise function becomes its math (or arith) op inside the
// kernel, in the order of the expression: sin cos tan asin acos atan sinh
// cosh floor ceil, round as roundeven (halfway cases to even), sign as
// comparisons and selects (NaN passes through), atan2 on (y, x).

// CHECK-LABEL: func.func private @fns_rhs_kernel0(
// CHECK: scf.parallel
// CHECK: %[[X:.*]] = memref.load %{{.*}} : memref<?xf32>
// CHECK: %[[S:.*]] = math.sin %[[X]] : f32
// CHECK: %[[C:.*]] = math.cos %[[S]] : f32
// CHECK: %[[T:.*]] = math.tan %[[C]] : f32
// CHECK: %[[AS:.*]] = math.asin %[[T]] : f32
// CHECK: %[[AC:.*]] = math.acos %[[AS]] : f32
// CHECK: %[[AT:.*]] = math.atan %[[AC]] : f32
// CHECK: %[[SH:.*]] = math.sinh %[[AT]] : f32
// CHECK: %[[CH:.*]] = math.cosh %[[SH]] : f32
// CHECK: %[[FL:.*]] = math.floor %[[CH]] : f32
// CHECK: %[[CE:.*]] = math.ceil %[[FL]] : f32
// CHECK: %[[RO:.*]] = math.roundeven %[[CE]] : f32
// CHECK-DAG: %[[GT:.*]] = arith.cmpf ogt, %[[RO]], %[[ZERO:.*]] : f32
// CHECK-DAG: %[[LT:.*]] = arith.cmpf olt, %[[RO]], %[[ZERO]] : f32
// CHECK-DAG: %[[NAN:.*]] = arith.cmpf uno, %[[RO]], %[[RO]] : f32
// CHECK: %[[NEG:.*]] = arith.select %[[LT]], %{{.*}}, %[[ZERO]] : f32
// CHECK: %[[POS:.*]] = arith.select %[[GT]], %{{.*}}, %[[NEG]] : f32
// CHECK: %[[SG:.*]] = arith.select %[[NAN]], %[[RO]], %[[POS]] : f32
// CHECK: %[[A2:.*]] = math.atan2 %[[SG]], %{{.*}} : f32
// CHECK: memref.store %[[A2]]

// The generated code calls the C library (libm) for what has no
// instruction.
// LLVM-LABEL: llvm.func @fns_rhs_kernel0(
// LLVM: llvm.intr.sin
// LLVM: llvm.intr.cos
// LLVM: llvm.intr.tan
// LLVM: llvm.intr.asin
// LLVM: llvm.intr.acos
// LLVM: llvm.intr.atan
// LLVM: llvm.intr.sinh
// LLVM: llvm.intr.cosh
// LLVM: llvm.intr.floor
// LLVM: llvm.intr.ceil
// LLVM: llvm.intr.roundeven
// LLVM: llvm.intr.atan2

grade.model @fns {
  grade.graph @G
  grade.decl input @x0 : !grade.field<node, f32>
  grade.decl state @x : !grade.field<node, f32>
  grade.init targets [@x] (%G: !grade.graph) {
    %x0 = grade.load @x0 : !grade.field<node, f32>
    grade.yield %x0 : !grade.field<node, f32>
  }
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f32>
    %0 = grade.unary sin %x : !grade.field<node, f32>
    %1 = grade.unary cos %0 : !grade.field<node, f32>
    %2 = grade.unary tan %1 : !grade.field<node, f32>
    %3 = grade.unary asin %2 : !grade.field<node, f32>
    %4 = grade.unary acos %3 : !grade.field<node, f32>
    %5 = grade.unary atan %4 : !grade.field<node, f32>
    %6 = grade.unary sinh %5 : !grade.field<node, f32>
    %7 = grade.unary cosh %6 : !grade.field<node, f32>
    %8 = grade.unary floor %7 : !grade.field<node, f32>
    %9 = grade.unary ceil %8 : !grade.field<node, f32>
    %10 = grade.unary round %9 : !grade.field<node, f32>
    %11 = grade.unary sign %10 : !grade.field<node, f32>
    %12 = grade.binary atan2 %11, %x : !grade.field<node, f32>, !grade.field<node, f32> -> !grade.field<node, f32>
    grade.yield %12 : !grade.field<node, f32>
  }
  grade.solve euler dt(0.1) over [0.0, 1.0]
}
