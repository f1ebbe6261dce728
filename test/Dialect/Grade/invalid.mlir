// RUN: grade-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{must declare exactly one graph, found 0}}
grade.model @no_graph {
}

// -----

// expected-error @+1 {{may hold at most one 'grade.init', 'grade.step', 'grade.readout' and 'grade.solve'}}
grade.model @two_solves {
  grade.graph @G
  grade.solve euler dt(0.1) over [0.0, 1.0]
  grade.solve euler dt(0.1) over [0.0, 1.0]
}

// -----

grade.model @init_misses_state {
  grade.graph @G
  grade.decl input @x0 : !grade.field<node, f64>
  // expected-note @+1 {{state declared here}}
  grade.decl state @x : !grade.field<node, f64>
  // expected-error @+1 {{'grade.init' op does not assign the initial value of state '@x'}}
  grade.init targets [] (%G: !grade.graph) {
    grade.yield
  }
}

// -----

grade.model @rhs_misses_state {
  grade.graph @G
  // expected-note @+1 {{state declared here}}
  grade.decl state @x : !grade.field<node, f64>
  // expected-error @+1 {{'grade.rhs' op does not assign the derivative of state '@x'}}
  grade.rhs targets [] (%G: !grade.graph, %t: f64) {
    grade.yield
  }
}

// -----

grade.model @let_not_computed {
  grade.graph @G
  // expected-error @+1 {{let '@a' is not computed by 'grade.init'}}
  grade.decl let @a : !grade.field<edge, f64>
  grade.init targets [] (%G: !grade.graph) {
    grade.yield
  }
}

// -----

grade.model @global_state {
  grade.graph @G
  // expected-error @+1 {{a state must be a node or edge field, got 'f64'}}
  grade.decl state @x : f64
}

// -----

grade.model @dynamic_tensor {
  grade.graph @G
  // expected-error @+1 {{a global input must be a statically shaped tensor of f32 or f64, got 'tensor<?xf64>'}}
  grade.decl input @w : tensor<?xf64>
}

// -----

grade.model @rank5 {
  grade.graph @G
  // expected-error @+1 {{tensor rank 5 exceeds the maximum of 4}}
  grade.decl param @w : tensor<1x1x1x1x1xf64>
}

// -----

grade.model @int_param {
  grade.graph @G
  // expected-error @+1 {{unsupported type 'i32'}}
  grade.decl param @w : i32
}

// -----

grade.model @bad_args {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  // expected-error @+1 {{body must take (!grade.graph, f64 time)}}
  grade.rhs targets [@x] (%G: !grade.graph) {
    %x = grade.load @x : !grade.field<node, f64>
    grade.yield %x : !grade.field<node, f64>
  }
}

// -----

grade.model @yield_count {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    // expected-error @+1 {{yields 2 values for 1 targets}}
    grade.yield %x, %x : !grade.field<node, f64>, !grade.field<node, f64>
  }
}

// -----

grade.model @twice {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  // expected-error @+1 {{assigns '@x' twice}}
  grade.rhs targets [@x, @x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    grade.yield %x, %x : !grade.field<node, f64>, !grade.field<node, f64>
  }
}

// -----

grade.model @unknown_target {
  grade.graph @G
  // expected-error @+1 {{target '@y' is not a declaration}}
  grade.init targets [@y] (%G: !grade.graph) {
    %c = arith.constant 1.0 : f64
    %d = grade.degree %G : !grade.field<node, f64>
    grade.yield %d : !grade.field<node, f64>
  }
}

// -----

grade.model @assign_input {
  grade.graph @G
  grade.decl input @x0 : !grade.field<node, f64>
  // expected-error @+1 {{cannot assign input '@x0'}}
  grade.init targets [@x0] (%G: !grade.graph) {
    %d = grade.degree %G : !grade.field<node, f64>
    grade.yield %d : !grade.field<node, f64>
  }
}

// -----

grade.model @yield_type {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f32>
  grade.init targets [@x] (%G: !grade.graph) {
    %d = grade.degree %G : !grade.field<node, f64>
    // expected-error @+1 {{value for '@x' has type '!grade.field<node, f64>', declared as '!grade.field<node, f32>'}}
    grade.yield %d : !grade.field<node, f64>
  }
}

