// RUN: grade-opt %s -grade-simplify-graph-calculus -split-input-file | FileCheck %s
// RUN: grade-opt %s -grade-simplify-graph-calculus -split-input-file | FileCheck %s --check-prefix=NOGLOBAL

// sum_j a_ij (x_j - x_i) = sum_j a_ij x_j - (sum_j a_ij) x_i
// CHECK-LABEL: func.func @test_laplacian
// CHECK-SAME: (%[[G:.*]]: !grade.graph, %[[A:.*]]: !grade.field<edge, f32>, %[[X:.*]]: !grade.field<node, 4xf32>)
// CHECK-DAG: %[[XS:.*]] = grade.gather src %[[G]], %[[X]]
// CHECK-DAG: %[[AX:.*]] = grade.binary mul %[[A]], %[[XS]]
// CHECK-DAG: %[[S1:.*]] = grade.reduce sum %[[G]], %[[AX]]
// CHECK-DAG: %[[S2:.*]] = grade.reduce sum %[[G]], %[[A]] : !grade.field<edge, f32> -> !grade.field<node, f32>
// CHECK-DAG: %[[P:.*]] = grade.binary mul %[[S2]], %[[X]]
// CHECK: %[[D:.*]] = grade.binary sub %[[S1]], %[[P]]
// Nodes without in-edges keep the reduction's 0 (not 0 * x).
// CHECK: %[[R:.*]] = grade.nonempty_in %[[G]], %[[D]] : !grade.field<node, 4xf32>
// CHECK: return %[[R]]
func.func @test_laplacian(%G: !grade.graph, %a: !grade.field<edge, f32>, %x: !grade.field<node, 4xf32>) -> !grade.field<node, 4xf32> {
  %xs = grade.gather src %G, %x : !grade.field<node, 4xf32> -> !grade.field<edge, 4xf32>
  %xd = grade.gather dst %G, %x : !grade.field<node, 4xf32> -> !grade.field<edge, 4xf32>
  %d = grade.binary sub %xs, %xd : !grade.field<edge, 4xf32>, !grade.field<edge, 4xf32> -> !grade.field<edge, 4xf32>
  %m = grade.binary mul %a, %d : !grade.field<edge, f32>, !grade.field<edge, 4xf32> -> !grade.field<edge, 4xf32>
  %r = grade.reduce sum %G, %m : !grade.field<edge, 4xf32> -> !grade.field<node, 4xf32>
  return %r : !grade.field<node, 4xf32>
}

// -----

// A destination value alone sums to degree * value; a global factor moves
// out of the sum.
// CHECK-LABEL: func.func @test_degree_and_global
// CHECK-SAME: (%[[G:.*]]: !grade.graph, %[[C:.*]]: f64, %[[X:.*]]: !grade.field<node, f64>)
// CHECK: %[[D:.*]] = grade.degree %[[G]] : !grade.field<node, f64>
// The reduced field comes first, node factors next, globals last: every
// partial product is a field.
// CHECK: %[[P:.*]] = grade.binary mul %[[D]], %[[X]]
// CHECK: %[[Q:.*]] = grade.binary mul %[[P]], %[[C]]
// CHECK: %[[R:.*]] = grade.nonempty_in %[[G]], %[[Q]]
// CHECK-NOT: grade.reduce
// CHECK: return %[[R]]
func.func @test_degree_and_global(%G: !grade.graph, %c: f64, %x: !grade.field<node, f64>) -> !grade.field<node, f64> {
  %xd = grade.gather dst %G, %x : !grade.field<node, f64> -> !grade.field<edge, f64>
  %m = grade.binary mul %c, %xd : f64, !grade.field<edge, f64> -> !grade.field<edge, f64>
  %r = grade.reduce sum %G, %m : !grade.field<edge, f64> -> !grade.field<node, f64>
  return %r : !grade.field<node, f64>
}

// -----

// The mean of a destination value is not that value on nodes without
// in-edges: leave it; max is not linear: leave it.
// CHECK-LABEL: func.func @test_not_mean_of_constant
// CHECK: grade.reduce mean
// CHECK: grade.reduce max
func.func @test_not_mean_of_constant(%G: !grade.graph, %x: !grade.field<node, f64>) -> (!grade.field<node, f64>, !grade.field<node, f64>) {
  %xd = grade.gather dst %G, %x : !grade.field<node, f64> -> !grade.field<edge, f64>
  %r = grade.reduce mean %G, %xd : !grade.field<edge, f64> -> !grade.field<node, f64>
  %xs = grade.gather src %G, %x : !grade.field<node, f64> -> !grade.field<edge, f64>
  %s = grade.binary sub %xs, %xd : !grade.field<edge, f64>, !grade.field<edge, f64> -> !grade.field<edge, f64>
  %m = grade.reduce max %G, %s : !grade.field<edge, f64> -> !grade.field<node, f64>
  return %r, %m : !grade.field<node, f64>, !grade.field<node, f64>
}

