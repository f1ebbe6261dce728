// RUN: grade-opt %s -grade-expand-scheme -split-input-file -verify-diagnostics

// A symplectic scheme needs positions and velocities.
grade.model @heat {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    %f = grade.unary neg %x : !grade.field<node, f64>
    grade.yield %f : !grade.field<node, f64>
  }
  // expected-error @+1 {{scheme 'leapfrog' is symplectic: it needs position states, whose right-hand sides read only velocity states (dx/dt = v), and velocity states (dv/dt = f(x, v)); every state of model 'heat' reads itself}}
  grade.solve leapfrog dt(0.1) over [0.0, 1.0]
}

// -----

// Two states that read neither each other nor themselves are both
// positions: nothing is a velocity.
grade.model @pair {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.decl state @y : !grade.field<node, f64>
  grade.rhs targets [@x, @y] (%G: !grade.graph, %t: f64) {
    %g = grade.degree %G : !grade.field<node, f64>
    grade.yield %g, %g : !grade.field<node, f64>, !grade.field<node, f64>
  }
  // expected-error @+1 {{no state of model 'pair' is a velocity (every right-hand side reads no position)}}
  grade.solve symplectic_euler dt(0.1) over [0.0, 1.0]
}

// -----

// An IMEX scheme on a model whose right-hand side is not split.
grade.model @imex_unsplit {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    grade.yield %x : !grade.field<node, f64>
  }
  // expected-error @+1 {{scheme 'ars222' is IMEX: it solves the implicit part of a split right-hand side and evaluates the explicit part, but no state of model 'imex_unsplit' has a split one; write e.g. 'rhs implicit dx/dt = <stiff terms>;' and 'rhs explicit dx/dt = <the rest>;', or choose a scheme for the whole (sdirk2, rk4, ...)}}
  grade.solve ars222 dt(0.1) over [0.0, 1.0]
}
