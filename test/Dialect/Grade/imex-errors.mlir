// RUN: grade-opt %s -split-input-file -verify-diagnostics

// A part without the other part and the whole.
// expected-error @+1 {{'grade.model' op holds a part of a split right-hand side without the other part or the whole; a split needs all three}}
grade.model @half {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    grade.yield %x : !grade.field<node, f64>
  }
  grade.rhs implicit targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    grade.yield %x : !grade.field<node, f64>
  }
  grade.solve ars222 dt(0.1) over [0.0, 1.0]
}

// -----

grade.model @twice {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    grade.yield %x : !grade.field<node, f64>
  }
  grade.rhs explicit targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    grade.yield %x : !grade.field<node, f64>
  }
  // expected-error @+1 {{'grade.rhs' op is the model's second 'explicit_rhs'; a model holds at most one of each}}
  grade.rhs explicit targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    grade.yield %x : !grade.field<node, f64>
  }
  grade.solve ars222 dt(0.1) over [0.0, 1.0]
}

// -----

// expected-error @+1 {{unknown scheme 'ars333'}}
#bad = #grade.tableau<ars333>