// -----

// mean_j (e_ij * x_i) = mean_j(e_ij) * x_i holds (both 0 without in-edges).
// CHECK-LABEL: func.func @test_mean_factor
// CHECK-SAME: (%[[G:.*]]: !grade.graph, %[[E:.*]]: !grade.field<edge, f64>, %[[X:.*]]: !grade.field<node, f64>)
// CHECK: %[[M:.*]] = grade.reduce mean %[[G]], %[[E]]
// CHECK: %[[P:.*]] = grade.binary mul %[[M]], %[[X]]
// CHECK: grade.nonempty_in %[[G]], %[[P]]
func.func @test_mean_factor(%G: !grade.graph, %e: !grade.field<edge, f64>, %x: !grade.field<node, f64>) -> !grade.field<node, f64> {
  %xd = grade.gather dst %G, %x : !grade.field<node, f64> -> !grade.field<edge, f64>
  %m = grade.binary mul %e, %xd : !grade.field<edge, f64>, !grade.field<edge, f64> -> !grade.field<edge, f64>
  %r = grade.reduce mean %G, %m : !grade.field<edge, f64> -> !grade.field<node, f64>
  return %r : !grade.field<node, f64>
}

// -----

// Element-wise work on destination values and products with a matrix move
// to nodes; a product of a source gather is taken per node before the
// gather.
// CHECK-LABEL: func.func @test_hoist
// CHECK-SAME: (%[[G:.*]]: !grade.graph, %[[X:.*]]: !grade.field<node, 4xf32>, %[[W:.*]]: tensor<4x2xf32>)
// CHECK-DAG: %[[T:.*]] = grade.unary tanh %[[X]] : !grade.field<node, 4xf32>
// CHECK-DAG: %[[Q:.*]] = grade.contract "i,ij->j" %[[T]], %[[W]] : !grade.field<node, 4xf32>
// CHECK-DAG: %[[QD:.*]] = grade.gather dst %[[G]], %[[Q]]
// CHECK-DAG: %[[K:.*]] = grade.contract "i,ij->j" %[[X]], %[[W]] : !grade.field<node, 4xf32>
// CHECK-DAG: %[[KS:.*]] = grade.gather src %[[G]], %[[K]]
// CHECK: grade.contract "i,i->" %[[KS]], %[[QD]]
func.func @test_hoist(%G: !grade.graph, %x: !grade.field<node, 4xf32>, %W: tensor<4x2xf32>) -> !grade.field<edge, f32> {
  %xs = grade.gather src %G, %x : !grade.field<node, 4xf32> -> !grade.field<edge, 4xf32>
  %xd = grade.gather dst %G, %x : !grade.field<node, 4xf32> -> !grade.field<edge, 4xf32>
  %t = grade.unary tanh %xd : !grade.field<edge, 4xf32>
  %q = grade.contract "i,ij->j" %t, %W : !grade.field<edge, 4xf32>, tensor<4x2xf32> -> !grade.field<edge, 2xf32>
  %k = grade.contract "i,ij->j" %xs, %W : !grade.field<edge, 4xf32>, tensor<4x2xf32> -> !grade.field<edge, 2xf32>
  %s = grade.contract "i,i->" %k, %q : !grade.field<edge, 2xf32>, !grade.field<edge, 2xf32> -> !grade.field<edge, f32>
  return %s : !grade.field<edge, f32>
}

// -----

// Element-wise work on source values stays per edge (hoisting it would
// need an extra kernel and buffer for little gain).
// CHECK-LABEL: func.func @test_not_hoist_src_elementwise
// CHECK: %[[XS:.*]] = grade.gather src
// CHECK: grade.unary exp %[[XS]] : !grade.field<edge, f32>
func.func @test_not_hoist_src_elementwise(%G: !grade.graph, %x: !grade.field<node, f32>) -> !grade.field<edge, f32> {
  %xs = grade.gather src %G, %x : !grade.field<node, f32> -> !grade.field<edge, f32>
  %e = grade.unary exp %xs : !grade.field<edge, f32>
  return %e : !grade.field<edge, f32>
}

// -----

