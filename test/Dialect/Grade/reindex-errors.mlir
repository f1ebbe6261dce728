// RUN: grade-opt %s -split-input-file -verify-diagnostics

// grade.reindex's verifier: every result index maps into the input, a
// symbol is a whole result, the kind and the ranks agree with the map.


grade.model @out_of_range {
  grade.graph @G
  grade.decl input @f : !grade.field<node, 8xf64>
  grade.init targets [] (%G: !grade.graph) {
    %f = grade.load @f : !grade.field<node, 8xf64>
    // expected-error @+1 {{maps result index [3, 0] to 9 on input axis 0 of size 8}}
    %u = grade.reindex %f by affine_map<(d0, d1) -> (d0 * 3 + d1)> : !grade.field<node, 8xf64> -> !grade.field<node, 4x2xf64>
    grade.yield
  }
}

// -----

grade.model @symbol_inside {
  grade.graph @G
  grade.decl param @W : tensor<4x3xf64>
  grade.rhs targets [] (%G: !grade.graph, %t: f64) {
    %W = grade.load @W : tensor<4x3xf64>
    // expected-error @+1 {{symbol s0 must be a whole result of the map, alone}}
    %w = grade.reindex %W [%t] by affine_map<(d0)[s0] -> (s0 + 1, d0)> : tensor<4x3xf64>, f64 -> tensor<3xf64>
    grade.yield
  }
}

// -----

grade.model @kind_changed {
  grade.graph @G
  grade.decl input @f : !grade.field<node, 8xf64>
  grade.init targets [] (%G: !grade.graph) {
    %f = grade.load @f : !grade.field<node, 8xf64>
    // expected-error @+1 {{result must be of the input's kind}}
    %u = grade.reindex %f by affine_map<(d0) -> (d0)> : !grade.field<node, 8xf64> -> !grade.field<edge, 8xf64>
    grade.yield
  }
}

// -----

grade.model @rank_mismatch {
  grade.graph @G
  grade.decl input @f : !grade.field<node, 2x4xf64>
  grade.init targets [] (%G: !grade.graph) {
    %f = grade.load @f : !grade.field<node, 2x4xf64>
    // expected-error @+1 {{map has 1 results, but the input has 2 feature axes}}
    %u = grade.reindex %f by affine_map<(d0) -> (d0)> : !grade.field<node, 2x4xf64> -> !grade.field<node, 4xf64>
    grade.yield
  }
}

// -----

grade.model @sym_pow_not_square {
  grade.graph @G
  grade.decl input @f : !grade.field<node, 2x3xf64>
  grade.init targets [] (%G: !grade.graph) {
    %f = grade.load @f : !grade.field<node, 2x3xf64>
    // expected-error @+1 {{needs a field of square matrices [d, d], got '!grade.field<node, 2x3xf64>'}}
    %s = grade.sym_pow %f, 2.0 : !grade.field<node, 2x3xf64>
    grade.yield
  }
}
