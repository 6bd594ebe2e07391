// plot.hpp: a tiny plotting canvas that writes PNG files, for ddim's examples and experiments
// only (the library itself has no image dependency). Scatter plots in world coordinates
// (Canvas), line charts with linear or logarithmic axes, tick labels and legends (Chart), and a
// 5x7 bitmap font for the few characters those need. The PNG encoder is self-contained: 8-bit
// RGB, one IDAT chunk holding a zlib stream of one deflate block with the fixed Huffman code and
// greedy LZ77 matches (the previous pixel, the pixel above, the last occurrence of the next three
// bytes), CRC-32 and Adler-32 computed here. Plots are mostly flat colour, so this simple scheme
// shrinks them 20-100 times without a compression library.
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
inline constexpr Color light_grey{230, 230, 230};
inline constexpr Color blue{31, 119, 180};
inline constexpr Color orange{255, 127, 14};
inline constexpr Color red{214, 39, 40};
inline constexpr Color green{44, 160, 44};
inline constexpr Color purple{148, 103, 189};

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

/// Appends bits to a deflate stream, least significant bit first (RFC 1951, 3.1.1).
class BitWriter {
 public:
  explicit BitWriter(std::vector<std::uint8_t>& out) : out_(out) {}
  /// `count` bits of `value`, least significant first (header fields and extra bits).
  void bits(std::uint32_t value, int count) {
    buffer_ |= value << filled_;
    filled_ += count;
    while (filled_ >= 8) {
      out_.push_back(static_cast<std::uint8_t>(buffer_ & 0xFFu));
      buffer_ >>= 8;
      filled_ -= 8;
    }
  }
  /// A Huffman code of `length` bits, most significant bit first.
  void code(std::uint32_t value, int length) {
    std::uint32_t reversed = 0;
    for (int i = 0; i < length; ++i) reversed |= ((value >> i) & 1u) << (length - 1 - i);
    bits(reversed, length);
  }
  /// Pads the last byte with zeros.
  void flush() {
    if (filled_ > 0) out_.push_back(static_cast<std::uint8_t>(buffer_ & 0xFFu));
    buffer_ = 0;
    filled_ = 0;
  }

 private:
  std::vector<std::uint8_t>& out_;
  std::uint32_t buffer_ = 0;
  int filled_ = 0;
};

/// A literal/length symbol (0-287) in the fixed Huffman code (RFC 1951, 3.2.6).
inline void fixed_symbol(BitWriter& out, int symbol) {
  const auto s = static_cast<std::uint32_t>(symbol);
  if (symbol < 144) out.code(0x30u + s, 8);
  else if (symbol < 256) out.code(0x190u + s - 144u, 9);
  else if (symbol < 280) out.code(s - 256u, 7);
  else out.code(0xC0u + s - 280u, 8);
}

