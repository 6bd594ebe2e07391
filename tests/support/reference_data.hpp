// Reader for the reference data under tests/data: text files of records
//   <key words> : <numbers> [# comment]
// with '#' comment lines. A record is looked up by its key (the words before the colon, joined
// by single spaces).
#ifndef DDIM_TESTS_SUPPORT_REFERENCE_DATA_HPP
#define DDIM_TESTS_SUPPORT_REFERENCE_DATA_HPP

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace reference {

class File {
 public:
  /// Reads tests/data/<relative_path>; throws std::runtime_error if it cannot be opened.
  explicit File(const std::string& relative_path) {
    const std::string path = std::string(DDIM_TEST_DATA_DIR) + "/" + relative_path;
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open reference data " + path);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      const auto colon = line.find(" : ");
      if (colon == std::string::npos) continue;
      std::string values = line.substr(colon + 3);
      const auto comment = values.find('#');
      if (comment != std::string::npos) values.resize(comment);
      const std::string key = normalise(line.substr(0, colon));
      keys_.push_back(key);
      texts_[key] = values;
    }
  }

  bool has(const std::string& key) const { return texts_.count(normalise(key)) != 0; }

  /// The record's values as numbers (strtod: decimal, hex floats, nan, inf).
  std::vector<double> numbers(const std::string& key) const {
    std::vector<double> out;
    std::istringstream in(text(key));
    std::string word;
    while (in >> word) out.push_back(std::strtod(word.c_str(), nullptr));
    return out;
  }

  /// The record's values as text (for key=value records).
  const std::string& text(const std::string& key) const {
    const auto found = texts_.find(normalise(key));
    if (found == texts_.end()) throw std::runtime_error("no reference record '" + key + "'");
    return found->second;
  }

  /// The value of `name=<number>` inside a record.
  double field(const std::string& key, const std::string& name) const {
    const std::string& values = text(key);
    const auto at = values.find(name + "=");
    if (at == std::string::npos) throw std::runtime_error("record '" + key + "' has no field " + name);
    return std::strtod(values.c_str() + at + name.size() + 1, nullptr);
  }

  /// All keys, in file order.
  const std::vector<std::string>& keys() const { return keys_; }

 private:
  static std::string normalise(const std::string& key) {
    std::istringstream in(key);
    std::string word, out;
    while (in >> word) out += (out.empty() ? "" : " ") + word;
    return out;
  }

  std::vector<std::string> keys_;
  std::map<std::string, std::string> texts_;
};

}  // namespace reference

#endif  // DDIM_TESTS_SUPPORT_REFERENCE_DATA_HPP