// A global vector pulled out of a sum is multiplied into a field, never
// with another global (c * b would be arithmetic on global tensors).
// CHECK-LABEL: func.func @test_global_vector_factor
// CHECK-SAME: (%[[G:.*]]: !grade.graph, %[[C:.*]]: f64, %[[B:.*]]: tensor<2xf64>, %[[E:.*]]: !grade.field<edge, 2xf64>)
// CHECK-DAG: %[[S:.*]] = grade.reduce sum %[[G]], %[[E]]
// CHECK-DAG: grade.binary mul %[[S]], %[[C]] : !grade.field<node, 2xf64>, f64 -> !grade.field<node, 2xf64>
// CHECK-DAG: %[[D:.*]] = grade.degree %[[G]]
// CHECK-DAG: %[[DC:.*]] = grade.binary mul %[[D]], %[[C]] : !grade.field<node, f64>, f64 -> !grade.field<node, f64>
// CHECK-DAG: grade.binary mul %[[DC]], %[[B]] : !grade.field<node, f64>, tensor<2xf64> -> !grade.field<node, 2xf64>
// No product of two globals anywhere in the output (a CHECK-NOT here would
// only scan after the last CHECK-DAG match):
// NOGLOBAL-NOT: {{(tensor<2xf64>, f64|f64, tensor<2xf64>) ->}}
func.func @test_global_vector_factor(%G: !grade.graph, %c: f64, %b: tensor<2xf64>, %e: !grade.field<edge, 2xf64>) -> !grade.field<node, 2xf64> {
  %eb = grade.binary add %e, %b : !grade.field<edge, 2xf64>, tensor<2xf64> -> !grade.field<edge, 2xf64>
  %m = grade.binary mul %c, %eb : f64, !grade.field<edge, 2xf64> -> !grade.field<edge, 2xf64>
  %r = grade.reduce sum %G, %m : !grade.field<edge, 2xf64> -> !grade.field<node, 2xf64>
  return %r : !grade.field<node, 2xf64>
}

// -----

// Globals alone pulled out of a sum of several terms would give each term a
// reduction of its own, evaluating their shared factors (here the sigmoid)
// once per reduction: left as one reduction. A single term still gives its
// global factor up (one multiplication per node instead of per edge).
// CHECK-LABEL: func.func @test_global_terms
// CHECK-SAME: (%[[G:.*]]: !grade.graph, %[[C:.*]]: f64, %[[B:.*]]: tensor<2xf64>, %[[E:.*]]: !grade.field<edge, 2xf64>)
// CHECK: %[[S:.*]] = grade.unary sigmoid %[[E]]
// CHECK: %[[V:.*]] = grade.binary add %[[E]], %[[B]]
// CHECK: %[[P:.*]] = grade.binary mul %[[V]], %[[S]]
// CHECK: %[[R:.*]] = grade.reduce sum %[[G]], %[[P]]
// CHECK: %[[R2:.*]] = grade.reduce sum %[[G]], %[[S]]
// CHECK: %[[M:.*]] = grade.binary mul %[[R2]], %[[C]]
// CHECK-NOT: grade.reduce
// CHECK: return %[[R]], %{{.*}}
func.func @test_global_terms(%G: !grade.graph, %c: f64, %b: tensor<2xf64>, %e: !grade.field<edge, 2xf64>) -> (!grade.field<node, 2xf64>, !grade.field<node, 2xf64>) {
  %s = grade.unary sigmoid %e : !grade.field<edge, 2xf64>
  %v = grade.binary add %e, %b : !grade.field<edge, 2xf64>, tensor<2xf64> -> !grade.field<edge, 2xf64>
  %p = grade.binary mul %v, %s : !grade.field<edge, 2xf64>, !grade.field<edge, 2xf64> -> !grade.field<edge, 2xf64>
  %r = grade.reduce sum %G, %p : !grade.field<edge, 2xf64> -> !grade.field<node, 2xf64>
  %q = grade.binary mul %c, %s : f64, !grade.field<edge, 2xf64> -> !grade.field<edge, 2xf64>
  %r2 = grade.reduce sum %G, %q : !grade.field<edge, 2xf64> -> !grade.field<node, 2xf64>
  return %r, %r2 : !grade.field<node, 2xf64>, !grade.field<node, 2xf64>
}

// -----

// Over out-edges the destination is the far end, not a factor constant
// along the node's edges, and the count of a mean is the out-degree:
// out-reductions are left as they are (pulling x[dst] out as for sum_in
// would compute sum_j a_ij * x_i, a different value).
// CHECK-LABEL: func.func @test_out_reduction_untouched
// CHECK-SAME: (%[[G:.*]]: !grade.graph, %[[A:.*]]: !grade.field<edge, f32>, %[[X:.*]]: !grade.field<node, f32>, %[[C:.*]]: f32)
// CHECK: %[[XD:.*]] = grade.gather dst %[[G]], %[[X]]
// CHECK: %[[M:.*]] = grade.binary mul %[[A]], %[[XD]]
// CHECK: %[[MC:.*]] = grade.binary mul %[[M]], %[[C]]
// CHECK: %[[R:.*]] = grade.reduce sum out %[[G]], %[[MC]]
// CHECK-NOT: grade.degree
// CHECK-NOT: grade.nonempty_in
// CHECK: return %[[R]]
func.func @test_out_reduction_untouched(%G: !grade.graph, %a: !grade.field<edge, f32>, %x: !grade.field<node, f32>, %c: f32) -> !grade.field<node, f32> {
  %xd = grade.gather dst %G, %x : !grade.field<node, f32> -> !grade.field<edge, f32>
  %m = grade.binary mul %a, %xd : !grade.field<edge, f32>, !grade.field<edge, f32> -> !grade.field<edge, f32>
  %mc = grade.binary mul %m, %c : !grade.field<edge, f32>, f32 -> !grade.field<edge, f32>
  %r = grade.reduce sum out %G, %mc : !grade.field<edge, f32> -> !grade.field<node, f32>
  return %r : !grade.field<node, f32>
}