/// A match of `length` (3-258) bytes at `distance` (1-32768) back, in the fixed code.
inline void fixed_match(BitWriter& out, int length, int distance) {
  static constexpr int length_base[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                          31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
  static constexpr int length_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                           2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
  static constexpr int distance_base[30] = {1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
                                            193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
  static constexpr int distance_extra[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6,
                                             6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
  int l = 28;
  while (length_base[l] > length) --l;
  fixed_symbol(out, 257 + l);
  out.bits(static_cast<std::uint32_t>(length - length_base[l]), length_extra[l]);
  int d = 29;
  while (distance_base[d] > distance) --d;
  out.code(static_cast<std::uint32_t>(d), 5);
  out.bits(static_cast<std::uint32_t>(distance - distance_base[d]), distance_extra[d]);
}

/// A zlib stream (RFC 1950) of `data` in one fixed-Huffman deflate block. The matcher is greedy
/// and tries three candidates per position: `period` bytes back (one pixel), `row` bytes back
/// (the pixel above) and the last position whose next three bytes hashed alike.
inline std::vector<std::uint8_t> zlib_compress(const std::vector<std::uint8_t>& data, std::size_t period, std::size_t row) {
  std::vector<std::uint8_t> out = {0x78, 0x01};  // deflate, 32K window, no preset dictionary
  BitWriter bits(out);
  bits.bits(1, 1);  // BFINAL
  bits.bits(1, 2);  // BTYPE = 01: fixed Huffman codes
  constexpr std::size_t max_distance = 32768, max_length = 258, hash_size = 1u << 15;
  std::vector<std::size_t> last(hash_size, SIZE_MAX);
  const std::size_t size = data.size();
  const auto hash = [&](std::size_t at) {
    const std::uint32_t v = static_cast<std::uint32_t>(data[at]) | (static_cast<std::uint32_t>(data[at + 1]) << 8) |
                            (static_cast<std::uint32_t>(data[at + 2]) << 16);
    return static_cast<std::size_t>((v * 2654435761u) >> 17) & (hash_size - 1);
  };
  const auto match_length = [&](std::size_t at, std::size_t from) {
    std::size_t n = 0;
    while (n < max_length && at + n < size && data[from + n] == data[at + n]) ++n;
    return n;
  };
  std::size_t at = 0;
  while (at < size) {
    std::size_t best_length = 0, best_distance = 0;
    if (at + 3 <= size) {
      const std::size_t h = hash(at);
      const std::size_t candidates[3] = {period, row, last[h] == SIZE_MAX ? 0 : at - last[h]};
      for (std::size_t distance : candidates) {
        if (distance == 0 || distance > at || distance > max_distance) continue;
        const std::size_t length = match_length(at, at - distance);
        if (length > best_length) {
          best_length = length;
          best_distance = distance;
        }
      }
      last[h] = at;
    }
    if (best_length >= 3) {
      fixed_match(bits, static_cast<int>(best_length), static_cast<int>(best_distance));
      for (std::size_t i = at + 1; i < at + best_length && i + 3 <= size; ++i) last[hash(i)] = i;
      at += best_length;
    } else {
      fixed_symbol(bits, data[at]);
      ++at;
    }
  }
  fixed_symbol(bits, 256);  // end of block
  bits.flush();
  put32(out, adler32(data));
  return out;
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
  const std::vector<std::uint8_t> zlib = detail::zlib_compress(raw, 3, stride + 1);
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

namespace detail {

/// The 5x7 bitmap of a character (rows top to bottom, bit 4 = leftmost column), for the digits,
/// a few signs and the letters plot labels use; any other character is blank.
inline std::array<std::uint8_t, 7> glyph(char c) {
  switch (c) {
    case '0': return {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E};
    case '1': return {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E};
    case '2': return {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F};
    case '3': return {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E};
    case '4': return {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02};
    case '5': return {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E};
    case '6': return {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E};
    case '7': return {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08};
    case '8': return {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E};
    case '9': return {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C};
    case '.': return {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C};
    case '-': return {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00};
    case '+': return {0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00};
    case '=': return {0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00};
    case '(': return {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02};
    case ')': return {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08};
    case '^': return {0x04, 0x0A, 0x11, 0x00, 0x00, 0x00, 0x00};
    case 'D': return {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C};
    case 'E': return {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F};
    case 'M': return {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11};
    case 'S': return {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E};
    case 'a': return {0x00, 0x00, 0x0E, 0x01, 0x0F, 0x11, 0x0F};
    case 'b': return {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1E};
    case 'c': return {0x00, 0x00, 0x0E, 0x10, 0x10, 0x11, 0x0E};
    case 'd': return {0x01, 0x01, 0x0D, 0x13, 0x11, 0x11, 0x0F};
    case 'e': return {0x00, 0x00, 0x0E, 0x11, 0x1F, 0x10, 0x0E};
    case 'f': return {0x06, 0x09, 0x08, 0x1C, 0x08, 0x08, 0x08};
    case 'g': return {0x00, 0x0F, 0x11, 0x11, 0x0F, 0x01, 0x0E};
    case 'h': return {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11};
    case 'i': return {0x04, 0x00, 0x0C, 0x04, 0x04, 0x04, 0x0E};
    case 'k': return {0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12};
    case 'l': return {0x0C, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E};
    case 'm': return {0x00, 0x00, 0x1A, 0x15, 0x15, 0x11, 0x11};
    case 'n': return {0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11};
    case 'o': return {0x00, 0x00, 0x0E, 0x11, 0x11, 0x11, 0x0E};
    case 'p': return {0x00, 0x00, 0x1E, 0x11, 0x1E, 0x10, 0x10};
    case 'r': return {0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10};
    case 's': return {0x00, 0x00, 0x0E, 0x10, 0x0E, 0x01, 0x1E};
    case 't': return {0x08, 0x08, 0x1C, 0x08, 0x08, 0x09, 0x06};
    case 'u': return {0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0D};
    case 'v': return {0x00, 0x00, 0x11, 0x11, 0x11, 0x0A, 0x04};
    case 'w': return {0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0A};
    case 'x': return {0x00, 0x00, 0x11, 0x0A, 0x04, 0x0A, 0x11};
    case 'y': return {0x00, 0x00, 0x11, 0x11, 0x0F, 0x01, 0x0E};
    default: return {0, 0, 0, 0, 0, 0, 0};
  }
}

}  // namespace detail

/// The width in pixels of `text` drawn at `scale` (6 pixels per character, the last without its gap).
inline int text_width(const std::string& text, int scale = 1) {
  return text.empty() ? 0 : (6 * static_cast<int>(text.size()) - 1) * scale;
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

  /// A dashed segment: `on` pixels drawn, `off` pixels left out, alternately.
  void dashed_line(double x0, double y0, double x1, double y1, Color color, double on = 6, double off = 4) {
    const double length = std::hypot(pixel_x(x1) - pixel_x(x0), pixel_y(y1) - pixel_y(y0));
    const int steps = std::max(1, static_cast<int>(length * 2));
    for (int i = 0; i <= steps; ++i) {
      const double w = static_cast<double>(i) / steps;
      if (std::fmod(w * length, on + off) >= on) continue;
      blend(static_cast<int>(pixel_x(x0 + w * (x1 - x0))), static_cast<int>(pixel_y(y0 + w * (y1 - y0))), color, 1.0);
    }
  }

  /// A filled axis-aligned rectangle between two world corners, alpha-blended.
  void fill_rect(double x0, double y0, double x1, double y1, Color color, double alpha = 1.0) {
    const int left = static_cast<int>(std::lround(std::min(pixel_x(x0), pixel_x(x1))));
    const int right = static_cast<int>(std::lround(std::max(pixel_x(x0), pixel_x(x1))));
    const int top = static_cast<int>(std::lround(std::min(pixel_y(y0), pixel_y(y1))));
    const int bottom = static_cast<int>(std::lround(std::max(pixel_y(y0), pixel_y(y1))));
    for (int py = top; py <= bottom; ++py)
      for (int px = left; px <= right; ++px) blend(px, py, color, alpha);
  }

  /// `text` in the 5x7 font, each font pixel drawn as scale x scale pixels, its top-left corner at
  /// world point (x, y).
  void text(double x, double y, const std::string& text, Color color, int scale = 1) {
    const int left = static_cast<int>(std::lround(pixel_x(x))), top = static_cast<int>(std::lround(pixel_y(y)));
    for (std::size_t i = 0; i < text.size(); ++i) {
      const std::array<std::uint8_t, 7> rows = detail::glyph(text[i]);
      for (int row = 0; row < 7; ++row)
        for (int column = 0; column < 5; ++column) {
          if (((rows[static_cast<std::size_t>(row)] >> (4 - column)) & 1) == 0) continue;
          for (int dy = 0; dy < scale; ++dy)
            for (int dx = 0; dx < scale; ++dx)
              blend(left + (6 * static_cast<int>(i) + column) * scale + dx, top + row * scale + dy, color, 1.0);
        }
    }
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

/// One axis of a Chart: the range it shows and whether it is logarithmic (base 10; both ends > 0).
struct Axis {
  double min, max;
  bool log = false;
};

/// A line chart: a plot area inside fixed pixel margins, data coordinates mapped onto it along
/// linear or logarithmic axes, grid lines with tick labels, series with markers, error bars,
/// horizontal reference lines and bands, and a legend of coloured lines with short labels. Data
/// outside the axis ranges is clamped to the plot area's border.
class Chart {
 public:
  Chart(int width, int height, Axis x, Axis y, int left = 46, int right = 16, int top = 10, int bottom = 32)
      : canvas_(width, height, 0.0, width - 1.0, height - 1.0, 0.0), x_(x), y_(y), left_(left),
        right_(width - 1 - right), top_(top), bottom_(height - 1 - bottom) {
    if ((x.log && !(x.min > 0.0)) || (y.log && !(y.min > 0.0)) || !(x.max > x.min) || !(y.max > y.min)) {
      throw std::invalid_argument("plot::Chart: an axis range is empty, or logarithmic and not positive");
    }
    canvas_.line(left_, top_, left_, bottom_, black);
    canvas_.line(left_, bottom_, right_, bottom_, black);
  }

  /// The pixel column of data x and the pixel row of data y (clamped to the plot area).
  double pixel_x(double x) const { return left_ + fraction(x_, x) * (right_ - left_); }
  double pixel_y(double y) const { return bottom_ - fraction(y_, y) * (bottom_ - top_); }

  /// A vertical grid line at data x, labelled below the axis.
  void x_tick(double x, const std::string& label) {
    const double px = pixel_x(x);
    canvas_.line(px, top_, px, bottom_ - 1, light_grey);
    canvas_.line(px, bottom_, px, bottom_ + 3, black);
    canvas_.text(px - text_width(label) / 2.0, bottom_ + 6, label, black);
  }

  /// A horizontal grid line at data y, labelled left of the axis.
  void y_tick(double y, const std::string& label) {
    const double py = pixel_y(y);
    canvas_.line(left_ + 1, py, right_, py, light_grey);
    canvas_.line(left_ - 3, py, left_, py, black);
    canvas_.text(left_ - 6 - text_width(label), py - 3, label, black);
  }

  /// The x axis' title, centred under the tick labels; the y axis' title, above the axis.
  void x_title(const std::string& title) {
    canvas_.text((left_ + right_) / 2.0 - text_width(title) / 2.0, bottom_ + 18, title, black);
  }
  void y_title(const std::string& title) { canvas_.text(2, 1, title, black); }

  /// A series: segments between consecutive points, with a square marker at each point unless
  /// `markers` is false, dashed when `dashed` is true.
  void series(const std::vector<double>& xs, const std::vector<double>& ys, Color color, bool markers = true,
              bool dashed = false) {
    const std::size_t n = std::min(xs.size(), ys.size());
    for (std::size_t i = 0; i < n; ++i) {
      const double px = pixel_x(xs[i]), py = pixel_y(ys[i]);
      if (i > 0) {
        const double qx = pixel_x(xs[i - 1]), qy = pixel_y(ys[i - 1]);
        for (int offset = 0; offset < 2; ++offset) {  // two pixels wide
          if (dashed) canvas_.dashed_line(qx, qy + offset, px, py + offset, color);
          else canvas_.line(qx, qy + offset, px, py + offset, color);
        }
      }
      if (markers) canvas_.fill_rect(px - 2, py - 2, px + 2, py + 2, color);
    }
  }

  /// A vertical error bar at data x from `low` to `high`, with short caps.
  void error_bar(double x, double low, double high, Color color) {
    const double px = pixel_x(x), p_low = pixel_y(low), p_high = pixel_y(high);
    canvas_.line(px, p_low, px, p_high, color);
    canvas_.line(px - 3, p_low, px + 3, p_low, color);
    canvas_.line(px - 3, p_high, px + 3, p_high, color);
  }

  /// A horizontal line across the plot area at data y.
  void horizontal(double y, Color color, bool dashed = true) {
    const double py = pixel_y(y);
    if (dashed) canvas_.dashed_line(left_ + 1, py, right_, py, color);
    else canvas_.line(left_ + 1, py, right_, py, color);
  }

  /// A translucent horizontal band across the plot area between data y values.
  void band(double y0, double y1, Color color, double alpha = 0.25) {
    canvas_.fill_rect(left_ + 1, pixel_y(y0), right_, pixel_y(y1), color, alpha);
  }

  /// A legend in the plot area's top-right corner: one short coloured line and a label per entry
  /// (`dashed` entries drawn dashed).
  struct Entry {
    std::string label;
    Color color;
    bool dashed = false;
  };
  void legend(const std::vector<Entry>& entries) {
    int widest = 0;
    for (const auto& e : entries) widest = std::max(widest, text_width(e.label));
    const double width = widest + 30, height = 11.0 * static_cast<double>(entries.size()) + 6;
    const double x0 = right_ - width - 4, y0 = top_ + 4;
    canvas_.fill_rect(x0, y0, x0 + width, y0 + height, white);
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const double y = y0 + 7 + 11.0 * static_cast<double>(i);
      for (int offset = 0; offset < 2; ++offset) {
        if (entries[i].dashed) canvas_.dashed_line(x0 + 4, y + offset, x0 + 20, y + offset, entries[i].color, 4, 2);
        else canvas_.line(x0 + 4, y + offset, x0 + 20, y + offset, entries[i].color);
      }
      canvas_.text(x0 + 25, y - 3, entries[i].label, black);
    }
  }

  /// Free text at a pixel position (top-left corner).
  void text(double px, double py, const std::string& text, Color color = black) { canvas_.text(px, py, text, color); }

  /// Writes the chart as a PNG file; throws std::runtime_error if the file cannot be written.
  void save(const std::string& path) const { canvas_.save(path); }

 private:
  static double fraction(const Axis& axis, double value) {
    const double f = axis.log ? (std::log10(std::max(value, axis.min * 1e-6)) - std::log10(axis.min)) /
                                    (std::log10(axis.max) - std::log10(axis.min))
                              : (value - axis.min) / (axis.max - axis.min);
    return std::clamp(f, 0.0, 1.0);
  }

  Canvas canvas_;
  Axis x_, y_;
  double left_, right_, top_, bottom_;
};

}  // namespace plot

#endif  // DDIM_EXAMPLES_SUPPORT_PLOT_HPP
