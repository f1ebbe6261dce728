// RUN: grade-opt %s -split-input-file -verify-diagnostics

// The buffer plan is checked: k1 overwrites @tmp0 in place while the value
// k0 wrote there is still to be read by k2.
grade.model @write_before_read {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.decl temp @tmp0 : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    %a = gk.kernel "k0" over nodes (%g = %G : !grade.graph uniform, %y = %x : !grade.field<node, f64> local) -> (!grade.field<node, f64> in @tmp0) {
      %n = grade.unary neg %y : !grade.field<node, f64>
      gk.yield %n : !grade.field<node, f64>
    }
    // expected-note @+1 {{buffer written here}}
    %b = gk.kernel "k1" over nodes (%g = %G : !grade.graph uniform, %y = %a : !grade.field<node, f64> local) -> (!grade.field<node, f64> in @tmp0) {
      %n = grade.unary neg %y : !grade.field<node, f64>
      gk.yield %n : !grade.field<node, f64>
    }
    // expected-error @+1 {{'gk.kernel' op reads capture #2 from buffer @tmp0 after kernel 'k1' overwrote it}}
    %c = gk.kernel "k2" over nodes (%g = %G : !grade.graph uniform, %y = %b : !grade.field<node, f64> local, %z = %a : !grade.field<node, f64> local) -> (!grade.field<node, f64> in @x) {
      %s = grade.binary add %y, %z : !grade.field<node, f64>, !grade.field<node, f64> -> !grade.field<node, f64>
      gk.yield %s : !grade.field<node, f64>
    }
    grade.yield %c : !grade.field<node, f64>
  }
}

// -----

// A state updated in place is read by a later kernel at its old value.
grade.model @state_overwritten {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.decl temp @tmp0 : !grade.field<node, f64>
  grade.step targets [@x] (%G: !grade.graph, %t: f64, %dt: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    // expected-note @+1 {{buffer written here}}
    %a = gk.kernel "k0" over nodes (%g = %G : !grade.graph uniform, %y = %x : !grade.field<node, f64> local) -> (!grade.field<node, f64> in @x) {
      %n = grade.unary neg %y : !grade.field<node, f64>
      gk.yield %n : !grade.field<node, f64>
    }
    // expected-error @+1 {{reads capture #1 from buffer @x after kernel 'k0' overwrote it}}
    %b = gk.kernel "k1" over nodes (%g = %G : !grade.graph uniform, %y = %x : !grade.field<node, f64> local) -> (!grade.field<node, f64> in @tmp0) {
      %n = grade.unary neg %y : !grade.field<node, f64>
      gk.yield %n : !grade.field<node, f64>
    }
    grade.yield %a : !grade.field<node, f64>
  }
}

// -----

// Writing a buffer the kernel reads at neighbours.
grade.model @remote_in_place {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.step targets [@x] (%G: !grade.graph, %t: f64, %dt: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    // expected-error @+1 {{'gk.kernel' op writes buffer @x while it reads capture #1 from it at other rows}}
    %a = gk.kernel "k0" over nodes (%g = %G : !grade.graph uniform, %y = %x : !grade.field<node, f64> both) -> (!grade.field<node, f64> in @x) {
      %ys = grade.gather src %g, %y : !grade.field<node, f64> -> !grade.field<edge, f64>
      %s = grade.reduce sum %g, %ys : !grade.field<edge, f64> -> !grade.field<node, f64>
      gk.yield %s : !grade.field<node, f64>
    }
    grade.yield %a : !grade.field<node, f64>
  }
}

// -----

grade.model @access_count {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    // expected-error @+1 {{'gk.kernel' op capture #1 of type '!grade.field<node, f64>' cannot be read 'uniform': a field is read per row}}
    %a = gk.kernel "k" over nodes (%g = %G : !grade.graph uniform, %y = %x : !grade.field<node, f64> uniform) -> (!grade.field<node, f64>) {
      gk.yield %y : !grade.field<node, f64>
    }
    grade.yield %a : !grade.field<node, f64>
  }
}

// -----

grade.model @global_local {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    // expected-error @+1 {{'gk.kernel' op capture #2 of type 'f64' cannot be read 'local': only fields are read per row}}
    %a = gk.kernel "k" over nodes (%g = %G : !grade.graph uniform, %y = %x : !grade.field<node, f64> local, %c = %t : f64 local) -> (!grade.field<node, f64>) {
      %s = grade.binary mul %y, %c : !grade.field<node, f64>, f64 -> !grade.field<node, f64>
      gk.yield %s : !grade.field<node, f64>
    }
    grade.yield %a : !grade.field<node, f64>
  }
}

