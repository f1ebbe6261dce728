// RUN: grade-opt %s -split-input-file -convert-grade-to-loops | FileCheck %s

// The loop nests of grade.contract. The innermost loop runs over the letter
// that most subscripts end with (contiguous rows). A summed inner letter
// is a reduction carried in a register with reassociation allowed (the
// vectoriser splits it into lanes): a dot product needs no scratch at all,
// and "ij,j->i" stores one sum per output element. A kept inner letter
// accumulates the output row in scratch, zeroed first, with the summed
// letters outside ("i,ij->j": rows of W scaled by y[i], y[i] read once per
// row); without summed letters ("i,j->ij") the products are stored
// directly. A computed operand read more than once (tanh(x) in "ij,j->i")
// is evaluated into scratch first, once per node. (The one-byte alloca of
// a step kernel is its finite-check status flag, not scratch.)

// CHECK-LABEL: func.func private @dot_step_kernel0(
// CHECK: %[[X:.*]] = grade.slot %{{.*}}[6]
// CHECK-NOT: memref.alloca() : memref<{{[0-9]+}}xf64>
// CHECK: %[[D:.*]] = scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %{{.*}}) -> (f64) {
// CHECK: %[[A:.*]] = memref.load %[[X]]
// CHECK: %[[B:.*]] = memref.load %[[X]]
// CHECK: %[[P:.*]] = arith.mulf %[[A]], %[[B]] fastmath<contract> : f64
// CHECK: %[[S:.*]] = arith.addf %[[ACC]], %[[P]] fastmath<reassoc,contract> : f64
// CHECK: scf.yield %[[S]] : f64
// CHECK: arith.mulf %{{.*}}, %[[D]]
// CHECK-LABEL: func.func @gradegen_entry_step(
grade.model @dot {
  grade.graph @G
  grade.decl state @x : !grade.field<node, 8xf64> output
  grade.solve euler dt(1.000000e-01) over [0.000000e+00, 1.000000e+00]
  grade.step targets [@x] (%G: !grade.graph, %t: f64, %dt: f64) {
    %x = grade.load @x : !grade.field<node, 8xf64>
    %d = grade.contract "i,i->" %x, %x : !grade.field<node, 8xf64>, !grade.field<node, 8xf64> -> !grade.field<node, f64>
    %y = grade.binary mul %x, %d : !grade.field<node, 8xf64>, !grade.field<node, f64> -> !grade.field<node, 8xf64>
    grade.yield %y : !grade.field<node, 8xf64>
  }
}

// -----

// CHECK-LABEL: func.func private @matvec_step_kernel0(
// CHECK: %[[W:.*]] = grade.slot %{{.*}}[6]
// CHECK: %[[X:.*]] = grade.slot %{{.*}}[7]
// CHECK: scf.parallel
// tanh(x) into scratch, once per node:
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step
// CHECK-NEXT: arith.constant 2
// CHECK-NEXT: arith.muli
// CHECK-NEXT: arith.addi
// CHECK-NEXT: %[[XK:.*]] = memref.load %[[X]]
// CHECK-NEXT: %[[T:.*]] = math.tanh %[[XK]]
// CHECK-NEXT: memref.store %[[T]], %[[TX:.*]][%[[K]]] : memref<2xf64>
// "ij,j->i": i outside, a sum over j inside, stored per i.
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %[[C3:.*]] step
// CHECK: %[[SUM:.*]] = scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %{{.*}}) -> (f64) {
// CHECK: %[[WIJ:.*]] = memref.load %[[W]]
// CHECK: %[[TJ:.*]] = memref.load %[[TX]][%[[J]]]
// CHECK: %[[P:.*]] = arith.mulf %[[WIJ]], %[[TJ]] fastmath<contract>
// CHECK: arith.addf %[[ACC]], %[[P]] fastmath<reassoc,contract>
// CHECK: memref.store %[[SUM]], %[[Y:.*]][%[[I]]] : memref<3xf64>
// "i,ij->j": the output row zeroed, then i outside, j inside.
// CHECK: scf.for %[[K2:.*]] =
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0.0
// CHECK-NEXT: memref.store %[[ZERO]], %[[Z:.*]][%[[K2]]] : memref<2xf64>
// CHECK: scf.for %[[I2:.*]] = %{{.*}} to %{{.*}} step
// CHECK-NEXT: %[[YI:.*]] = memref.load %[[Y]][%[[I2]]]
// CHECK: scf.for %[[J2:.*]] = %{{.*}} to %{{.*}} step
// CHECK: %[[WIJ2:.*]] = memref.load %[[W]]
// CHECK: %[[OLD:.*]] = memref.load %[[Z]][%[[J2]]]
// CHECK: %[[P2:.*]] = arith.mulf %[[YI]], %[[WIJ2]] fastmath<contract>
// CHECK: %[[NEW:.*]] = arith.addf %[[OLD]], %[[P2]] fastmath<contract>
// CHECK: memref.store %[[NEW]], %[[Z]][%[[J2]]]
// CHECK-NOT: math.tanh
// CHECK-LABEL: func.func @gradegen_entry_step(
grade.model @matvec {
  grade.graph @G
  grade.decl param @W : tensor<3x2xf64>
  grade.decl state @x : !grade.field<node, 2xf64> output
  grade.solve euler dt(1.000000e-01) over [0.000000e+00, 1.000000e+00]
  grade.step targets [@x] (%G: !grade.graph, %t: f64, %dt: f64) {
    %W = grade.load @W : tensor<3x2xf64>
    %x = grade.load @x : !grade.field<node, 2xf64>
    %tx = grade.unary tanh %x : !grade.field<node, 2xf64>
    %y = grade.contract "ij,j->i" %W, %tx : tensor<3x2xf64>, !grade.field<node, 2xf64> -> !grade.field<node, 3xf64>
    %z = grade.contract "i,ij->j" %y, %W : !grade.field<node, 3xf64>, tensor<3x2xf64> -> !grade.field<node, 2xf64>
    grade.yield %z : !grade.field<node, 2xf64>
  }
}

