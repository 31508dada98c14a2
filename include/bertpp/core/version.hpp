// SPDX-License-Identifier: Apache-2.0
// The library version. CMakeLists.txt reads these three lines for project(VERSION), so the
// two never disagree.
#pragma once

#define BERTPP_VERSION_MAJOR 0
#define BERTPP_VERSION_MINOR 1
#define BERTPP_VERSION_PATCH 0

#define BERTPP_STRINGIFY_DETAIL(x) #x
#define BERTPP_STRINGIFY(x) BERTPP_STRINGIFY_DETAIL(x)
#define BERTPP_VERSION_STRING            \
  BERTPP_STRINGIFY(BERTPP_VERSION_MAJOR) \
  "." BERTPP_STRINGIFY(BERTPP_VERSION_MINOR) "." BERTPP_STRINGIFY(BERTPP_VERSION_PATCH)
