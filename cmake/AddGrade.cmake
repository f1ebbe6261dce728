#===- AddGrade.cmake - helpers for grade's compiler libraries and tools ---===#
#
# add_grade_library(name src... [DEPENDS tgt...] [MLIR_LIBS lib...]
#                   [LINK_LIBS lib...])
#   A static library of compiler code. MLIR libraries are linked through
#   mlir_target_link_libraries, so that with MLIR_LINK_MLIR_DYLIB they all
#   resolve to the one libMLIR.so (never a mix of static and shared MLIR).
#
# add_grade_tool(name src... [LINK_LIBS lib...])
#   An executable in build/bin linked against libMLIR.so and libLLVM.so.
#
#===----------------------------------------------------------------------===#

# Every compiler library and tool links MLIR as one shared library: fast
# links and a single copy of MLIR's registries per process.
set(MLIR_LINK_MLIR_DYLIB ON)

function(add_grade_library name)
  cmake_parse_arguments(ARG "" "" "DEPENDS;MLIR_LIBS;LINK_LIBS" ${ARGN})
  add_library(${name} STATIC ${ARG_UNPARSED_ARGUMENTS})
  if(ARG_DEPENDS)
    add_dependencies(${name} ${ARG_DEPENDS})
  endif()
  if(ARG_MLIR_LIBS)
    mlir_target_link_libraries(${name} PUBLIC ${ARG_MLIR_LIBS})
  endif()
  target_link_libraries(${name} PUBLIC ${ARG_LINK_LIBS} LLVM)
  llvm_update_compile_flags(${name})
endfunction()

function(add_grade_tool name)
  cmake_parse_arguments(ARG "" "" "LINK_LIBS" ${ARGN})
  add_llvm_executable(${name} ${ARG_UNPARSED_ARGUMENTS})
  llvm_update_compile_flags(${name})
  target_link_libraries(${name} PRIVATE ${ARG_LINK_LIBS} MLIR LLVM)
  set_target_properties(${name} PROPERTIES
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin
    BUILD_RPATH "/usr/lib/llvm-22/lib;${CMAKE_BINARY_DIR}/lib")
endfunction()