// -----

// An element-wise function of a destination value is not hoisted to the
// nodes when it is reduced over out-edges: there the destination is the
// other end, and tanh(x)[dst] would need tanh(x) stored by an earlier
// kernel. Reduced over in-edges, it is.
// CHECK-LABEL: func.func @test_out_no_dst_hoist
// CHECK-SAME: (%[[G:.*]]: !grade.graph, %[[X:.*]]: !grade.field<node, f32>)
// CHECK: %[[XD:.*]] = grade.gather dst %[[G]], %[[X]]
// CHECK: %[[T:.*]] = grade.unary tanh %[[XD]] : !grade.field<edge, f32>
// CHECK: grade.reduce sum out %[[G]], %[[T]]
// CHECK-LABEL: func.func @test_in_dst_hoist
// CHECK: %[[T:.*]] = grade.unary tanh %{{.*}} : !grade.field<node, f32>
// CHECK: grade.gather dst %{{.*}}, %[[T]]
func.func @test_out_no_dst_hoist(%G: !grade.graph, %x: !grade.field<node, f32>) -> !grade.field<node, f32> {
  %xd = grade.gather dst %G, %x : !grade.field<node, f32> -> !grade.field<edge, f32>
  %t = grade.unary tanh %xd : !grade.field<edge, f32>
  %r = grade.reduce sum out %G, %t : !grade.field<edge, f32> -> !grade.field<node, f32>
  return %r : !grade.field<node, f32>
}
func.func @test_in_dst_hoist(%G: !grade.graph, %x: !grade.field<node, f32>, %a: !grade.field<edge, f32>) -> !grade.field<node, f32> {
  %xd = grade.gather dst %G, %x : !grade.field<node, f32> -> !grade.field<edge, f32>
  %t = grade.unary tanh %xd : !grade.field<edge, f32>
  %m = grade.binary mul %a, %t : !grade.field<edge, f32>, !grade.field<edge, f32> -> !grade.field<edge, f32>
  %r = grade.reduce max %G, %m : !grade.field<edge, f32> -> !grade.field<node, f32>
  return %r : !grade.field<node, f32>
}

// -----

