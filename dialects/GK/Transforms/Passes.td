//===- Passes.td - passes on the gk dialect ----------------*- tablegen -*-===//

#ifndef GRADE_DIALECTS_GK_TRANSFORMS_PASSES_TD
#define GRADE_DIALECTS_GK_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def ScheduleEdgePasses : Pass<"gk-schedule-edge-passes", "::mlir::ModuleOp"> {
  let summary = "number the passes over each node's edges";
  let description = [{
    Inside every `gk.kernel`, assigns each `grade.reduce` the pass over the
    node's edges that accumulates it (`gk.pass`) and records the number of
    passes (`passes N`). A reduction is accumulated in the first pass after
    every reduction its input reads is complete: a sum of messages takes one
    pass, a softmax three (maximum, sum of exponentials, use). A pass over
    in-edges and a pass over out-edges may share a number: both run after
    the same earlier passes. Edge results and global reductions of edge
    fields are computed in the last pass.

    ```mlir
    %m = grade.reduce max %g, %s {gk.pass = 0 : i64} : ...
    %e = grade.reduce sum %g, %x {gk.pass = 1 : i64} : ...
    ```
  }];
  let dependentDialects = ["::grade::gk::GKDialect"];
}

def AllocateBuffers : Pass<"gk-allocate-buffers", "::mlir::ModuleOp"> {
  let summary = "give every kernel result a buffer";
  let description = [{
    Decides where each field result of a `gk.kernel` lives:

    - a value yielded to a region's target goes to the target's declaration
      (updated in place) unless a later kernel, or a neighbour in the same
      kernel, still reads the target's old value; then it goes to a
      temporary that the runtime swaps in after the step (`swaps` on the
      model);
    - the derivatives of `grade.rhs` go to `d_<state>_<n>` temporaries the
      runtime points at the caller's arrays (`rhs_outputs` on the model);
    - other results go to `tmp<n>` temporaries (`grade.decl temp`), reused
      once their last reader has run, or by the very kernel that last reads
      them when it reads them only at the rows it writes. Temporaries are
      shared by the regions of a model.

    The `gk.kernel` verifier checks the plan: no kernel reads a value from a
    buffer that a kernel overwrote since the value was produced, and no
    kernel overwrites a buffer it reads at other rows.
  }];
  let dependentDialects = ["::grade::gk::GKDialect"];
}

def CheckFinite : Pass<"gk-check-finite", "::mlir::ModuleOp"> {
  let summary = "check the new states of each step for NaN and Inf";
  let description = [{
    Marks the results of the `grade.step` kernels that are the new values of
    states `checked`. A checked result costs a subtraction and an or per
    element, accumulated per node, and a store to the step's status flag
    (`GRADE_SLOT_STATUS`) when a node produced a NaN or an infinity. The
    runtime clears the flag before each step and reads it after: a step
    that produced a non-finite state is reported at that step, without a
    scan of the states.

    ```mlir
    %x = gk.kernel "m_step_kernel0" ... -> (!grade.field<node, f64> in @x checked)
    ```
  }];
  let dependentDialects = ["::grade::gk::GKDialect"];
}

def ChooseSchedule : Pass<"gk-choose-schedule", "::mlir::ModuleOp"> {
  let summary = "choose how each kernel's nodes are split among threads";
  let description = [{
    Gives every `gk.kernel` that walks edges (`passes N`, N > 0) and has no
    global reduction (which fixes its blocks) the iteration space
    `over balanced(C)`: C chunks of consecutive nodes with about equal
    numbers of in-edges plus nodes, so that a static split of the chunks
    among threads balances a graph whose degrees grow or shrink along the
    node order. Kernels without edge passes keep `over nodes` (their work
    per node is the same everywhere). `schedule=nodes` keeps every kernel
    over nodes and `schedule=balanced` balances every kernel without
    global reductions, for experiments (gradec --cpu-schedule). The GPU
    flavour maps nodes onto threads itself and ignores the choice.

    With `wide-vectors=512` (a CPU whose 512-bit vectors LLVM does not use
    by default, AVX-512), kernels that multiply rows by a global matrix
    whose rows fill eight such registers or more (64 f64, 128 f32) get
    `vectors(512)`: their time goes to multiply-adds, which the wide vectors
    halve (MP-PDE 1.3x, bench/README.md "Vector width"), where the
    memory-bound kernels and those of short rows lose with them.

    ```mlir
    %r = gk.kernel "heat_rhs_kernel0" over balanced(256) (...) -> (...) passes 1 {...}
    ```
  }];
  let options = [
    Option<"schedule", "schedule", "std::string", /*default=*/"\"auto\"",
           "auto, nodes or balanced">,
    Option<"chunks", "chunks", "int64_t", /*default=*/"256",
           "chunks of a balanced kernel">,
    Option<"wideVectors", "wide-vectors", "int64_t", /*default=*/"0",
           "vector bits for kernels of long matrix rows (512, or 0: none)">
  ];
  let dependentDialects = ["::grade::gk::GKDialect"];
}

def LowerEntryPoints : Pass<"gk-lower-entry-points", "::mlir::ModuleOp"> {
  let summary = "outline kernels and schedule them in entry points";
  let description = [{
    Moves each `gk.kernel` to a module-level `gk.func` named
    `<model>_<region>_kernel<n>`, and turns each region (`grade.init`,
    `grade.rhs`, `grade.step`) into a `gk.entry` whose body launches the
    kernels (`gk.launch`) in order, with the globals between them evaluated
    on the host. The plan is then complete and target-independent.
  }];
  let dependentDialects = ["::grade::gk::GKDialect"];
}

#endif // GRADE_DIALECTS_GK_TRANSFORMS_PASSES_TD