// -----

grade.model @solve_dt {
  grade.graph @G
  // expected-error @+1 {{step size must be positive, got -1.000000e-01}}
  grade.solve euler dt(-0.1) over [0.0, 1.0]
}

// -----

grade.model @solve_interval {
  grade.graph @G
  // expected-error @+1 {{interval end 0.000000e+00 must be greater than its start 1.000000e+00}}
  grade.solve euler dt(0.1) over [1.0, 0.0]
}

// -----

func.func @load_outside() {
  // expected-error @+1 {{must be nested in a 'grade.model'}}
  %x = grade.load @x : f64
  return
}

// -----

grade.model @load_unknown {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    // expected-error @+1 {{'@y' does not name a declaration}}
    %y = grade.load @y : !grade.field<node, f64>
    grade.yield %y : !grade.field<node, f64>
  }
}

// -----

grade.model @load_type {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    // expected-error @+1 {{type '!grade.field<node, f32>' does not match the declared type '!grade.field<node, f64>' of '@x'}}
    %x = grade.load @x : !grade.field<node, f32>
    %d = grade.degree %G : !grade.field<node, f64>
    grade.yield %d : !grade.field<node, f64>
  }
}

// -----

grade.model @init_reads_state {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.init targets [@x] (%G: !grade.graph) {
    // expected-error @+1 {{'grade.init' can read only inputs and parameters, not state '@x'}}
    %x = grade.load @x : !grade.field<node, f64>
    grade.yield %x : !grade.field<node, f64>
  }
}

// -----

grade.model @read_temp {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.decl temp @t0 : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    // expected-error @+1 {{cannot read temporary '@t0'}}
    %v = grade.load @t0 : !grade.field<node, f64>
    grade.yield %v : !grade.field<node, f64>
  }
}

// -----

func.func @gather_edge(%G: !grade.graph, %e: !grade.field<edge, f64>) {
  // expected-error @+1 {{operand must be a node field, got '!grade.field<edge, f64>'}}
  %0 = grade.gather src %G, %e : !grade.field<edge, f64> -> !grade.field<edge, f64>
  return
}

// -----

func.func @gather_result(%G: !grade.graph, %x: !grade.field<node, f64>) {
  // expected-error @+1 {{result type must be '!grade.field<edge, f64>', got '!grade.field<edge, f32>'}}
  %0 = grade.gather dst %G, %x : !grade.field<node, f64> -> !grade.field<edge, f32>
  return
}

// -----

func.func @reduce_node(%G: !grade.graph, %x: !grade.field<node, 2xf64>) {
  // expected-error @+1 {{operand must be an edge field, got '!grade.field<node, 2xf64>'}}
  %0 = grade.reduce sum %G, %x : !grade.field<node, 2xf64> -> !grade.field<node, 2xf64>
  return
}

// -----

func.func @softmax_node(%G: !grade.graph, %x: !grade.field<node, f64>) {
  // expected-error @+1 {{operand must be an edge field, got '!grade.field<node, f64>'}}
  %0 = grade.softmax %G, %x : !grade.field<node, f64>
  return
}

// -----

func.func @nonempty_edge(%G: !grade.graph, %e: !grade.field<edge, f64>) {
  // expected-error @+1 {{operand must be a node field, got '!grade.field<edge, f64>'}}
  %0 = grade.nonempty_in %G, %e : !grade.field<edge, f64>
  return
}

// -----

func.func @degree_vector(%G: !grade.graph) {
  // expected-error @+1 {{result must be a scalar node field, got '!grade.field<node, 2xf64>'}}
  %0 = grade.degree %G : !grade.field<node, 2xf64>
  return
}

// -----

grade.model @unweighted {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    // expected-error @+1 {{the model's graph has no edge weights}}
    %w = grade.weight %G : !grade.field<edge, f64>
    %r = grade.reduce sum %G, %w : !grade.field<edge, f64> -> !grade.field<node, f64>
    grade.yield %r : !grade.field<node, f64>
  }
}

// -----

