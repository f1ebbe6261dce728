// RUN: grade-opt %s -split-input-file -verify-diagnostics

// The verifier of grade.contract: the spec's syntax, index letters against
// the operands' feature shapes, the output's letters, field kinds (at
// least one field), element types and the result type.

func.func @no_arrow(%a: !grade.field<node, 4xf64>) {
  // expected-error @+1 {{spec 'i,i' must have the form '<inputs>-><output>', e.g. 'ij,j->i'}}
  %0 = grade.contract "i,i" %a, %a : !grade.field<node, 4xf64>, !grade.field<node, 4xf64> -> !grade.field<node, f64>
  return
}

// -----

func.func @comma_in_output(%a: !grade.field<node, 4xf64>) {
  // expected-error @+1 {{spec 'i,i->i,i' must have the form '<inputs>-><output>', e.g. 'ij,j->i'}}
  %0 = grade.contract "i,i->i,i" %a, %a : !grade.field<node, 4xf64>, !grade.field<node, 4xf64> -> !grade.field<node, f64>
  return
}

// -----

func.func @bad_letter(%a: !grade.field<node, 4xf64>) {
  // expected-error @+1 {{spec 'i,1->': '1' is not an index letter (a-z, A-Z)}}
  %0 = grade.contract "i,1->" %a, %a : !grade.field<node, 4xf64>, !grade.field<node, 4xf64> -> !grade.field<node, f64>
  return
}

// -----

func.func @operand_count(%a: !grade.field<node, 4xf64>) {
  // expected-error @+1 {{spec 'i,i,i->' has 3 input subscripts for 2 operands}}
  %0 = grade.contract "i,i,i->" %a, %a : !grade.field<node, 4xf64>, !grade.field<node, 4xf64> -> !grade.field<node, f64>
  return
}

// -----

func.func @no_operands() {
  // expected-error @+1 {{needs at least one operand}}
  %0 = "grade.contract"() <{spec = "->"}> : () -> f64
  return
}

// -----

func.func @rank(%a: !grade.field<node, 4xf64>, %w: tensor<4x2xf64>) {
  // expected-error @+1 {{subscript 'ij' of operand #0 names 2 feature axes, but the operand has feature shape [4]}}
  %0 = grade.contract "ij,ij->j" %a, %w : !grade.field<node, 4xf64>, tensor<4x2xf64> -> !grade.field<node, 2xf64>
  return
}

// -----

func.func @dot_sizes(%a: !grade.field<edge, 4xf64>, %b: !grade.field<edge, 2xf64>) {
  // expected-error @+1 {{index 'i' has size 4 in operand #0 and size 2 in operand #1}}
  %0 = grade.contract "i,i->" %a, %b : !grade.field<edge, 4xf64>, !grade.field<edge, 2xf64> -> !grade.field<edge, f64>
  return
}

// -----

func.func @matmul_sizes(%x: !grade.field<node, 4xf64>, %w: tensor<3x2xf64>) {
  // expected-error @+1 {{index 'i' has size 4 in operand #0 and size 3 in operand #1}}
  %0 = grade.contract "i,ij->j" %x, %w : !grade.field<node, 4xf64>, tensor<3x2xf64> -> !grade.field<node, 2xf64>
  return
}

// -----

func.func @diagonal_sizes(%w: tensor<3x2xf64>, %x: !grade.field<node, 3xf64>) {
  // expected-error @+1 {{index 'i' has size 3 in operand #0 and size 2 in operand #0}}
  %0 = grade.contract "ii,i->" %w, %x : tensor<3x2xf64>, !grade.field<node, 3xf64> -> !grade.field<node, f64>
  return
}

// -----

func.func @output_twice(%a: !grade.field<node, 4xf64>) {
  // expected-error @+1 {{output index 'i' appears twice in 'ii'}}
  %0 = grade.contract "i->ii" %a : !grade.field<node, 4xf64> -> !grade.field<node, 4x4xf64>
  return
}

// -----

func.func @output_unknown(%a: !grade.field<node, 4xf64>) {
  // expected-error @+1 {{output index 'k' appears in no input}}
  %0 = grade.contract "i,i->k" %a, %a : !grade.field<node, 4xf64>, !grade.field<node, 4xf64> -> !grade.field<node, 4xf64>
  return
}

// -----

func.func @kinds(%a: !grade.field<node, 4xf64>, %b: !grade.field<edge, 4xf64>) {
  // expected-error @+1 {{cannot contract a node field (operand #0) with an edge field (operand #1); gather the node field along the edges first}}
  %0 = grade.contract "i,i->" %a, %b : !grade.field<node, 4xf64>, !grade.field<edge, 4xf64> -> !grade.field<node, f64>
  return
}

// -----

func.func @elements(%x: !grade.field<node, 4xf64>, %w: tensor<4x2xf32>) {
  // expected-error @+1 {{element types differ: f64 (operand #0) and f32 (operand #1)}}
  %0 = grade.contract "i,ij->j" %x, %w : !grade.field<node, 4xf64>, tensor<4x2xf32> -> !grade.field<node, 2xf64>
  return
}

// -----

func.func @result_kind(%x: !grade.field<edge, 4xf64>, %w: tensor<4x2xf64>) {
  // expected-error @+1 {{result type must be '!grade.field<edge, 2xf64>', got '!grade.field<node, 2xf64>'}}
  %0 = grade.contract "i,ij->j" %x, %w : !grade.field<edge, 4xf64>, tensor<4x2xf64> -> !grade.field<node, 2xf64>
  return
}

// -----

func.func @result_shape(%a: !grade.field<node, 3xf64>, %b: !grade.field<node, 2xf64>) {
  // expected-error @+1 {{result type must be '!grade.field<node, 3x2xf64>', got '!grade.field<node, 2x3xf64>'}}
  %0 = grade.contract "i,j->ij" %a, %b : !grade.field<node, 3xf64>, !grade.field<node, 2xf64> -> !grade.field<node, 2x3xf64>
  return
}

// -----

func.func @globals_only(%w: tensor<3x2xf64>) {
  // expected-error @+1 {{one operand must be a node or edge field (a contraction of globals only is not supported)}}
  %0 = grade.contract "ij->j" %w : tensor<3x2xf64> -> tensor<2xf64>
  return
}

// -----

func.func @not_a_value(%x: !grade.field<node, 4xf64>, %i: i32) {
  // expected-error @+1 {{operand #1 must be variadic of field, float or float tensor, but got 'i32'}}
  %0 = grade.contract "i,->i" %x, %i : !grade.field<node, 4xf64>, i32 -> !grade.field<node, 4xf64>
  return
}
