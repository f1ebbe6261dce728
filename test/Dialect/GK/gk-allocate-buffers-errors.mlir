// RUN: grade-opt %s -gk-allocate-buffers -split-input-file -verify-diagnostics

// One result cannot live in two buffers: kernel formation gives each
// target its own result.
grade.model @twice {
  grade.graph @G
  grade.decl input @x0 : !grade.field<node, f64>
  grade.decl state @a : !grade.field<node, f64>
  grade.decl state @b : !grade.field<node, f64>
  grade.init targets [@a, @b] (%G: !grade.graph) {
    %x0 = grade.load @x0 : !grade.field<node, f64>
    // expected-error @+1 {{'gk.kernel' op result #0 is yielded to 2 targets; kernel formation gives each target a result}}
    %r = gk.kernel "k" over nodes (%g = %G : !grade.graph uniform, %x = %x0 : !grade.field<node, f64> local) -> (!grade.field<node, f64>) {
      gk.yield %x : !grade.field<node, f64>
    }
    grade.yield %r, %r : !grade.field<node, f64>, !grade.field<node, f64>
  }
}