grade.model @weight_type {
  grade.graph @G weight(f64)
  grade.decl state @x : !grade.field<node, f32>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    // expected-error @+1 {{edge weights are 'f64', result element type is 'f32'}}
    %w = grade.weight %G : !grade.field<edge, f32>
    %r = grade.reduce sum %G, %w : !grade.field<edge, f32> -> !grade.field<node, f32>
    grade.yield %r : !grade.field<node, f32>
  }
}

// -----

func.func @mix_kinds(%a: !grade.field<node, f64>, %b: !grade.field<edge, f64>) {
  // expected-error @+1 {{cannot combine a node field with an edge field}}
  %0 = grade.binary add %a, %b : !grade.field<node, f64>, !grade.field<edge, f64> -> !grade.field<node, f64>
  return
}

// -----

func.func @mix_elements(%a: !grade.field<node, f64>, %b: f32) {
  // expected-error @+1 {{element types differ: f64 and f32}}
  %0 = grade.binary mul %a, %b : !grade.field<node, f64>, f32 -> !grade.field<node, f64>
  return
}

// -----

func.func @mix_shapes(%a: !grade.field<node, 4xf64>, %b: !grade.field<node, 2xf64>) {
  // expected-error @+1 {{feature shapes [4] and [2] do not broadcast}}
  %0 = grade.binary add %a, %b : !grade.field<node, 4xf64>, !grade.field<node, 2xf64> -> !grade.field<node, 4xf64>
  return
}

// -----

func.func @binary_result(%a: !grade.field<node, f64>, %b: !grade.field<node, 2xf64>) {
  // expected-error @+1 {{result type must be '!grade.field<node, 2xf64>', got '!grade.field<node, f64>'}}
  %0 = grade.binary mul %a, %b : !grade.field<node, f64>, !grade.field<node, 2xf64> -> !grade.field<node, f64>
  return
}

// -----

// expected-error @+1 {{field element type must be f32 or f64, got 'i32'}}
func.func @int_field(%x: !grade.field<node, i32>)

// -----

// expected-error @+1 {{expected 'node' or 'edge', got 'face'}}
func.func @bad_kind(%x: !grade.field<face, f32>)

// -----

grade.model @unknown_scheme {
  grade.graph @G
  // expected-error @+1 {{unknown scheme 'rk5' (built in: euler, midpoint, heun, ralston, ssprk3, kutta3, rk4, rk38, bosh3, dopri5, backward_euler, crank_nicolson, sdirk2, sdirk4, bdf2, symplectic_euler, leapfrog, imex_euler, ars222; write any other as a #grade.tableau attribute)}}
  grade.solve rk5 dt(0.1) over [0.0, 1.0]
}

// -----

grade.model @implicit_tableau {
  grade.graph @G
  // expected-error @+1 {{tableau 'upper': a[1][2] = 1.0 is above the diagonal; a tableau is lower-triangular (explicit, or diagonally implicit: a[i][j] = 0 for j > i)}}
  grade.solve #grade.tableau<"upper", order 1, a = [[0.0, 1.0], [0.0, 0.0]], b = [0.5, 0.5], c = [1.0, 0.0]> dt(0.1) over [0.0, 1.0]
}

// -----

grade.model @inconsistent_tableau {
  grade.graph @G
  // expected-error @+1 {{tableau 'half': the weights must add up to 1 (consistency), they add up to 0.5}}
  grade.solve #grade.tableau<"half", order 1, a = [[0.0]], b = [0.5], c = [0.0]> dt(0.1) over [0.0, 1.0]
}

// -----

grade.model @overclaimed_tableau {
  grade.graph @G
  // expected-error @+1 {{tableau 'e2': the tableau has order 1, not 2: an order condition of order 2 fails}}
  grade.solve #grade.tableau<"e2", order 2, a = [[0.0]], b = [1.0], c = [0.0]> dt(0.1) over [0.0, 1.0]
}

// -----

grade.model @wrong_c {
  grade.graph @G
  // expected-error @+1 {{tableau 'h': c[2] = 0.5 must equal the sum of row 2 of 'a', 1.0}}
  grade.solve #grade.tableau<"h", order 2, a = [[0.0, 0.0], [1.0, 0.0]], b = [0.5, 0.5], c = [0.0, 0.5]> dt(0.1) over [0.0, 1.0]
}