// Contractions of destination values move to the nodes like element-wise
// work (per-head dots, whose sum over in-edges then becomes degree times
// the node's value); over out-edges only products with a global matrix
// do (their work per edge outweighs a kernel boundary). Of source values,
// only products with a matrix move ("bi,ij->bj" too); a per-edge matrix
// times a gathered vector stays per edge.
// CHECK-LABEL: func.func @test_contract_hoist
// CHECK-SAME: (%[[G:.*]]: !grade.graph, %[[K:.*]]: !grade.field<node, 4x8xf32>, %[[F:.*]]: !grade.field<edge, 2x2xf32>, %[[Y:.*]]: !grade.field<node, 2xf32>, %[[B:.*]]: !grade.field<node, 3x2xf32>, %[[W:.*]]: tensor<2x2xf32>)
// CHECK-DAG: %[[H:.*]] = grade.contract "hd,hd->h" %[[K]], %[[K]] : !grade.field<node, 4x8xf32>, !grade.field<node, 4x8xf32> -> !grade.field<node, 4xf32>
// CHECK-DAG: grade.binary mul %{{.*}}, %[[H]] : !grade.field<node, f32>, !grade.field<node, 4xf32>
// CHECK-DAG: %[[KD:.*]] = grade.gather dst %[[G]], %[[K]]
// CHECK-DAG: %[[HO:.*]] = grade.contract "hd,hd->h" %[[KD]], %[[KD]] : !grade.field<edge, 4x8xf32>, !grade.field<edge, 4x8xf32> -> !grade.field<edge, 4xf32>
// CHECK-DAG: grade.reduce sum out %[[G]], %[[HO]]
// CHECK-DAG: %[[YW:.*]] = grade.contract "i,ij->j" %[[Y]], %[[W]] : !grade.field<node, 2xf32>, tensor<2x2xf32> -> !grade.field<node, 2xf32>
// CHECK-DAG: %[[YWD:.*]] = grade.gather dst %[[G]], %[[YW]]
// CHECK-DAG: grade.reduce sum out %[[G]], %[[YWD]]
// CHECK-DAG: %[[YS:.*]] = grade.gather src %[[G]], %[[Y]]
// CHECK-DAG: grade.contract "ij,j->i" %[[F]], %[[YS]] : !grade.field<edge, 2x2xf32>, !grade.field<edge, 2xf32> -> !grade.field<edge, 2xf32>
// CHECK-DAG: %[[BW:.*]] = grade.contract "bi,ij->bj" %[[B]], %[[W]] : !grade.field<node, 3x2xf32>, tensor<2x2xf32> -> !grade.field<node, 3x2xf32>
// CHECK-DAG: grade.gather src %[[G]], %[[BW]]
func.func @test_contract_hoist(%G: !grade.graph, %k: !grade.field<node, 4x8xf32>, %F: !grade.field<edge, 2x2xf32>, %y: !grade.field<node, 2xf32>, %b: !grade.field<node, 3x2xf32>, %W: tensor<2x2xf32>) -> (!grade.field<node, 4xf32>, !grade.field<node, 4xf32>, !grade.field<node, 2xf32>, !grade.field<node, 2xf32>, !grade.field<node, 3x2xf32>) {
  %kd = grade.gather dst %G, %k : !grade.field<node, 4x8xf32> -> !grade.field<edge, 4x8xf32>
  %h = grade.contract "hd,hd->h" %kd, %kd : !grade.field<edge, 4x8xf32>, !grade.field<edge, 4x8xf32> -> !grade.field<edge, 4xf32>
  %r1 = grade.reduce sum %G, %h : !grade.field<edge, 4xf32> -> !grade.field<node, 4xf32>
  %ho = grade.contract "hd,hd->h" %kd, %kd : !grade.field<edge, 4x8xf32>, !grade.field<edge, 4x8xf32> -> !grade.field<edge, 4xf32>
  %r2 = grade.reduce sum out %G, %ho : !grade.field<edge, 4xf32> -> !grade.field<node, 4xf32>
  %yd = grade.gather dst %G, %y : !grade.field<node, 2xf32> -> !grade.field<edge, 2xf32>
  %yw = grade.contract "i,ij->j" %yd, %W : !grade.field<edge, 2xf32>, tensor<2x2xf32> -> !grade.field<edge, 2xf32>
  %r3 = grade.reduce sum out %G, %yw : !grade.field<edge, 2xf32> -> !grade.field<node, 2xf32>
  %ys = grade.gather src %G, %y : !grade.field<node, 2xf32> -> !grade.field<edge, 2xf32>
  %fy = grade.contract "ij,j->i" %F, %ys : !grade.field<edge, 2x2xf32>, !grade.field<edge, 2xf32> -> !grade.field<edge, 2xf32>
  %r4 = grade.reduce sum %G, %fy : !grade.field<edge, 2xf32> -> !grade.field<node, 2xf32>
  %bs = grade.gather src %G, %b : !grade.field<node, 3x2xf32> -> !grade.field<edge, 3x2xf32>
  %bw = grade.contract "bi,ij->bj" %bs, %W : !grade.field<edge, 3x2xf32>, tensor<2x2xf32> -> !grade.field<edge, 3x2xf32>
  %r5 = grade.reduce sum %G, %bw : !grade.field<edge, 3x2xf32> -> !grade.field<node, 3x2xf32>
  return %r1, %r2, %r3, %r4, %r5 : !grade.field<node, 4xf32>, !grade.field<node, 4xf32>, !grade.field<node, 2xf32>, !grade.field<node, 2xf32>, !grade.field<node, 3x2xf32>
}

// -----

