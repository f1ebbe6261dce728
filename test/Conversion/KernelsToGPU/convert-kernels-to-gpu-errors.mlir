// RUN: grade-opt %s --convert-kernels-to-gpu --split-input-file --verify-diagnostics
// RUN: not grade-opt %s --convert-kernels-to-gpu='block-size=100' --split-input-file 2>&1 | FileCheck %s --check-prefix=BLOCK
// BLOCK: error: block-size 100 is not a multiple of 32 between 32 and 1024

// Host work in a kernel outside its loop cannot run on the GPU.
module {
  func.func private @k_cuda(%x: memref<?xf64>, %n: index) attributes {grade.gpu_kernel} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %f = arith.constant 1.0 : f64
    // expected-error @below {{in a kernel, outside its loop over nodes, cannot run on the GPU}}
    memref.store %f, %x[%c0] : memref<?xf64>
    scf.parallel (%i) = (%c0) to (%n) step (%c1) {
      scf.reduce
    }
    return
  }
}

// -----

// expected-error @below {{has no loop over nodes to map onto GPU threads}}
func.func private @k_cuda(%n: index) attributes {grade.gpu_kernel} {
  return
}

// -----

func.func private @k_cuda(%n: index) attributes {grade.gpu_kernel} {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  // expected-error @below {{is not a one-dimensional loop from 0 by 1 without reductions}}
  scf.parallel (%i) = (%c0) to (%n) step (%c2) {
    scf.reduce
  }
  return
}

// -----

// A launch in a loop of an entry would escape the host's waits.
module {
  func.func private @k_cuda(%n: index) attributes {grade.gpu_kernel} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    scf.parallel (%i) = (%c0) to (%n) step (%c1) {
      scf.reduce
    }
    return
  }
  func.func @gradegen_cuda_entry_rhs(%n: index) attributes {grade.gpu_entry} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    scf.for %i = %c0 to %n step %c1 {
      // expected-error @below {{'gpu.launch_func' op in a loop or branch of a GPU entry}}
      func.call @k_cuda(%n) : (index) -> ()
    }
    return
  }
}
