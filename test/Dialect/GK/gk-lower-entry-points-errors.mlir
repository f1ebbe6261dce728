// RUN: grade-opt %s -gk-lower-entry-points -split-input-file -verify-diagnostics

grade.model @unallocated {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    // expected-error @+1 {{'gk.kernel' op has no buffers: run gk-allocate-buffers before gk-lower-entry-points}}
    %a = gk.kernel "k" over nodes (%g = %G : !grade.graph uniform, %y = %x : !grade.field<node, f64> local) -> (!grade.field<node, f64>) {
      gk.yield %y : !grade.field<node, f64>
    }
    grade.yield %a : !grade.field<node, f64>
  }
}
