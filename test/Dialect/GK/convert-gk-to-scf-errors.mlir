// RUN: grade-opt %s -convert-gk-to-scf -split-input-file -verify-diagnostics

// expected-error @+1 {{'grade.model' op has regions that are not entry points; run grade-form-kernels, gk-schedule-edge-passes, gk-allocate-buffers and gk-lower-entry-points first}}
grade.model @not_planned {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    grade.yield %x : !grade.field<node, f64>
  }
}

// -----

// A kernel is lowered at its launch (whether a capture and a result share a
// buffer is a property of the launch): one launch per kernel.
gk.func @k over nodes (%g : !grade.graph uniform, %y : !grade.field<node, f64> local) -> (!grade.field<node, f64> in @tmp0) passes 0 {
  gk.yield %y : !grade.field<node, f64>
}
grade.model @twice {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.decl temp @tmp0 : !grade.field<node, f64>
  gk.entry "rhs" {
  ^bb0(%G: !grade.graph, %t: f64):
    %x = grade.load @x : !grade.field<node, f64>
    %a = gk.launch @k(%G, %x) : (!grade.graph, !grade.field<node, f64>) -> !grade.field<node, f64>
    // expected-error @+1 {{'gk.launch' op launches 'k' a second time; a kernel is lowered at its only launch}}
    %b = gk.launch @k(%G, %x) : (!grade.graph, !grade.field<node, f64>) -> !grade.field<node, f64>
  }
}
