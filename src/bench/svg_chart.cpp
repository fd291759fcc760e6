#include "bench/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace fathom::bench {

namespace {

constexpr double kW = 560, kH = 300;             // whole chart
constexpr double kLeft = 64, kRight = 16, kTop = 32, kBottom = 48;  // plot margins
constexpr double kPlotW = kW - kLeft - kRight, kPlotH = kH - kTop - kBottom;

std::string num(double v) {
  char buf[64];
  const double a = std::fabs(v);
  if (a != 0 && (a >= 1e5 || a < 1e-2)) {
    std::snprintf(buf, sizeof buf, "%.2g", v);
  } else if (a >= 100) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f", v);
  }
  return buf;
}

std::string fmt(const char* f, double a, double b = 0, double c = 0, double d = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, f, a, b, c, d);
  return buf;
}

// The frame: title, axes with 5 ticks each, axis labels.
std::string frame(const ChartLabels& l, double x0, double x1, double y0, double y1) {
  std::string s = fmt("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" ", kW, kH) +
                  fmt("viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"11\">", kW, kH);
  s += fmt("<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>", kW, kH);
  s += fmt("<text x=\"%.0f\" y=\"18\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">", kW / 2) +
       html_escape(l.title) + "</text>";
  s += fmt("<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#333\"/>", kLeft, kTop + kPlotH,
           kLeft + kPlotW, kTop + kPlotH);
  s += fmt("<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#333\"/>", kLeft, kTop, kLeft,
           kTop + kPlotH);
  for (int k = 0; k <= 4; ++k) {
    const double fx = kLeft + kPlotW * k / 4, fy = kTop + kPlotH - kPlotH * k / 4;
    s += fmt("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", fx, kTop + kPlotH + 14) +
         num(x0 + (x1 - x0) * k / 4) + "</text>";
    s += fmt("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", kLeft - 4, fy + 4) + num(y0 + (y1 - y0) * k / 4) +
         "</text>";
    s += fmt("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>", kLeft, fy, kLeft + kPlotW, fy);
  }
  s += fmt("<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">", kLeft + kPlotW / 2, kH - 8) +
       html_escape(l.x_label) + "</text>";
  s += fmt("<text x=\"14\" y=\"%.0f\" text-anchor=\"middle\" transform=\"rotate(-90 14 %.0f)\">", kTop + kPlotH / 2,
           kTop + kPlotH / 2) +
       html_escape(l.y_label) + "</text>";
  return s;
}

std::string empty_chart(const ChartLabels& l) {
  return frame(l, 0, 1, 0, 1) +
         fmt("<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\" fill=\"#888\">no data</text></svg>",
             kLeft + kPlotW / 2, kTop + kPlotH / 2);
}

}  // namespace

std::string html_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string svg_histogram(std::vector<double> values, int n_bins, const ChartLabels& labels) {
  if (values.empty() || n_bins < 1) return empty_chart(labels);
  std::sort(values.begin(), values.end());
  const double lo = values.front();
  double hi = values[static_cast<size_t>(0.995 * static_cast<double>(values.size() - 1))];
  if (hi <= lo) hi = lo + std::max(1e-9, std::fabs(lo) * 0.01 + 1e-6);
  std::vector<double> counts(static_cast<size_t>(n_bins), 0);
  for (double v : values) {
    int b = static_cast<int>((v - lo) / (hi - lo) * n_bins);
    counts[static_cast<size_t>(std::clamp(b, 0, n_bins - 1))] += 1;
  }
  const double peak = *std::max_element(counts.begin(), counts.end());
  std::string s = frame(labels, lo, hi, 0, peak);
  const double bw = kPlotW / n_bins;
  for (int b = 0; b < n_bins; ++b) {
    const double h = peak > 0 ? counts[static_cast<size_t>(b)] / peak * kPlotH : 0;
    s += fmt("<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#4878d0\"/>",
             kLeft + b * bw + 0.5, kTop + kPlotH - h, std::max(0.5, bw - 1), h);
  }
  return s + "</svg>";
}

std::string svg_line_chart(const std::vector<double>& xs, const std::vector<double>& ys, const ChartLabels& labels) {
  if (xs.empty() || xs.size() != ys.size()) return empty_chart(labels);
  const double x0 = xs.front(), x1 = std::max(xs.back(), x0 + 1e-9);
  const double y1 = std::max(*std::max_element(ys.begin(), ys.end()), 1e-9);
  std::string s = frame(labels, x0, x1, 0, y1);
  s += "<polyline class=\"series\" fill=\"none\" stroke=\"#d65f5f\" stroke-width=\"2\" points=\"";
  for (size_t i = 0; i < xs.size(); ++i) {
    s += fmt("%.1f,%.1f ", kLeft + (xs[i] - x0) / (x1 - x0) * kPlotW, kTop + kPlotH - ys[i] / y1 * kPlotH);
  }
  return s + "\"/></svg>";
}

}  // namespace fathom::bench