// A message MLP's first layer, concat(h[dst], h[src], e, s, c) @ W: the
// products of the gathered vectors with their rows of W move to the nodes
// (then gathered), the other pieces stay together with theirs, and the
// shares are added in the concatenation's order.
// CHECK-DAG: #[[$ROWS0:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$ROWS4:.*]] = affine_map<(d0, d1) -> (d0 + 4, d1)>
// CHECK-DAG: #[[$ROWS8:.*]] = affine_map<(d0, d1) -> (d0 + 8, d1)>
// CHECK-LABEL: func.func @test_split_concat
// CHECK-SAME: (%[[G:.*]]: !grade.graph, %[[H:.*]]: !grade.field<node, 4xf64>, %[[E:.*]]: !grade.field<edge, 2xf64>, %[[S:.*]]: !grade.field<edge, f64>, %[[C:.*]]: f64, %[[W:.*]]: tensor<12x3xf64>)
// CHECK: %[[W0:.*]] = grade.reindex %[[W]] by #[[$ROWS0]] : tensor<12x3xf64> -> tensor<4x3xf64>
// CHECK: %[[HW0:.*]] = grade.contract "i,ij->j" %[[H]], %[[W0]] : !grade.field<node, 4xf64>, tensor<4x3xf64> -> !grade.field<node, 3xf64>
// CHECK: %[[D:.*]] = grade.gather dst %[[G]], %[[HW0]]
// CHECK: %[[W4:.*]] = grade.reindex %[[W]] by #[[$ROWS4]] : tensor<12x3xf64> -> tensor<4x3xf64>
// CHECK: %[[HW4:.*]] = grade.contract "i,ij->j" %[[H]], %[[W4]] : !grade.field<node, 4xf64>, tensor<4x3xf64> -> !grade.field<node, 3xf64>
// CHECK: %[[SR:.*]] = grade.gather src %[[G]], %[[HW4]]
// CHECK: %[[DS:.*]] = grade.binary add %[[D]], %[[SR]]
// CHECK: %[[REST:.*]] = grade.concat %[[E]], %[[S]], %[[C]] : !grade.field<edge, 2xf64>, !grade.field<edge, f64>, f64 -> !grade.field<edge, 4xf64>
// CHECK: %[[W8:.*]] = grade.reindex %[[W]] by #[[$ROWS8]] : tensor<12x3xf64> -> tensor<4x3xf64>
// CHECK: %[[RW:.*]] = grade.contract "i,ij->j" %[[REST]], %[[W8]] : !grade.field<edge, 4xf64>, tensor<4x3xf64> -> !grade.field<edge, 3xf64>
// CHECK: %[[Y:.*]] = grade.binary add %[[DS]], %[[RW]]
// CHECK: return %[[Y]]
func.func @test_split_concat(%G: !grade.graph, %h: !grade.field<node, 4xf64>, %e: !grade.field<edge, 2xf64>, %s: !grade.field<edge, f64>, %c: f64, %W: tensor<12x3xf64>) -> !grade.field<edge, 3xf64> {
  %hd = grade.gather dst %G, %h : !grade.field<node, 4xf64> -> !grade.field<edge, 4xf64>
  %hs = grade.gather src %G, %h : !grade.field<node, 4xf64> -> !grade.field<edge, 4xf64>
  %m = grade.concat %hd, %hs, %e, %s, %c : !grade.field<edge, 4xf64>, !grade.field<edge, 4xf64>, !grade.field<edge, 2xf64>, !grade.field<edge, f64>, f64 -> !grade.field<edge, 12xf64>
  %y = grade.contract "i,ij->j" %m, %W : !grade.field<edge, 12xf64>, tensor<12x3xf64> -> !grade.field<edge, 3xf64>
  return %y : !grade.field<edge, 3xf64>
}

// -----

// Runs of other pieces on both sides of a gathered vector; a scalar alone
// takes one row of W.
// CHECK-DAG: #[[$ROW6:.*]] = affine_map<(d0) -> (6, d0)>
// CHECK-LABEL: func.func @test_split_concat_scalar_part
// CHECK-SAME: (%[[G:.*]]: !grade.graph, %[[H:.*]]: !grade.field<node, 4xf64>, %[[E:.*]]: !grade.field<edge, 2xf64>, %[[S:.*]]: !grade.field<edge, f64>, %[[W:.*]]: tensor<7x3xf64>)
// CHECK: grade.contract "a,ab->b" %[[E]], %{{.*}} : !grade.field<edge, 2xf64>, tensor<2x3xf64> -> !grade.field<edge, 3xf64>
// CHECK: %[[HW:.*]] = grade.contract "a,ab->b" %[[H]], %{{.*}} : !grade.field<node, 4xf64>, tensor<4x3xf64> -> !grade.field<node, 3xf64>
// CHECK: grade.gather src %[[G]], %[[HW]]
// CHECK: %[[ROW:.*]] = grade.reindex %[[W]] by #[[$ROW6]] : tensor<7x3xf64> -> tensor<3xf64>
// CHECK: grade.contract ",j->j" %[[S]], %[[ROW]] : !grade.field<edge, f64>, tensor<3xf64> -> !grade.field<edge, 3xf64>
// CHECK-NOT: grade.concat
func.func @test_split_concat_scalar_part(%G: !grade.graph, %h: !grade.field<node, 4xf64>, %e: !grade.field<edge, 2xf64>, %s: !grade.field<edge, f64>, %W: tensor<7x3xf64>) -> !grade.field<edge, 3xf64> {
  %hs = grade.gather src %G, %h : !grade.field<node, 4xf64> -> !grade.field<edge, 4xf64>
  %m = grade.concat %e, %hs, %s : !grade.field<edge, 2xf64>, !grade.field<edge, 4xf64>, !grade.field<edge, f64> -> !grade.field<edge, 7xf64>
  %y = grade.contract "a,ab->b" %m, %W : !grade.field<edge, 7xf64>, tensor<7x3xf64> -> !grade.field<edge, 3xf64>
  return %y : !grade.field<edge, 3xf64>
}

// -----

