// RUN: grade-opt %s -split-input-file | FileCheck %s
// RUN: grade-opt %s -split-input-file | grade-opt -split-input-file | FileCheck %s

// Built-in schemes print by name; a tableau equal to a built-in one becomes
// that scheme; any other prints whole and round-trips exactly.

// CHECK-LABEL: grade.model @named
// CHECK: grade.solve ssprk3 dt(1.000000e-01) over [0.000000e+00, 1.000000e+00]
grade.model @named {
  grade.graph @G
  grade.solve ssprk3 dt(0.1) over [0.0, 1.0]
}

// -----

// CHECK-LABEL: grade.model @spelled_heun
// CHECK: grade.solve heun dt(
grade.model @spelled_heun {
  grade.graph @G
  grade.solve #grade.tableau<"heun", order 2, a = [[0.0, 0.0], [1.0, 0.0]], b = [0.5, 0.5], c = [0.0, 1.0]> dt(0.1) over [0.0, 1.0]
}

// -----

// CHECK-LABEL: grade.model @custom
// CHECK: grade.solve #grade.tableau<"ralston3", order 3, a = {{\[}}[0.0, 0.0, 0.0], [0.5, 0.0, 0.0], [0.0, 0.75, 0.0]], b = [0.2222222222222222, 0.3333333333333333, 0.4444444444444444], c = [0.0, 0.5, 0.75]> dt(
grade.model @custom {
  grade.graph @G
  grade.solve #grade.tableau<"ralston3", order 3, a = [[0.0, 0.0, 0.0], [0.5, 0.0, 0.0], [0.0, 0.75, 0.0]], b = [0.22222222222222221, 0.33333333333333331, 0.44444444444444442], c = [0.0, 0.5, 0.75]> dt(0.1) over [0.0, 1.0]
}

// -----

// The adaptive built-in schemes print by name; a custom embedded pair
// prints its embedded weights and order (and dense-output weights).
// CHECK-LABEL: grade.model @adaptive_named
// CHECK: grade.solve dopri5 dt(0.000000e+00) over [0.000000e+00, 1.000000e+00] rtol(1.000000e-03) atol(9.9999999999999995E-7)
grade.model @adaptive_named {
  grade.graph @G
  grade.solve dopri5 dt(0.0) over [0.0, 1.0] rtol(1.0e-3) atol(1.0e-6)
}

// -----

// Heun-Euler: Heun's weights with Euler's as the embedded order-1 pair.
// CHECK-LABEL: grade.model @heun_euler
// CHECK: grade.solve #grade.tableau<"heun_euler", order 2, a = {{\[}}[0.0, 0.0], [1.0, 0.0]], b = [0.5, 0.5], c = [0.0, 1.0], bhat = [1.0, 0.0], embedded_order 1> dt(
grade.model @heun_euler {
  grade.graph @G
  grade.solve #grade.tableau<"heun_euler", order 2, a = [[0.0, 0.0], [1.0, 0.0]], b = [0.5, 0.5], c = [0.0, 1.0], bhat = [1.0, 0.0], embedded_order 1> dt(0.1) over [0.0, 1.0]
}

// -----

// Partitioned schemes print by name, or whole with the positions' tableau.
// CHECK-LABEL: grade.model @partitioned
// CHECK: grade.solve leapfrog dt(
grade.model @partitioned {
  grade.graph @G
  grade.solve leapfrog dt(0.1) over [0.0, 1.0]
}

// -----

// CHECK-LABEL: grade.model @kick_drift
// CHECK: grade.solve #grade.tableau<"kick_drift", order 1, a = {{\[}}[0.0, 0.0], [1.0, 0.0]], b = [1.0, 0.0], c = [0.0, 0.0], qa = {{\[}}[0.0, 0.0], [0.0, 0.0]], qb = [0.0, 1.0]> dt(
grade.model @kick_drift {
  grade.graph @G
  grade.solve #grade.tableau<"kick_drift", order 1, a = [[0.0, 0.0], [1.0, 0.0]], b = [1.0, 0.0], c = [0.0, 0.0], qa = [[0.0, 0.0], [0.0, 0.0]], qb = [0.0, 1.0]> dt(0.1) over [0.0, 1.0]
}
