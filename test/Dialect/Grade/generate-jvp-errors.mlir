// RUN: grade-opt %s -grade-generate-jvp=all=true -split-input-file -verify-diagnostics

// The maximum over edges has no derivative rule.
grade.model @m {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    %xs = grade.gather src %G, %x : !grade.field<node, f64> -> !grade.field<edge, f64>
    // expected-error @+1 {{'grade.reduce' op cannot be differentiated: the derivative of a 'max' over edges is not implemented (sum and mean are)}}
    %m = grade.reduce max %G, %xs : !grade.field<edge, f64> -> !grade.field<node, f64>
    grade.yield %m : !grade.field<node, f64>
  }
  grade.solve euler dt(0.1) over [0.0, 1.0]
}

// -----

// Nor the maximum over features (a contraction of kind max).
grade.model @m {
  grade.graph @G
  grade.decl state @x : !grade.field<node, 3xf64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, 3xf64>
    // expected-error @+1 {{'grade.contract' op cannot be differentiated: the derivative of a max over features is not implemented (sums are)}}
    %m = grade.contract max "i->" %x : !grade.field<node, 3xf64> -> !grade.field<node, f64>
    %y = grade.binary mul %m, %x : !grade.field<node, f64>, !grade.field<node, 3xf64> -> !grade.field<node, 3xf64>
    grade.yield %y : !grade.field<node, 3xf64>
  }
  grade.solve euler dt(0.1) over [0.0, 1.0]
}