// -----

// CHECK-LABEL: func.func private @outer_step_kernel0(
// CHECK: %[[X:.*]] = grade.slot %{{.*}}[6]
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step
// CHECK: %[[XI:.*]] = memref.load %[[X]]
// CHECK: scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step
// CHECK: %[[XJ:.*]] = memref.load %[[X]]
// CHECK-NOT: memref.load
// CHECK: %[[P:.*]] = arith.mulf %[[XI]], %[[XJ]] fastmath<contract>
// CHECK-NEXT: memref.store %[[P]], %{{.*}} : memref<4xf64>
// CHECK-NOT: arith.addf
// CHECK-LABEL: func.func @gradegen_entry_step(
grade.model @outer {
  grade.graph @G
  grade.decl state @x : !grade.field<node, 2xf64> output
  grade.decl state @m : !grade.field<node, 2x2xf64> output
  grade.solve euler dt(1.000000e-01) over [0.000000e+00, 1.000000e+00]
  grade.step targets [@x, @m] (%G: !grade.graph, %t: f64, %dt: f64) {
    %x = grade.load @x : !grade.field<node, 2xf64>
    %o = grade.contract "i,j->ij" %x, %x : !grade.field<node, 2xf64>, !grade.field<node, 2xf64> -> !grade.field<node, 2x2xf64>
    grade.yield %x, %o : !grade.field<node, 2xf64>, !grade.field<node, 2x2xf64>
  }
}

// -----

// max and min: the same loop nests, combined with arith.maximumf or
// arith.minimumf (NaN propagates) from -inf or +inf. "hd->" (all features,
// max_features) carries the maximum in a register; "h,hd->d" (min over the
// heads, d kept) starts its output row at +inf.

// CHECK-LABEL: func.func private @tropical_step_kernel0(
// CHECK: %[[NEGINF:.*]] = arith.constant 0xFFF0000000000000 : f64
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %[[NEGINF]]) -> (f64) {
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[IN:.*]] = %[[ACC]]) -> (f64) {
// CHECK: %[[M:.*]] = arith.maximumf %[[IN]], %{{.*}} : f64
// CHECK: scf.yield %[[M]]
// CHECK: %[[POSINF:.*]] = arith.constant 0x7FF0000000000000 : f64
// CHECK: memref.store %[[POSINF]], %[[ROW:.*]][%{{.*}}] : memref<2xf64>
// CHECK: %[[OLD:.*]] = memref.load %[[ROW]]
// CHECK: %[[P:.*]] = arith.mulf
// CHECK: %[[NEW:.*]] = arith.minimumf %[[OLD]], %[[P]] : f64
// CHECK: memref.store %[[NEW]], %[[ROW]]
// CHECK-LABEL: func.func @gradegen_entry_step(
grade.model @tropical {
  grade.graph @G
  grade.decl param @w : tensor<3xf64>
  grade.decl state @x : !grade.field<node, 3x2xf64> output
  grade.solve euler dt(1.000000e-01) over [0.000000e+00, 1.000000e+00]
  grade.step targets [@x] (%G: !grade.graph, %t: f64, %dt: f64) {
    %x = grade.load @x : !grade.field<node, 3x2xf64>
    %w = grade.load @w : tensor<3xf64>
    %m = grade.contract max "hd->" %x : !grade.field<node, 3x2xf64> -> !grade.field<node, f64>
    %n = grade.contract min "h,hd->d" %w, %x : tensor<3xf64>, !grade.field<node, 3x2xf64> -> !grade.field<node, 2xf64>
    %s = grade.binary add %m, %n : !grade.field<node, f64>, !grade.field<node, 2xf64> -> !grade.field<node, 2xf64>
    %y = grade.contract "d,hd->hd" %s, %x : !grade.field<node, 2xf64>, !grade.field<node, 3x2xf64> -> !grade.field<node, 3x2xf64>
    grade.yield %y : !grade.field<node, 3x2xf64>
  }
}