// Left alone: a run of globals only (c @ W's last row is no kernel's work),
// no gathered vector (a gathered scalar saves nothing), a max-contraction.
// CHECK-LABEL: func.func @test_no_split
// CHECK-NOT: grade.reindex
// CHECK: grade.contract "i,ij->j" %{{.*}}, %{{.*}} : !grade.field<edge, 5xf64>, tensor<5x3xf64>
// CHECK: grade.contract "i,ij->j" %{{.*}}, %{{.*}} : !grade.field<edge, 3xf64>, tensor<3x3xf64>
// CHECK: grade.contract max "i,ij->j" %{{.*}}, %{{.*}} : !grade.field<edge, 5xf64>, tensor<5x3xf64>
func.func @test_no_split(%G: !grade.graph, %h: !grade.field<node, 4xf64>, %x: !grade.field<node, f64>, %e: !grade.field<edge, 2xf64>, %c: f64, %W: tensor<5x3xf64>, %V: tensor<3x3xf64>) -> (!grade.field<edge, 3xf64>, !grade.field<edge, 3xf64>, !grade.field<edge, 3xf64>) {
  %hs = grade.gather src %G, %h : !grade.field<node, 4xf64> -> !grade.field<edge, 4xf64>
  %m = grade.concat %hs, %c : !grade.field<edge, 4xf64>, f64 -> !grade.field<edge, 5xf64>
  %y = grade.contract "i,ij->j" %m, %W : !grade.field<edge, 5xf64>, tensor<5x3xf64> -> !grade.field<edge, 3xf64>
  %xs = grade.gather src %G, %x : !grade.field<node, f64> -> !grade.field<edge, f64>
  %n = grade.concat %xs, %e : !grade.field<edge, f64>, !grade.field<edge, 2xf64> -> !grade.field<edge, 3xf64>
  %z = grade.contract "i,ij->j" %n, %V : !grade.field<edge, 3xf64>, tensor<3x3xf64> -> !grade.field<edge, 3xf64>
  %hd = grade.gather dst %G, %h : !grade.field<node, 4xf64> -> !grade.field<edge, 4xf64>
  %k = grade.concat %hd, %c : !grade.field<edge, 4xf64>, f64 -> !grade.field<edge, 5xf64>
  %w = grade.contract max "i,ij->j" %k, %W : !grade.field<edge, 5xf64>, tensor<5x3xf64> -> !grade.field<edge, 3xf64>
  return %y, %z, %w : !grade.field<edge, 3xf64>, !grade.field<edge, 3xf64>, !grade.field<edge, 3xf64>
}

// -----

// Reshaped gathers count as gathered vectors (Neural Sheaf Diffusion's
// [x_v || x_u] of 3 x 4 stalks): the reshape moves to the nodes with the
// product.
// CHECK-LABEL: func.func @test_split_concat_reshaped
// CHECK-SAME: (%[[G:.*]]: !grade.graph, %[[X:.*]]: !grade.field<node, 3x4xf64>, %[[W:.*]]: tensor<24x9xf64>)
// CHECK-DAG: %[[XD:.*]] = grade.reindex %[[X]] by #{{.*}} : !grade.field<node, 3x4xf64> -> !grade.field<node, 12xf64>
// CHECK-DAG: %[[PD:.*]] = grade.contract "i,ij->j" %[[XD]], %{{.*}} : !grade.field<node, 12xf64>, tensor<12x9xf64> -> !grade.field<node, 9xf64>
// CHECK-DAG: %[[ED:.*]] = grade.gather dst %[[G]], %[[PD]] : !grade.field<node, 9xf64> -> !grade.field<edge, 9xf64>
// CHECK-DAG: %[[XS:.*]] = grade.reindex %[[X]] by #{{.*}} : !grade.field<node, 3x4xf64> -> !grade.field<node, 12xf64>
// CHECK-DAG: %[[PS:.*]] = grade.contract "i,ij->j" %[[XS]], %{{.*}} : !grade.field<node, 12xf64>, tensor<12x9xf64> -> !grade.field<node, 9xf64>
// CHECK-DAG: %[[ES:.*]] = grade.gather src %[[G]], %[[PS]] : !grade.field<node, 9xf64> -> !grade.field<edge, 9xf64>
// CHECK: %[[Y:.*]] = grade.binary add %[[ED]], %[[ES]]
// CHECK-NOT: grade.concat
// CHECK: return %[[Y]]
#flat = affine_map<(d0) -> (d0 floordiv 4, d0 mod 4)>
func.func @test_split_concat_reshaped(%G: !grade.graph, %x: !grade.field<node, 3x4xf64>, %W: tensor<24x9xf64>) -> !grade.field<edge, 9xf64> {
  %xd = grade.gather dst %G, %x : !grade.field<node, 3x4xf64> -> !grade.field<edge, 3x4xf64>
  %fd = grade.reindex %xd by #flat : !grade.field<edge, 3x4xf64> -> !grade.field<edge, 12xf64>
  %xs = grade.gather src %G, %x : !grade.field<node, 3x4xf64> -> !grade.field<edge, 3x4xf64>
  %fs = grade.reindex %xs by #flat : !grade.field<edge, 3x4xf64> -> !grade.field<edge, 12xf64>
  %m = grade.concat %fd, %fs : !grade.field<edge, 12xf64>, !grade.field<edge, 12xf64> -> !grade.field<edge, 24xf64>
  %y = grade.contract "i,ij->j" %m, %W : !grade.field<edge, 24xf64>, tensor<24x9xf64> -> !grade.field<edge, 9xf64>
  return %y : !grade.field<edge, 9xf64>
}

