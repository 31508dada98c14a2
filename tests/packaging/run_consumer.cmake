# SPDX-License-Identifier: Apache-2.0
# Runs one packaging consumer (cmake -P): fresh folder, [install bertpp,] configure, build,
# run, and check that the program printed bertpp's version. Variables come from
# tests/packaging/CMakeLists.txt.
cmake_minimum_required(VERSION 3.14)

foreach(_var IN ITEMS MODE CONSUMER_SOURCE_DIR WORK_DIR BERTPP_SOURCE_DIR BERTPP_BINARY_DIR
                      EXPECTED_VERSION TOO_NEW_VERSION SETTINGS GENERATOR)
  if("${${_var}}" STREQUAL "")
    message(FATAL_ERROR "run_consumer.cmake: ${_var} is not set")
  endif()
endforeach()

# run(<step> <command...>): runs a command, stops with its output on failure.
function(run step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "[${MODE}] ${step} failed (${_rc}):\n  ${ARGN}\n${_out}")
  endif()
  message(STATUS "[${MODE}] ${step}: ok")
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

set(_config_args)
if(NOT "${CONFIG}" STREQUAL "")
  set(_config_args --config "${CONFIG}")
endif()

set(_cmake_args -G "${GENERATOR}" -C "${SETTINGS}"
  "-DBERTPP_SOURCE_DIR=${BERTPP_SOURCE_DIR}"
  "-DBERTPP_EXPECTED_VERSION=${EXPECTED_VERSION}"
  "-DBERTPP_TOO_NEW_VERSION=${TOO_NEW_VERSION}"
  "-DBERTPP_CONSUMER_WERROR=${WERROR}")
if(NOT "${GENERATOR_PLATFORM}" STREQUAL "")
  list(APPEND _cmake_args -A "${GENERATOR_PLATFORM}")
endif()
if(NOT "${GENERATOR_TOOLSET}" STREQUAL "")
  list(APPEND _cmake_args -T "${GENERATOR_TOOLSET}")
endif()
if(NOT "${CONFIG}" STREQUAL "")
  list(APPEND _cmake_args "-DCMAKE_BUILD_TYPE=${CONFIG}")
endif()

if(MODE STREQUAL "find_package")
  set(_prefix "${WORK_DIR}/prefix")
  if(BERTPP_INSTALL)
    # This build tree's own install rules (header-only: nothing to build first).
    run("install bertpp" "${CMAKE_COMMAND}" --install "${BERTPP_BINARY_DIR}"
        --prefix "${_prefix}" ${_config_args})
  else()
    # Built with BERTPP_INSTALL=OFF: configure the source tree alone, then install it.
    run("configure bertpp" "${CMAKE_COMMAND}" -S "${BERTPP_SOURCE_DIR}"
        -B "${WORK_DIR}/bertpp-build" ${_cmake_args} -DBERTPP_INSTALL=ON
        -DBERTPP_BUILD_TESTS=OFF -DBERTPP_BUILD_EXAMPLES=OFF -DBERTPP_BUILD_BENCH=OFF)
    run("install bertpp" "${CMAKE_COMMAND}" --install "${WORK_DIR}/bertpp-build"
        --prefix "${_prefix}" ${_config_args})
  endif()
  # The version file must not tie the package to the pointer size (ARCH_INDEPENDENT): read
  # as a 32-bit consumer would, it still accepts this version.
  file(GLOB_RECURSE _version_file "${_prefix}/*bertppConfigVersion.cmake")
  if(NOT _version_file)
    message(FATAL_ERROR "[${MODE}] no bertppConfigVersion.cmake installed under ${_prefix}")
  endif()
  list(GET _version_file 0 _version_file)
  function(check_version_file)
    set(CMAKE_SIZEOF_VOID_P 4)
    set(PACKAGE_FIND_VERSION "${EXPECTED_VERSION}")
    string(REPLACE "." ";" _parts "${EXPECTED_VERSION}")
    list(GET _parts 0 PACKAGE_FIND_VERSION_MAJOR)
    list(GET _parts 1 PACKAGE_FIND_VERSION_MINOR)
    list(GET _parts 2 PACKAGE_FIND_VERSION_PATCH)
    include("${_version_file}")
    if(PACKAGE_VERSION_UNSUITABLE OR NOT PACKAGE_VERSION_COMPATIBLE)
      message(FATAL_ERROR "[${MODE}] ${_version_file} refuses a 32-bit consumer "
                          "(version ${PACKAGE_VERSION}); it must be ARCH_INDEPENDENT")
    endif()
  endfunction()
  check_version_file()
  message(STATUS "[${MODE}] version file is ARCH_INDEPENDENT: ok")
  list(PREPEND _cmake_args "-DCMAKE_PREFIX_PATH=${_prefix}" "-DBERTPP_PREFIX=${_prefix}")
endif()

set(_build "${WORK_DIR}/build")
run("configure consumer" "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE_DIR}" -B "${_build}"
    ${_cmake_args})
run("build consumer" "${CMAKE_COMMAND}" --build "${_build}" ${_config_args})

# The consumer writes where its program is (per configuration, for multi-config generators).
set(_exe_file "${_build}/consumer-exe-${CONFIG}.txt")
if(NOT EXISTS "${_exe_file}")
  message(FATAL_ERROR "[${MODE}] ${_exe_file} is missing")
endif()
file(READ "${_exe_file}" _exe)
execute_process(COMMAND "${_exe}" RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
message(STATUS "[${MODE}] consumer printed:\n${_out}${_err}")
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "[${MODE}] the consumer exited with ${_rc}")
endif()
string(FIND "${_out}" "bertpp ${EXPECTED_VERSION}\n" _pos)
if(_pos EQUAL -1)
  message(FATAL_ERROR "[${MODE}] the consumer did not print 'bertpp ${EXPECTED_VERSION}'")
endif()
message(STATUS "[${MODE}] passed")
