// SPDX-License-Identifier: Apache-2.0
// Training a LinearHead on fixed features, as Keras' classic recipe: Dropout(0.1) then
// Dense(1, sigmoid) with binary cross-entropy (2 labels) or Dense(N, softmax) with
// categorical cross-entropy, Glorot-uniform kernel, zero bias, Adam, shuffled mini-batches.
// Runs in double; the head stores float.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "bertpp/core/error.hpp"
#include "bertpp/heads/linear_head.hpp"

namespace bertpp {

/// @brief Hyper-parameters of train_linear_head (Keras' Adam defaults).
struct HeadTrainOptions {
  int epochs = 10;
  std::size_t batch_size = 32;
  double learning_rate = 1e-3;
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7;
  double dropout = 0.1;
  std::uint64_t seed = 42;
};

/// @brief What one epoch reports: mean training loss over its batches (with dropout).
struct EpochReport {
  int epoch = 0;
  double loss = 0.0;
  double seconds = 0.0;
};

/// @brief Trains `head.weight` / `head.bias` (shape from `head.outputs()` and the feature
/// width) on `features` [n x hidden] with label ids `labels` [n]; `on_epoch` is called after
/// each epoch. `head.labels` and `head.activation` must be set.
/// @throws InputError for no examples, a label count mismatch, a label id out of range or
/// bad options.
inline std::vector<EpochReport> train_linear_head(
    LinearHead& head, const Matrix<float>& features, const std::vector<int>& labels,
    const HeadTrainOptions& o, const std::function<void(const EpochReport&)>& on_epoch = {}) {
  const auto n = static_cast<std::size_t>(features.rows());
  const auto h = static_cast<Eigen::Index>(features.cols());
  if (n == 0) throw InputError("train_linear_head: no training examples");
  if (labels.size() != n)
    throw InputError("train_linear_head: " + std::to_string(labels.size()) + " labels for " +
                     std::to_string(n) + " feature rows");
  if (o.epochs < 1 || o.batch_size < 1 || !(o.learning_rate > 0) || o.dropout < 0 || o.dropout >= 1)
    throw InputError(
        "train_linear_head: epochs and batch size must be >= 1, learning rate > 0, "
        "dropout in [0, 1)");
  const bool binary = head.activation == "sigmoid";
  const auto k = static_cast<Eigen::Index>(head.outputs());
  for (std::size_t i = 0; i < n; ++i)
    if (labels[i] < 0 || static_cast<std::size_t>(labels[i]) >= head.labels.size())
      throw InputError("train_linear_head: label id " + std::to_string(labels[i]) + " of example " +
                       std::to_string(i) + " is out of range");
  std::mt19937_64 rng(o.seed);
  const double limit = std::sqrt(6.0 / static_cast<double>(h + k));  // glorot_uniform
  std::uniform_real_distribution<double> init(-limit, limit);
  Matrix<double> w(k, h), mw = Matrix<double>::Zero(k, h), vw = Matrix<double>::Zero(k, h);
  for (Eigen::Index i = 0; i < w.size(); ++i) w.data()[i] = init(rng);
  Vector<double> b = Vector<double>::Zero(k), mb = b, vb = b;
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::bernoulli_distribution keep(1.0 - o.dropout);
  const double scale = 1.0 / (1.0 - o.dropout);
  std::vector<EpochReport> reports;
  long step = 0;
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    std::shuffle(order.begin(), order.end(), rng);
    double loss_sum = 0.0;
    std::size_t batches = 0;
    for (std::size_t s = 0; s < n; s += o.batch_size) {
      const std::size_t e = std::min(n, s + o.batch_size);
      const auto m = static_cast<Eigen::Index>(e - s);
      Matrix<double> x(m, h);
      for (Eigen::Index r = 0; r < m; ++r) {
        x.row(r) = features.row(static_cast<Eigen::Index>(order[s + static_cast<std::size_t>(r)]))
                       .cast<double>();
        if (o.dropout > 0)
          for (Eigen::Index c = 0; c < h; ++c) x(r, c) = keep(rng) ? x(r, c) * scale : 0.0;
      }
      Matrix<double> z = x * w.transpose();
      z.rowwise() += b.transpose();
      Matrix<double> dz(m, k);  // d(mean loss)/dz
      double loss = 0.0;
      for (Eigen::Index r = 0; r < m; ++r) {
        const int y = labels[order[s + static_cast<std::size_t>(r)]];
        if (binary) {
          const double v = z(r, 0), t = y;
          loss += std::max(v, 0.0) - v * t + std::log1p(std::exp(-std::abs(v)));
          dz(r, 0) = 1.0 / (1.0 + std::exp(-v)) - t;
        } else {
          const double mx = z.row(r).maxCoeff();
          double sum = 0.0;
          for (Eigen::Index c = 0; c < k; ++c) sum += std::exp(z(r, c) - mx);
          for (Eigen::Index c = 0; c < k; ++c)
            dz(r, c) = std::exp(z(r, c) - mx) / sum - (c == y ? 1.0 : 0.0);
          loss += mx + std::log(sum) - z(r, y);
        }
      }
      dz /= static_cast<double>(m);
      const Matrix<double> gw = dz.transpose() * x;
      const Vector<double> gb = dz.colwise().sum().transpose();
      ++step;  // Adam as torch.optim.Adam computes it
      const double bc1 = 1.0 - std::pow(o.beta1, static_cast<double>(step));
      const double bc2 = 1.0 - std::pow(o.beta2, static_cast<double>(step));
      mw = o.beta1 * mw + (1.0 - o.beta1) * gw;
      vw = o.beta2 * vw + (1.0 - o.beta2) * gw.cwiseProduct(gw);
      mb = o.beta1 * mb + (1.0 - o.beta1) * gb;
      vb = o.beta2 * vb + (1.0 - o.beta2) * gb.cwiseProduct(gb);
      w.array() -= o.learning_rate / bc1 * mw.array() / ((vw.array() / bc2).sqrt() + o.epsilon);
      b.array() -= o.learning_rate / bc1 * mb.array() / ((vb.array() / bc2).sqrt() + o.epsilon);
      loss_sum += loss / static_cast<double>(m);
      ++batches;
    }
    EpochReport rep;
    rep.epoch = epoch;
    rep.loss = loss_sum / static_cast<double>(batches);
    rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    reports.push_back(rep);
    if (on_epoch) on_epoch(rep);
  }
  head.weight = w.cast<float>();
  head.bias = b.cast<float>();
  head.encoder.hidden_size = h;
  return reports;
}

/// @brief Label id with the highest probability for each row of `features`.
inline std::vector<int> predict_linear_head(const LinearHead& head, const Matrix<float>& features) {
  const Matrix<float> z = head.logits(features);
  std::vector<int> out;
  for (Eigen::Index r = 0; r < z.rows(); ++r) {
    const auto p = head.probabilities(z, r);
    out.push_back(static_cast<int>(std::max_element(p.begin(), p.end()) - p.begin()));
  }
  return out;
}

}  // namespace bertpp
