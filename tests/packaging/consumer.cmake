# SPDX-License-Identifier: Apache-2.0
# Shared by the consumer projects: the one program each builds, warnings when the parent
# build asks for -Werror, and a file naming the program for run_consumer.cmake.
set(_bertpp_consumer_dir "${CMAKE_CURRENT_LIST_DIR}")

function(bertpp_consumer_program target)
  add_executable(${target} "${_bertpp_consumer_dir}/consumer_main.cpp")
  target_link_libraries(${target} PRIVATE bertpp::bertpp)
  if(BERTPP_CONSUMER_WERROR AND CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Werror)
  endif()
  file(GENERATE OUTPUT "${CMAKE_BINARY_DIR}/consumer-exe-$<CONFIG>.txt"
       CONTENT "$<TARGET_FILE:${target}>")
endfunction()

# bertpp_check_nested(<bertpp source dir>): bertpp, added below a consumer, leaves its
# options off and defines no target that would build (tests, examples, benchmarks); the
# compiled-mode library is there but outside `all`.
function(bertpp_check_nested dir)
  foreach(_opt IN ITEMS BERTPP_BUILD_TESTS BERTPP_BUILD_EXAMPLES BERTPP_BUILD_BENCH BERTPP_INSTALL)
    if(${_opt})
      message(FATAL_ERROR "${_opt} is ON in a nested bertpp")
    endif()
  endforeach()
  get_property(_subdirs DIRECTORY "${dir}" PROPERTY SUBDIRECTORIES)
  if(_subdirs)
    message(FATAL_ERROR "a nested bertpp added subdirectories: ${_subdirs}")
  endif()
  get_property(_targets DIRECTORY "${dir}" PROPERTY BUILDSYSTEM_TARGETS)
  foreach(_t IN LISTS _targets)
    get_target_property(_type ${_t} TYPE)
    get_target_property(_excluded ${_t} EXCLUDE_FROM_ALL)
    # bertpp_compiled (compiled mode) is built only by what links it.
    if(_t STREQUAL "bertpp_compiled" AND _type STREQUAL "STATIC_LIBRARY" AND _excluded)
      continue()
    endif()
    if(NOT _type STREQUAL "INTERFACE_LIBRARY")
      message(FATAL_ERROR "a nested bertpp defines the ${_type} target ${_t}")
    endif()
  endforeach()
  foreach(_t IN ITEMS bertpp::bertpp bertpp::compiled)
    if(NOT TARGET ${_t})
      message(FATAL_ERROR "${_t} is not defined")
    endif()
  endforeach()
endfunction()
