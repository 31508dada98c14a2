// SPDX-License-Identifier: Apache-2.0
// bertpp: header-only C++17 BERT inference. The umbrella header: includes the public
// headers, nothing else.
#pragma once

#include "bertpp/core/config.hpp"
#include "bertpp/core/encoding.hpp"
#include "bertpp/core/error.hpp"
#include "bertpp/core/threads.hpp"
#include "bertpp/core/types.hpp"
#include "bertpp/core/version.hpp"
#include "bertpp/io/safetensors.hpp"
#include "bertpp/io/synthetic.hpp"
#include "bertpp/io/tensor_table.hpp"
#include "bertpp/io/weight_store.hpp"
#include "bertpp/heads/classification.hpp"
#include "bertpp/heads/head_training.hpp"
#include "bertpp/heads/linear_head.hpp"
#include "bertpp/heads/pooling.hpp"
#include "bertpp/heads/pretraining.hpp"
#include "bertpp/heads/task_model.hpp"
#include "bertpp/models/bert.hpp"
#include "bertpp/pipelines/answer.hpp"
#include "bertpp/pipelines/classify.hpp"
#include "bertpp/pipelines/common.hpp"
#include "bertpp/pipelines/embed.hpp"
#include "bertpp/pipelines/fill_mask.hpp"
#include "bertpp/pipelines/ner.hpp"
#include "bertpp/tokenizer/tokenizer.hpp"