// -----

grade.model @ragged_tableau {
  grade.graph @G
  // expected-error @+1 {{tableau 'a' must be square, got 2 rows and 3 entries}}
  grade.solve #grade.tableau<"r", order 1, a = [[0.0, 0.0], [1.0]], b = [1.0, 0.0], c = [0.0, 1.0]> dt(0.1) over [0.0, 1.0]
}

// -----

func.func @reduce_all_wrong_element_type(%x: !grade.field<node, f64>) -> f32 {
  // expected-error @+1 {{'grade.reduce_all' op result type must be 'f64' (the element type and feature shape of '!grade.field<node, f64>'), got 'f32'}}
  %0 = grade.reduce_all sum %x : !grade.field<node, f64> -> f32
  return %0 : f32
}

// -----

func.func @reduce_all_wrong_shape(%x: !grade.field<node, 4xf64>) -> f64 {
  // expected-error @+1 {{'grade.reduce_all' op result type must be 'tensor<4xf64>' (the element type and feature shape of '!grade.field<node, 4xf64>'), got 'f64'}}
  %0 = grade.reduce_all max %x : !grade.field<node, 4xf64> -> f64
  return %0 : f64
}

// -----

func.func @reduce_all_global(%x: f64) -> f64 {
  // expected-error @+1 {{'grade.reduce_all' op operand #0 must be node or edge field, but got 'f64'}}
  %0 = grade.reduce_all sum %x : f64 -> f64
  return %0 : f64
}

// -----

func.func @reduce_all_kind(%x: !grade.field<node, f64>) -> f64 {
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'kind' [sum, mean, max, min]}}
  %0 = grade.reduce_all prod %x : !grade.field<node, f64> -> f64
  return %0 : f64
}

// -----

grade.model @m {
  grade.graph @G
  // expected-error @+1 {{tableau 'he': the embedded weights have order 1, not 2}}
  grade.solve #grade.tableau<"he", order 3, a = [[0.0, 0.0, 0.0], [0.5, 0.0, 0.0], [-1.0, 2.0, 0.0]], b = [0.16666666666666666, 0.66666666666666663, 0.16666666666666666], c = [0.0, 0.5, 1.0], bhat = [1.0, 0.0, 0.0], embedded_order 2> dt(0.1) over [0.0, 1.0]
}

// -----

grade.model @m {
  grade.graph @G
  // expected-error @+1 {{tableau 'he': the embedded order must be between 1 and the order minus one (1), got 2}}
  grade.solve #grade.tableau<"he", order 2, a = [[0.0, 0.0], [1.0, 0.0]], b = [0.5, 0.5], c = [0.0, 1.0], bhat = [1.0, 0.0], embedded_order 2> dt(0.1) over [0.0, 1.0]
}

// -----

grade.model @m {
  grade.graph @G
  // expected-error @+1 {{'grade.solve' op 'rtol' needs an adaptive scheme, not 'rk4'}}
  grade.solve rk4 dt(0.1) over [0.0, 1.0] rtol(1.0e-3)
}

// -----

grade.model @m {
  grade.graph @G
  // expected-error @+1 {{'grade.solve' op step size must be positive, got 0}}
  grade.solve rk4 dt(0.0) over [0.0, 1.0]
}

// -----

grade.model @m {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  // expected-error @+1 {{'grade.decl' op a slope names the state it belongs to ('of @x')}}
  grade.decl slope @s : !grade.field<node, f64>
}

// -----

grade.model @m {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  // expected-error @+1 {{'grade.decl' op an adaptive step's error is an f64, got '!grade.field<node, f64>'}}
  grade.decl error @e of @x : !grade.field<node, f64>
}

// -----

grade.model @m {
  grade.graph @G
  // expected-error @+1 {{'grade.decl' op a state does not belong to a state ('of')}}
  grade.decl state @x of @y : !grade.field<node, f64>
}

// -----

grade.model @m {
  grade.graph @G
  // expected-error @+1 {{tableau 'se2': the partitioned tableau has order 1, not 2: sum b_i qc_i = 0.0 and sum qb_i c_i = 1.0 must both be 1/2}}
  grade.solve #grade.tableau<"se2", order 2, a = [[0.0, 0.0], [1.0, 0.0]], b = [1.0, 0.0], c = [0.0, 0.0], qa = [[0.0, 0.0], [0.0, 0.0]], qb = [0.0, 1.0]> dt(0.1) over [0.0, 1.0]
}