// -----

grade.model @missing_buffer {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.decl temp @tmp0 : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    // expected-error @+1 {{'gk.kernel' op result #1 is a field and needs a buffer}}
    %a:2 = gk.kernel "k" over nodes (%g = %G : !grade.graph uniform, %y = %x : !grade.field<node, f64> local) -> (!grade.field<node, f64> in @tmp0, !grade.field<node, f64>) {
      gk.yield %y, %y : !grade.field<node, f64>, !grade.field<node, f64>
    }
    grade.yield %a#0 : !grade.field<node, f64>
  }
}

// -----

grade.model @reduce_all_over_nodes {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    %s = gk.kernel "k" over nodes (%g = %G : !grade.graph uniform, %y = %x : !grade.field<node, f64> local) -> (f64) {
      // expected-error @+1 {{'grade.reduce_all' op is a global reduction in a kernel over nodes; it needs a kernel over blocks of nodes (a deterministic order)}}
      %r = grade.reduce_all sum %y : !grade.field<node, f64> -> f64
      gk.yield %r : f64
    }
    %a = grade.binary mul %x, %s : !grade.field<node, f64>, f64 -> !grade.field<node, f64>
    grade.yield %a : !grade.field<node, f64>
  }
}

// -----

// Edge passes: the sum reads the maximum of the same node, which is only
// complete after the pass that accumulates it.
grade.model @pass_order {
  grade.graph @G
  grade.decl input @s : !grade.field<edge, f64>
  grade.decl let @m : !grade.field<node, f64>
  grade.init targets [@m] (%G: !grade.graph) {
    %s = grade.load @s : !grade.field<edge, f64>
    %r = gk.kernel "k" over nodes (%g = %G : !grade.graph uniform, %e = %s : !grade.field<edge, f64> local) -> (!grade.field<node, f64>) passes 2 {
      %m = grade.reduce max %g, %e {gk.pass = 0 : i64} : !grade.field<edge, f64> -> !grade.field<node, f64>
      %md = grade.gather dst %g, %m : !grade.field<node, f64> -> !grade.field<edge, f64>
      %z = grade.binary sub %e, %md : !grade.field<edge, f64>, !grade.field<edge, f64> -> !grade.field<edge, f64>
      // expected-error @+1 {{'grade.reduce' op is in edge pass 0 but reads a reduction completed only after pass 0}}
      %sum = grade.reduce sum %g, %z {gk.pass = 0 : i64} : !grade.field<edge, f64> -> !grade.field<node, f64>
      gk.yield %sum : !grade.field<node, f64>
    }
    grade.yield %r : !grade.field<node, f64>
  }
}

// -----

grade.model @pass_range {
  grade.graph @G
  grade.decl input @s : !grade.field<edge, f64>
  grade.decl let @m : !grade.field<node, f64>
  grade.init targets [@m] (%G: !grade.graph) {
    %s = grade.load @s : !grade.field<edge, f64>
    %r = gk.kernel "k" over nodes (%g = %G : !grade.graph uniform, %e = %s : !grade.field<edge, f64> local) -> (!grade.field<node, f64>) passes 1 {
      // expected-error @+1 {{'grade.reduce' op is in edge pass 1 of a kernel with 1 passes}}
      %m = grade.reduce max %g, %e {gk.pass = 1 : i64} : !grade.field<edge, f64> -> !grade.field<node, f64>
      gk.yield %m : !grade.field<node, f64>
    }
    grade.yield %r : !grade.field<node, f64>
  }
}

// -----

grade.model @unscheduled {
  grade.graph @G
  grade.decl input @s : !grade.field<edge, f64>
  grade.decl let @m : !grade.field<node, f64>
  grade.init targets [@m] (%G: !grade.graph) {
    %s = grade.load @s : !grade.field<edge, f64>
    %r = gk.kernel "k" over nodes (%g = %G : !grade.graph uniform, %e = %s : !grade.field<edge, f64> local) -> (!grade.field<node, f64>) passes 1 {
      // expected-error @+1 {{'grade.reduce' op has no edge pass ('gk.pass') in a scheduled kernel}}
      %m = grade.reduce max %g, %e : !grade.field<edge, f64> -> !grade.field<node, f64>
      gk.yield %m : !grade.field<node, f64>
    }
    grade.yield %r : !grade.field<node, f64>
  }
}

// -----

