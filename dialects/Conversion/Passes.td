//===- Passes.td - conversions out of the grade dialect ----*- tablegen -*-===//

#ifndef GRADE_DIALECTS_CONVERSION_PASSES_TD
#define GRADE_DIALECTS_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def FormKernels : Pass<"grade-form-kernels", "::mlir::ModuleOp"> {
  let summary = "group each region's values into gk.kernel ops";
  let description = [{
    The fusion decision. In `grade.init`, `grade.rhs` and `grade.step`, a
    value that a later computation reads at other nodes (through
    `grade.gather src` over in-edges, `grade.gather dst` over out-edges) must
    be in memory before that computation starts, and a global reduction of a
    field is known only after the field's last row: these are the only
    reasons to end a kernel. Everything else of a level is one `gk.kernel`:
    a loop over nodes (and over each node's edges) whose results are the
    level's values that are yielded, read by a later kernel, or reduced to a
    global. Edge values are recomputed where they are needed, never stored
    (only edge lets and edge states, which the model asks to keep, are
    results); node values cheaper to recompute than to store (degrees,
    reductions of graph invariants, element-wise combinations of buffers)
    are recomputed too. Each kernel names what it captures and how it reads
    it (`local`, `remote`, `both`, `uniform`).

    ```mlir
    %u = grade.load @u : !grade.field<node, f64>
    %r = gk.kernel "heat_rhs_kernel0" over nodes
        (%g = %G : !grade.graph uniform, %x = %u : !grade.field<node, f64> both)
        -> (!grade.field<node, f64>) {
      %xs = grade.gather src %g, %x : ...
      ...
      gk.yield %dx : !grade.field<node, f64>
    }
    grade.yield %r : !grade.field<node, f64>
    ```
  }];
  let dependentDialects = ["::grade::gk::GKDialect"];
}

def ConvertGKToSCF : Pass<"convert-gk-to-scf", "::mlir::ModuleOp"> {
  let summary = "write the kernels and entry points as CPU loops";
  let description = [{
    Transcribes the plan: each `gk.entry` becomes `gradegen_entry_<kind>`
    taking the runtime's slot array, which views the buffers
    (`grade.slot`), evaluates the globals and calls one private function per
    `gk.launch`; each kernel becomes `scf.parallel` over nodes (or blocks of
    nodes, for global reductions) with `scf.for` loops over each node's
    in-edges or out-edges in the scheduled passes, per-node and per-edge
    values in registers or small scratch arrays, and the results stored per
    node in the epilogue or per edge in the last pass. Rows read at the
    other end of the edges are prefetched (`prefetch=false` turns it off).
    In a kernel of several passes over the in-edges, an edge value a later
    pass reads again and that costs a row read at the other end, a
    transcendental function or a contraction is stored per edge of the node
    by the first pass that computes it and read back by the later ones
    (`cache-edge-values=false` recomputes it in each, as the GPU flavour
    does).

    With `cuda=true` every entry is lowered a second time as
    `gradegen_cuda_entry_<kind>` (attribute `grade.gpu_entry`), calling
    `<kernel>_cuda` (attribute `grade.gpu_kernel`, no prefetches), for
    convert-kernels-to-gpu; `cpu=false` leaves out the CPU flavour.

    Node numbers in the graph arrays (in-edge sources, out-edge targets)
    are `i32` (`index-bits=32`, the default) or `i64`; the pass records the
    choice on the model's `grade.graph` (`index(i32)`), where the library's
    descriptor reads it. A graph that declares its index type keeps it.
  }];
  let options = [
    Option<"prefetch", "prefetch", "bool", /*default=*/"true",
           "prefetch rows read at the other end of the edges">,
    Option<"cacheEdgeValues", "cache-edge-values", "bool", /*default=*/"true",
           "keep costly edge values later passes read again (cpu)">,
    Option<"cpu", "cpu", "bool", /*default=*/"true",
           "lower the entries for the CPU (gradegen_entry_<kind>)">,
    Option<"cuda", "cuda", "bool", /*default=*/"false",
           "lower the entries for the GPU too (gradegen_cuda_entry_<kind>)">,
    Option<"indexBits", "index-bits", "unsigned", /*default=*/"32",
           "width of the node numbers in the graph arrays (32 or 64) where "
           "the model's grade.graph does not declare it">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
    "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect", "::mlir::LLVM::LLVMDialect"
  ];
}