// -----

grade.model @m {
  grade.graph @G
  // expected-error @+1 {{tableau 'se': qa[2][2] = 1.0 makes the scheme implicit; the position tableau is strictly lower-triangular too}}
  grade.solve #grade.tableau<"se", order 1, a = [[0.0, 0.0], [1.0, 0.0]], b = [1.0, 0.0], c = [0.0, 1.0], qa = [[0.0, 0.0], [0.0, 1.0]], qb = [0.0, 1.0]> dt(0.1) over [0.0, 1.0]
}

// -----

// Readouts: computed by grade.readout, which assigns readouts only, and
// read by nothing (they are results).
grade.model @readout_not_computed {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  // expected-error @+1 {{readout '@y' is not computed by 'grade.readout'}}
  grade.decl readout @y : !grade.field<node, f64>
  grade.decl readout @z : !grade.field<node, f64>
  grade.readout targets [@z] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    grade.yield %x : !grade.field<node, f64>
  }
}

// -----

grade.model @readout_assigns_state {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  // expected-error @+1 {{'grade.readout' op cannot assign state '@x'}}
  grade.readout targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    grade.yield %x : !grade.field<node, f64>
  }
}

// -----

grade.model @readout_read {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.decl readout @y : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    // expected-error @+1 {{'grade.load' op cannot read readout '@y': readouts are results, computed last}}
    %y = grade.load @y : !grade.field<node, f64>
    grade.yield %y : !grade.field<node, f64>
  }
}

// -----

grade.model @readout_global {
  grade.graph @G
  // expected-error @+1 {{'grade.decl' op a readout must be a node or edge field, got 'f64'}}
  grade.decl readout @y : f64
}

// -----

grade.model @concat_matrix {
  grade.graph @G
  grade.decl state @x : !grade.field<node, 2x2xf64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, 2x2xf64>
    // expected-error @+1 {{'grade.concat' op operand 0 has feature shape [2, 2]; only scalars and vectors are concatenated}}
    %c = grade.concat %x : !grade.field<node, 2x2xf64> -> !grade.field<node, 4xf64>
    grade.yield %x : !grade.field<node, 2x2xf64>
  }
}

// -----

grade.model @concat_length {
  grade.graph @G
  grade.decl state @x : !grade.field<node, 3xf64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, 3xf64>
    // expected-error @+1 {{'grade.concat' op}}
    %c = grade.concat %x, %t : !grade.field<node, 3xf64>, f64 -> !grade.field<node, 5xf64>
    grade.yield %x : !grade.field<node, 3xf64>
  }
}

// -----

// A vector entry writes the states' vector outputs or the result, never a
// state.
grade.model @vector_target {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  // expected-error @+1 {{'grade.vector' op cannot assign state '@x'}}
  grade.vector lincomb targets [@x] (%G: !grade.graph, %t: f64, %dt: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    grade.yield %x : !grade.field<node, f64>
  }
}

// -----

grade.model @vector_args {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.decl vector_out @x__vout of @x : !grade.field<node, f64>
  // expected-error @+1 {{'grade.vector' op body must take (!grade.graph, f64, f64)}}
  grade.vector lincomb targets [@x__vout] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    grade.yield %x : !grade.field<node, f64>
  }
}

// -----

grade.model @vector_kind {
  grade.graph @G
  // expected-error @+1 {{unknown vector entry 'axpy'}}
  grade.vector axpy targets [] (%G: !grade.graph, %t: f64, %dt: f64) {
    grade.yield
  }
}

// -----

grade.model @vector_result {
  grade.graph @G
  // expected-error @+1 {{'grade.decl' op a vector entry's result is an f64, got 'f32'}}
  grade.decl result @r : f32
}

// -----

grade.model @vector_of {
  grade.graph @G
  // expected-error @+1 {{'grade.decl' op a vector_x names the state it belongs to ('of @x')}}
  grade.decl vector_x @v : !grade.field<node, f64>
}
