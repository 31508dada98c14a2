// SPDX-License-Identifier: Apache-2.0
// The GEMM driver (driver.inc) compiled for each target the kernels use: one copy per
// target attribute, because a function's target cannot depend on a template argument.
#pragma once

#include <cstdint>
#include <cstring>

#include "bertpp/exec/kernels/detail/common.hpp"

#if BERTPP_KERNELS_SIMD
namespace bertpp::exec::kernels_detail {

#define BERTPP_DRIVER_NS drive_avx2
#define BERTPP_DRIVER_TARGET BERTPP_TARGET_AVX2
#include "bertpp/exec/kernels/detail/driver.inc"
#undef BERTPP_DRIVER_NS
#undef BERTPP_DRIVER_TARGET

#define BERTPP_DRIVER_NS drive_avx512_vnni
#define BERTPP_DRIVER_TARGET BERTPP_TARGET_AVX512_VNNI
#include "bertpp/exec/kernels/detail/driver.inc"
#undef BERTPP_DRIVER_NS
#undef BERTPP_DRIVER_TARGET

#define BERTPP_DRIVER_NS drive_avx512_bf16
#define BERTPP_DRIVER_TARGET BERTPP_TARGET_AVX512_BF16
#include "bertpp/exec/kernels/detail/driver.inc"
#undef BERTPP_DRIVER_NS
#undef BERTPP_DRIVER_TARGET

}  // namespace bertpp::exec::kernels_detail
#endif
