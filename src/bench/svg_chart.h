// Minimal inline SVG charts for the HTML report: a histogram and a line chart, each a self-contained <svg>
// element with axes, tick labels and a title (no scripts, no external files).
#pragma once
#include <string>
#include <vector>

namespace fathom::bench {

struct ChartLabels {
  std::string title;
  std::string x_label;
  std::string y_label;
};

// Histogram of `values` in `n_bins` equal bins between the minimum and the 99.5th percentile (a long tail goes
// into the last bin, so one outlier does not squash the chart).
std::string svg_histogram(std::vector<double> values, int n_bins, const ChartLabels& labels);
// y over x (x ascending), drawn as a polyline.
std::string svg_line_chart(const std::vector<double>& xs, const std::vector<double>& ys, const ChartLabels& labels);

// Escapes &, <, >, " for HTML/SVG text.
std::string html_escape(const std::string& s);

}  // namespace fathom::bench