grade.model @yield_types {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.rhs targets [@x] (%G: !grade.graph, %t: f64) {
    %x = grade.load @x : !grade.field<node, f64>
    %a = gk.kernel "k" over nodes (%g = %G : !grade.graph uniform, %y = %x : !grade.field<node, f64> local, %c = %t : f64 uniform) -> (!grade.field<node, f64>) {
      // expected-error @+1 {{'gk.yield' op yields 1 values whose types do not match the kernel's results}}
      gk.yield %c : f64
    }
    grade.yield %a : !grade.field<node, f64>
  }
}

// -----

grade.model @launch_unknown {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  gk.entry "rhs" {
  ^bb0(%G: !grade.graph, %t: f64):
    %x = grade.load @x : !grade.field<node, f64>
    // expected-error @+1 {{'gk.launch' op launches 'nowhere', which is not a 'gk.func'}}
    %r = gk.launch @nowhere(%G, %x) : (!grade.graph, !grade.field<node, f64>) -> !grade.field<node, f64>
  }
}

// -----

gk.func @k0 over nodes (%g : !grade.graph uniform, %y : !grade.field<node, f64> local) -> (!grade.field<node, f64> in @x) {
  %n = grade.unary neg %y : !grade.field<node, f64>
  gk.yield %n : !grade.field<node, f64>
}
gk.func @k1 over nodes (%g : !grade.graph uniform, %y : !grade.field<node, f64> local) -> (!grade.field<node, f64> in @tmp0) {
  gk.yield %y : !grade.field<node, f64>
}
// After outlining, the same check runs on launches.
grade.model @launch_hazard {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  grade.decl temp @tmp0 : !grade.field<node, f64>
  gk.entry "step" {
  ^bb0(%G: !grade.graph, %t: f64, %dt: f64):
    %x = grade.load @x : !grade.field<node, f64>
    // expected-note @+1 {{buffer written here}}
    %a = gk.launch @k0(%G, %x) : (!grade.graph, !grade.field<node, f64>) -> !grade.field<node, f64>
    // expected-error @+1 {{'gk.launch' op reads capture #1 from buffer @x after kernel 'k0' overwrote it}}
    %b = gk.launch @k1(%G, %x) : (!grade.graph, !grade.field<node, f64>) -> !grade.field<node, f64>
  }
}

// -----

grade.model @bad_entry {
  grade.graph @G
  // expected-error @+1 {{'gk.entry' op kind must be 'init', 'rhs', 'step', 'jvp', 'diagonal', 'readout', for a split right-hand side 'explicit_rhs', 'implicit_rhs', 'implicit_jvp' or 'implicit_diagonal', or a vector entry ('vector_' and lincomb, multiply, jacobi, dot, residual or error), got 'stage'}}
  gk.entry "stage" {
  ^bb0(%G: !grade.graph):
  }
}

// -----

grade.model @m {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  gk.entry "step" {
  ^bb0(%G: !grade.graph, %t: f64, %dt: f64):
    // expected-error @+1 {{'gk.store' op stores to 'y', which is not a declaration of the model}}
    gk.store %t to @y : f64
  }
}

// -----

grade.model @m {
  grade.graph @G
  grade.decl state @x : !grade.field<node, f64>
  gk.entry "step" {
  ^bb0(%G: !grade.graph, %t: f64, %dt: f64):
    // expected-error @+1 {{'gk.store' op stores a 'f64' to 'x' of type '!grade.field<node, f64>'}}
    gk.store %t to @x : f64
  }
}

// -----

// A kernel runs over blocks (global reductions) or over balanced chunks.
// expected-error @+1 {{'gk.func' op runs over blocks or over balanced chunks, not both}}
gk.func @both over blocks(1024) (%g : !grade.graph uniform, %x : !grade.field<node, f64> local) -> (!grade.field<node, f64>) passes 0 attributes {balanced_chunks = 4 : i64} {
  gk.yield %x : !grade.field<node, f64>
}

// -----

// expected-error @+1 {{the number of chunks must be positive}}
gk.func @none over balanced(0) (%g : !grade.graph uniform, %x : !grade.field<node, f64> local) -> (!grade.field<node, f64>) passes 0 {
  gk.yield %x : !grade.field<node, f64>
}

// -----

// expected-error @+1 {{'gk.func' op asks for vectors of 100 bits (128, 256 or 512)}}
gk.func @odd over nodes (%g : !grade.graph uniform, %x : !grade.field<node, f64> local) -> (!grade.field<node, f64>) passes 0 vectors(100) {
  gk.yield %x : !grade.field<node, f64>
}
