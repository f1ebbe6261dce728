// RUN: grade-opt %s -grade-emit-descriptor -split-input-file -verify-diagnostics

// expected-error @+1 {{'grade.model' op must be lowered (convert-grade-to-loops) before its descriptor is emitted}}
grade.model @not_lowered {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    grade.yield %x : !grade.field<node, f64>
  }
  grade.solve euler dt(0.1) over [0.0, 1.0]
}

// -----

// expected-error @+1 {{'grade.model' op has no 'gradegen_entry_step' entry point as an LLVM function; a library needs 'grade.init', 'grade.rhs' and, for an explicit scheme 'grade.step', for an implicit one 'grade.jvp', for an IMEX one both parts of the right-hand side and the implicit part's 'grade.jvp', lowered to LLVM}}
grade.model @no_step attributes {rhs_outputs = [@d_x], swaps = []} {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.solve euler dt(0.1) over [0.0, 1.0]
  grade.decl temp @d_x : !grade.field<node, f64>
}
llvm.func @gradegen_entry_init(%slots: !llvm.ptr, %n: i64, %e: i64, %t: f64, %dt: f64) {
  llvm.return
}
llvm.func @gradegen_entry_rhs(%slots: !llvm.ptr, %n: i64, %e: i64, %t: f64, %dt: f64) {
  llvm.return
}

// -----

// expected-error @+1 {{'grade.model' op 'rhs_outputs' does not match the states}}
grade.model @bad_outputs attributes {rhs_outputs = [], swaps = []} {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.solve euler dt(0.1) over [0.0, 1.0]
}
llvm.func @gradegen_entry_init(%slots: !llvm.ptr, %n: i64, %e: i64, %t: f64, %dt: f64) {
  llvm.return
}
llvm.func @gradegen_entry_rhs(%slots: !llvm.ptr, %n: i64, %e: i64, %t: f64, %dt: f64) {
  llvm.return
}
llvm.func @gradegen_entry_step(%slots: !llvm.ptr, %n: i64, %e: i64, %t: f64, %dt: f64) {
  llvm.return
}