// -----

// Contractions of three or more operands become contractions of two in
// the greedy order: a sheaf Laplacian's off-diagonal block S_i F_ij^T
// F_ji S_j (3 x 27 multiplications instead of 3 x 243) and W1 x W2 per
// node, whose globals are never paired with each other. Left alone: a
// maximum of products, and a triple product that pairs cost no less
// ("i,i,i->": 2 x 8 either way).
// CHECK-LABEL: func.func @test_decompose_contraction
// CHECK-SAME: (%[[SD:.*]]: !grade.field<edge, 3x3xf64>, %[[FI:.*]]: !grade.field<edge, 3x3xf64>, %[[FJ:.*]]: !grade.field<edge, 3x3xf64>, %[[SS:.*]]: !grade.field<edge, 3x3xf64>, %[[W1:.*]]: tensor<3x3xf64>, %[[X:.*]]: !grade.field<node, 3x4xf64>, %[[W2:.*]]: tensor<4x4xf64>, %[[V:.*]]: !grade.field<node, 8xf64>)
// CHECK: %[[T1:.*]] = grade.contract "ab,kb->ak" %[[SD]], %[[FI]] : !grade.field<edge, 3x3xf64>, !grade.field<edge, 3x3xf64> -> !grade.field<edge, 3x3xf64>
// CHECK: %[[T2:.*]] = grade.contract "ak,kc->ac" %[[T1]], %[[FJ]]
// CHECK: %[[L:.*]] = grade.contract "ac,cd->ad" %[[T2]], %[[SS]]
// CHECK: %[[Y1:.*]] = grade.contract "ab,bf->af" %[[W1]], %[[X]] : tensor<3x3xf64>, !grade.field<node, 3x4xf64> -> !grade.field<node, 3x4xf64>
// CHECK: %[[Y:.*]] = grade.contract "af,fg->ag" %[[Y1]], %[[W2]] : !grade.field<node, 3x4xf64>, tensor<4x4xf64> -> !grade.field<node, 3x4xf64>
// CHECK: %[[M:.*]] = grade.contract max "ab,kb,kc->ac" %[[SD]], %[[FI]], %[[FJ]]
// CHECK: %[[P:.*]] = grade.contract "i,i,i->" %[[V]], %[[V]], %[[V]]
// CHECK: return %[[L]], %[[Y]], %[[M]], %[[P]]
func.func @test_decompose_contraction(%sd: !grade.field<edge, 3x3xf64>, %fi: !grade.field<edge, 3x3xf64>, %fj: !grade.field<edge, 3x3xf64>, %ss: !grade.field<edge, 3x3xf64>, %w1: tensor<3x3xf64>, %x: !grade.field<node, 3x4xf64>, %w2: tensor<4x4xf64>, %v: !grade.field<node, 8xf64>) -> (!grade.field<edge, 3x3xf64>, !grade.field<node, 3x4xf64>, !grade.field<edge, 3x3xf64>, !grade.field<node, f64>) {
  %l = grade.contract "ab,kb,kc,cd->ad" %sd, %fi, %fj, %ss : !grade.field<edge, 3x3xf64>, !grade.field<edge, 3x3xf64>, !grade.field<edge, 3x3xf64>, !grade.field<edge, 3x3xf64> -> !grade.field<edge, 3x3xf64>
  %y = grade.contract "ab,bf,fg->ag" %w1, %x, %w2 : tensor<3x3xf64>, !grade.field<node, 3x4xf64>, tensor<4x4xf64> -> !grade.field<node, 3x4xf64>
  %m = grade.contract max "ab,kb,kc->ac" %sd, %fi, %fj : !grade.field<edge, 3x3xf64>, !grade.field<edge, 3x3xf64>, !grade.field<edge, 3x3xf64> -> !grade.field<edge, 3x3xf64>
  %p = grade.contract "i,i,i->" %v, %v, %v : !grade.field<node, 8xf64>, !grade.field<node, 8xf64>, !grade.field<node, 8xf64> -> !grade.field<node, f64>
  return %l, %y, %m, %p : !grade.field<edge, 3x3xf64>, !grade.field<node, 3x4xf64>, !grade.field<edge, 3x3xf64>, !grade.field<node, f64>
}
