// RUN: grade-opt %s -convert-grade-to-llvm -verify-diagnostics

// expected-error @+1 {{'grade.model' op must be lowered (convert-grade-to-loops) before its descriptor is built}}
grade.model @not_lowered {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    grade.yield %x : !grade.field<node, f64>
  }
  grade.solve euler dt(0.1) over [0.0, 1.0]
}
