// RUN: grade-opt %s -grade-form-kernels -split-input-file -verify-diagnostics

grade.model @softmax {
  grade.graph @G
  grade.decl input @s : !grade.field<edge, f64>
  grade.decl let @a : !grade.field<edge, f64>
  grade.init targets [@a] (%G: !grade.graph) {
    %s = grade.load @s : !grade.field<edge, f64>
    // expected-error @+1 {{'grade.softmax' must be expanded before lowering (run grade-expand-softmax)}}
    %a = grade.softmax %G, %s : !grade.field<edge, f64>
    grade.yield %a : !grade.field<edge, f64>
  }
  grade.solve euler dt(0.1) over [0.0, 1.0]
}

// -----

grade.model @foreign_op {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    // expected-error @+1 {{cannot lower 'math.exp' inside 'grade.rhs'}}
    %e = math.exp %t : f64
    %x = grade.load @x : !grade.field<node, f64>
    %y = grade.binary mul %e, %x : f64, !grade.field<node, f64> -> !grade.field<node, f64>
    grade.yield %y : !grade.field<node, f64>
  }
  grade.solve euler dt(0.1) over [0.0, 1.0]
}
