// plot.hpp: a tiny scatter-plot canvas that writes PNG files, for ddim's examples only (the
// library itself has no image dependency). The PNG encoder is the minimal valid one: 8-bit RGB,
// one IDAT chunk holding a zlib stream of uncompressed ("stored") deflate blocks, CRC-32 and
// Adler-32 computed here. Files are larger than a compressing encoder's but need no library.
#ifndef DDIM_EXAMPLES_SUPPORT_PLOT_HPP
#define DDIM_EXAMPLES_SUPPORT_PLOT_HPP

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace plot {

struct Color {
  std::uint8_t r, g, b;
};

inline constexpr Color white{255, 255, 255};
inline constexpr Color black{0, 0, 0};
inline constexpr Color grey{200, 200, 200};
inline constexpr Color blue{31, 119, 180};
inline constexpr Color orange{255, 127, 14};
inline constexpr Color red{214, 39, 40};
inline constexpr Color green{44, 160, 44};

namespace detail {

inline std::uint32_t crc32(const std::uint8_t* data, std::size_t size, std::uint32_t crc = 0) {
  static const std::array<std::uint32_t, 256> table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t n = 0; n < 256; ++n) {
      std::uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (std::size_t i = 0; i < size; ++i) crc = table[(crc ^ data[i]) & 0xFFu] ^ (crc >> 8);
  return ~crc;
}

inline std::uint32_t adler32(const std::vector<std::uint8_t>& data) {
  std::uint32_t a = 1, b = 0;
  for (std::uint8_t byte : data) {
    a = (a + byte) % 65521u;
    b = (b + a) % 65521u;
  }
  return (b << 16) | a;
}

inline void put32(std::vector<std::uint8_t>& out, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(value >> shift));
}

inline void chunk(std::vector<std::uint8_t>& file, const char* type, const std::vector<std::uint8_t>& data) {
  put32(file, static_cast<std::uint32_t>(data.size()));
  std::vector<std::uint8_t> typed(type, type + 4);
  typed.insert(typed.end(), data.begin(), data.end());
  file.insert(file.end(), typed.begin(), typed.end());
  put32(file, crc32(typed.data(), typed.size()));
}

}  // namespace detail

/// Encodes an RGB image (rows top to bottom, 3 bytes per pixel) as a PNG file's bytes.
inline std::vector<std::uint8_t> encode_png(int width, int height, const std::vector<std::uint8_t>& rgb) {
  if (width <= 0 || height <= 0 || rgb.size() != static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3) {
    throw std::invalid_argument("plot::encode_png: the pixel buffer does not match width x height x 3");
  }
  std::vector<std::uint8_t> raw;  // each scanline: filter type 0, then the pixels
  const auto stride = static_cast<std::size_t>(width) * 3;
  for (std::size_t y = 0; y < static_cast<std::size_t>(height); ++y) {
    raw.push_back(0);
    raw.insert(raw.end(), rgb.begin() + static_cast<std::ptrdiff_t>(y * stride),
               rgb.begin() + static_cast<std::ptrdiff_t>((y + 1) * stride));
  }
  std::vector<std::uint8_t> zlib = {0x78, 0x01};  // deflate, 32K window, no preset dictionary
  for (std::size_t at = 0; at < raw.size() || at == 0; at += 65535) {
    const std::size_t length = std::min<std::size_t>(65535, raw.size() - at);
    const bool last = at + length >= raw.size();
    zlib.push_back(last ? 1 : 0);  // BFINAL, BTYPE = 00 (stored)
    zlib.push_back(static_cast<std::uint8_t>(length & 0xFF));
    zlib.push_back(static_cast<std::uint8_t>(length >> 8));
    zlib.push_back(static_cast<std::uint8_t>(~length & 0xFF));
    zlib.push_back(static_cast<std::uint8_t>((~length >> 8) & 0xFF));
    zlib.insert(zlib.end(), raw.begin() + static_cast<std::ptrdiff_t>(at), raw.begin() + static_cast<std::ptrdiff_t>(at + length));
    if (last) break;
  }
  detail::put32(zlib, detail::adler32(raw));
  std::vector<std::uint8_t> file = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  std::vector<std::uint8_t> header;
  detail::put32(header, static_cast<std::uint32_t>(width));
  detail::put32(header, static_cast<std::uint32_t>(height));
  header.insert(header.end(), {8, 2, 0, 0, 0});  // 8-bit, RGB, deflate, adaptive filters, no interlace
  detail::chunk(file, "IHDR", header);
  detail::chunk(file, "IDAT", zlib);
  detail::chunk(file, "IEND", {});
  return file;
}