def ConvertKernelsToGPU : Pass<"convert-kernels-to-gpu", "::mlir::ModuleOp"> {
  let summary = "map the GPU flavour's kernel loops onto GPU threads";
  let description = [{
    Takes the GPU flavour written by `convert-gk-to-scf{cuda=true}`: each
    function marked `grade.gpu_kernel` (one `scf.parallel` over nodes, or
    blocks of nodes) becomes a `gpu.func` of `gpu.module @gradegen_kernels`
    mapped onto threads by a schedule chosen per kernel (`grade.schedule`):
    `rows` (a thread per iteration), `lanes(L)` (L threads per node over its
    features), `balanced(32)` (a thread per node, a warp for each node of
    more than 32 in-edges) or `warp-reduce(32)` (a warp per block of nodes
    of a global reduction), guarded by the loop's bound; each call becomes a
    `gpu.launch_func` over ceil(threads / block-size) blocks of block-size
    threads, the bound recomputed on the host. In the entries marked
    `grade.gpu_entry`, host allocations become `gpu.alloc host_shared`
    (freed through `mgpuMemFree`), since kernels write them. A module without
    GPU functions is left as it is.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"128",
           "threads per block (a multiple of 32, at most 1024)">,
    Option<"schedule", "schedule", "std::string", /*default=*/"\"auto\"",
           "how kernels map onto threads: auto (lanes where the features "
           "allow, else balanced where the kernel allows, else rows), rows "
           "(a thread per node), lanes (32 threads per node), balanced (a "
           "thread per node of at most 32 in-edges, a warp per node above); "
           "lanes and balanced are errors where a kernel cannot">,
    Option<"emulate", "emulate", "bool", /*default=*/"false",
           "also keep each kernel as a host function of the thread ids, "
           "`<kernel>_emulated`, for tests without a GPU">
  ];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect", "::mlir::arith::ArithDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
    "::mlir::LLVM::LLVMDialect", "::mlir::NVVM::NVVMDialect"
  ];
}

def AnnotateGPUKernels : Pass<"grade-annotate-gpu-kernels",
                              "::mlir::gpu::GPUModuleOp"> {
  let summary = "mark the read-only buffers of the lowered GPU kernels";
  let description = [{
    After convert-gpu-to-nvvm: the pointer parameters listed in a kernel's
    `grade.read_only_params` (set by convert-kernels-to-gpu: buffers the
    kernel reads, never writes, and that are distinct allocations) get
    `llvm.noalias` and `llvm.readonly`, so that the NVPTX backend reads them
    through the read-only data cache (`ld.global.nc`).
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def ParallelToOpenMP : Pass<"grade-parallel-to-openmp", "::mlir::ModuleOp"> {
  let summary = "run the kernels' parallel loops as OpenMP regions, "
                "each thread a contiguous block";
  let description = [{
    Each one-dimensional `scf.parallel` without results, outside the GPU
    module, not nested in another parallel loop and not marked
    `grade.reduction_blocks`, becomes an `omp.parallel` region whose
    threads run `scf.for` over their own block of the iterations, computed
    from `omp_get_thread_num()` and `omp_get_num_threads()`; a body that
    allocates saves and restores the stack pointer around each iteration.
    Unlike convert-scf-to-openmp's worksharing loop this calls no
    `__kmpc_for_static_init` (which formats trace strings in Debian's
    libomp, 0.3 us a call) and adds no barrier before the region's end.
    Other loops are left to convert-scf-to-openmp.
  }];
  let dependentDialects = ["::mlir::omp::OpenMPDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::LLVM::LLVMDialect"];
}

def ConvertGradeToLLVM : Pass<"convert-grade-to-llvm", "::mlir::ModuleOp"> {
  let summary = "lower grade.slot views of the slot table to LLVM";
  let description = [{
    `grade.slot` becomes a load from the kernels' slot table and a memref
    descriptor built around the pointer. The lowered `grade.model` (its
    declarations, scheme and buffer plan) is kept for
    `grade-emit-descriptor`, which runs once the kernels are LLVM functions.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def EmitDescriptor : Pass<"grade-emit-descriptor", "::mlir::ModuleOp"> {
  let summary = "emit each lowered model's static descriptor (model ABI v2)";
  let description = [{
    Turns each lowered `grade.model` into the static data of
    `grade/model_abi.h`: the field table, the slot table (graph arrays,
    fields, temporaries, derivative outputs), the scheme's Butcher tableau,
    the entry points `init`, `rhs` and `step` (with the slots a step swaps)
    and the hooks of the kernels' OpenMP thread pool, all as LLVM constants;
    then the exported `grade_model_descriptor()` and its model-specific
    alias `grade_<model>_model_descriptor()`, and erases the model. Every
    user string (model name, source path, field names) is stored as data,
    NUL-terminated. Runs after the kernels are LLVM functions, so that the
    entry table can take their addresses.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // GRADE_DIALECTS_CONVERSION_PASSES_TD
