// RUN: grade-opt %s -gk-check-finite -split-input-file -verify-diagnostics

// Kernels first: the new states must be kernel results.
grade.model @unformed {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.step targets [@x] (%G: !grade.graph, %t: f64, %dt: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    %y = grade.unary neg %x : !grade.field<node, f64>
    // expected-error @+1 {{'grade.yield' op yields a value no kernel computes; run grade-form-kernels before gk-check-finite}}
    grade.yield %y : !grade.field<node, f64>
  }
}

// -----

grade.model @checked_global {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    // expected-error @+1 {{'gk.kernel' op checks result #1, which is not a field result}}
    %r:2 = gk.kernel "k" over blocks(1024) (%g = %G : !grade.graph uniform, %a = %x : !grade.field<node, f64> local) -> (!grade.field<node, f64>, f64 checked) {
      %s = grade.reduce_all sum %a : !grade.field<node, f64> -> f64
      gk.yield %a, %s : !grade.field<node, f64>, f64
    }
    grade.yield %r#0 : !grade.field<node, f64>
  }
}