/// A canvas over the world rectangle [x_min, x_max] x [y_min, y_max].
class Canvas {
 public:
  Canvas(int width, int height, double x_min, double x_max, double y_min, double y_max)
      : width_(width), height_(height), x_min_(x_min), x_max_(x_max), y_min_(y_min), y_max_(y_max),
        pixels_(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3, 255) {}

  /// A filled disc of `radius` pixels at world point (x, y), alpha-blended.
  void point(double x, double y, Color color, double radius = 1.5, double alpha = 0.6) {
    const double px = pixel_x(x), py = pixel_y(y);
    const int r = static_cast<int>(std::ceil(radius));
    for (int dy = -r; dy <= r; ++dy)
      for (int dx = -r; dx <= r; ++dx)
        if (dx * dx + dy * dy <= radius * radius) blend(static_cast<int>(px) + dx, static_cast<int>(py) + dy, color, alpha);
  }

  /// A circle outline of world radius `radius` around (x, y).
  void circle(double x, double y, double radius, Color color) {
    const int steps = 720;
    for (int i = 0; i < steps; ++i) {
      const double angle = 6.283185307179586 * i / steps;
      blend(static_cast<int>(pixel_x(x + radius * std::cos(angle))), static_cast<int>(pixel_y(y + radius * std::sin(angle))), color, 1.0);
    }
  }

  /// A straight segment between two world points.
  void line(double x0, double y0, double x1, double y1, Color color, double alpha = 1.0) {
    const double length = std::hypot(pixel_x(x1) - pixel_x(x0), pixel_y(y1) - pixel_y(y0));
    const int steps = std::max(1, static_cast<int>(length * 2));
    for (int i = 0; i <= steps; ++i) {
      const double w = static_cast<double>(i) / steps;
      blend(static_cast<int>(pixel_x(x0 + w * (x1 - x0))), static_cast<int>(pixel_y(y0 + w * (y1 - y0))), color, alpha);
    }
  }

  /// The axes through the world origin, in light grey.
  void axes() {
    line(x_min_, 0, x_max_, 0, grey);
    line(0, y_min_, 0, y_max_, grey);
  }

  /// Writes the canvas as a PNG file; throws std::runtime_error if the file cannot be written.
  void save(const std::string& path) const {
    const std::vector<std::uint8_t> bytes = encode_png(width_, height_, pixels_);
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("plot::Canvas::save: cannot write " + path);
  }

 private:
  double pixel_x(double x) const { return (x - x_min_) / (x_max_ - x_min_) * (width_ - 1); }
  double pixel_y(double y) const { return (y_max_ - y) / (y_max_ - y_min_) * (height_ - 1); }

  void blend(int px, int py, Color color, double alpha) {
    if (px < 0 || py < 0 || px >= width_ || py >= height_) return;
    const std::size_t at = (static_cast<std::size_t>(py) * static_cast<std::size_t>(width_) + static_cast<std::size_t>(px)) * 3;
    const std::uint8_t channels[3] = {color.r, color.g, color.b};
    for (int c = 0; c < 3; ++c) {
      const double mixed = (1 - alpha) * pixels_[at + static_cast<std::size_t>(c)] + alpha * channels[c];
      pixels_[at + static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(std::lround(mixed));
    }
  }

  int width_, height_;
  double x_min_, x_max_, y_min_, y_max_;
  std::vector<std::uint8_t> pixels_;
};

}  // namespace plot

#endif  // DDIM_EXAMPLES_SUPPORT_PLOT_HPP
