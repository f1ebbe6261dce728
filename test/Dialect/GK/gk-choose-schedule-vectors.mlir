// RUN: grade-opt %s -gk-choose-schedule=wide-vectors=512 -gk-lower-entry-points | FileCheck %s
// RUN: grade-opt %s -gk-choose-schedule -gk-lower-entry-points | FileCheck %s --check-prefix=NONE
// RUN: grade-opt %s -gk-choose-schedule=wide-vectors=512 -gk-lower-entry-points -convert-gk-to-scf | FileCheck %s --check-prefix=LOWER
// RUN: not grade-opt %s -gk-choose-schedule=wide-vectors=256 2>&1 | FileCheck %s --check-prefix=BAD

// With wide vectors (an AVX-512 host), a kernel that multiplies its rows by
// a global matrix whose rows fill eight 512-bit registers (64 f64, 128 f32)
// asks for them; shorter rows (32 f64, 64 f32) and kernels without such a
// product keep the target's default. The choice survives outlining, and the
// CPU function asks LLVM for it.
// CHECK: gk.func @m_step_kernel0 over nodes {{.*}} passes 0 vectors(512) {
// CHECK: gk.func @m_step_kernel1 over nodes {{.*}} passes 0 {
// CHECK: gk.func @m_step_kernel2 over nodes {{.*}} passes 0 vectors(512) {
// CHECK: gk.func @m_step_kernel3 over nodes {{.*}} passes 0 {
// CHECK: gk.func @m_step_kernel4 over balanced(256) {{.*}} passes 1 {
// NONE-NOT: vectors(
// LOWER-LABEL: func.func private @m_step_kernel0(
// LOWER-SAME: attributes {passthrough = ["noinline", ["prefer-vector-width", "512"]]}
// LOWER-LABEL: func.func private @m_step_kernel1(
// LOWER-SAME: attributes {passthrough = ["noinline"]}
// BAD: wide vectors of 512 bits or none (0), not 256
grade.model @m {
  grade.graph @G
  grade.decl state @x : !grade.field<node, 4xf64>
  grade.decl input @y : !grade.field<node, 4xf32>
  grade.decl param @W64 : tensor<4x64xf64>
  grade.decl param @W32 : tensor<4x32xf64>
  grade.decl param @V128 : tensor<4x128xf32>
  grade.decl param @V64 : tensor<4x64xf32>
  grade.decl temp @a : !grade.field<node, 64xf64>
  grade.decl temp @b : !grade.field<node, 32xf64>
  grade.decl temp @c : !grade.field<node, 128xf32>
  grade.decl temp @d : !grade.field<node, 64xf32>
  grade.decl temp @e : !grade.field<node, 4xf64>
  grade.step targets [@x] (%G: !grade.graph, %t: f64, %dt: f64) {
    %x = grade.load @x : !grade.field<node, 4xf64>
    %y = grade.load @y : !grade.field<node, 4xf32>
    %w64 = grade.load @W64 : tensor<4x64xf64>
    %w32 = grade.load @W32 : tensor<4x32xf64>
    %v128 = grade.load @V128 : tensor<4x128xf32>
    %v64 = grade.load @V64 : tensor<4x64xf32>
    %a = gk.kernel "m_step_kernel0" over nodes (%g = %G : !grade.graph uniform, %u = %x : !grade.field<node, 4xf64> local, %w = %w64 : tensor<4x64xf64> uniform) -> (!grade.field<node, 64xf64> in @a) passes 0 {
      %p = grade.contract "i,ij->j" %u, %w : !grade.field<node, 4xf64>, tensor<4x64xf64> -> !grade.field<node, 64xf64>
      gk.yield %p : !grade.field<node, 64xf64>
    }
    %b = gk.kernel "m_step_kernel1" over nodes (%g = %G : !grade.graph uniform, %u = %x : !grade.field<node, 4xf64> local, %w = %w32 : tensor<4x32xf64> uniform) -> (!grade.field<node, 32xf64> in @b) passes 0 {
      %p = grade.contract "i,ij->j" %u, %w : !grade.field<node, 4xf64>, tensor<4x32xf64> -> !grade.field<node, 32xf64>
      gk.yield %p : !grade.field<node, 32xf64>
    }
    %c = gk.kernel "m_step_kernel2" over nodes (%g = %G : !grade.graph uniform, %u = %y : !grade.field<node, 4xf32> local, %w = %v128 : tensor<4x128xf32> uniform) -> (!grade.field<node, 128xf32> in @c) passes 0 {
      %p = grade.contract "i,ij->j" %u, %w : !grade.field<node, 4xf32>, tensor<4x128xf32> -> !grade.field<node, 128xf32>
      gk.yield %p : !grade.field<node, 128xf32>
    }
    %d = gk.kernel "m_step_kernel3" over nodes (%g = %G : !grade.graph uniform, %u = %y : !grade.field<node, 4xf32> local, %w = %v64 : tensor<4x64xf32> uniform) -> (!grade.field<node, 64xf32> in @d) passes 0 {
      %p = grade.contract "i,ij->j" %u, %w : !grade.field<node, 4xf32>, tensor<4x64xf32> -> !grade.field<node, 64xf32>
      gk.yield %p : !grade.field<node, 64xf32>
    }
    %e = gk.kernel "m_step_kernel4" over nodes (%g = %G : !grade.graph uniform, %u = %x : !grade.field<node, 4xf64> remote) -> (!grade.field<node, 4xf64> in @e) passes 1 {
      %us = grade.gather src %g, %u : !grade.field<node, 4xf64> -> !grade.field<edge, 4xf64>
      %s = grade.reduce sum %g, %us {gk.pass = 0 : i64} : !grade.field<edge, 4xf64> -> !grade.field<node, 4xf64>
      gk.yield %s : !grade.field<node, 4xf64>
    }
    grade.yield %e : !grade.field<node, 4xf64>
  }
}
