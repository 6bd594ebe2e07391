# README code is never typed twice: every C++ code block of README.md (a fence opened by ```cpp,
# ```c++, ```cxx or ```cc) must appear verbatim, as a whole, between a pair of "// [readme]"
# lines of some source file under examples/. The examples are built with the project, so the
# README's code compiles, and editing either side alone fails this check.
#
# A marked region is everything after an opening "// [readme]" line up to (not including) the
# next "// [readme]" line; both marker lines must be exactly "// [readme]" (no indentation), and
# a file may hold several regions.
#
# usage: cmake -DREADME=<README.md> -DEXAMPLES=<examples directory> -P readme_snippets.cmake
cmake_minimum_required(VERSION 3.16)

if(NOT README OR NOT EXAMPLES)
  message(FATAL_ERROR "readme_snippets: pass -DREADME=<README.md> -DEXAMPLES=<examples directory>")
endif()
get_filename_component(README "${README}" ABSOLUTE)
get_filename_component(EXAMPLES "${EXAMPLES}" ABSOLUTE)
if(NOT EXISTS "${README}")
  message(FATAL_ERROR "readme_snippets: ${README} does not exist")
endif()

set(marker "// [readme]")

# Stores the marked regions of one file in variables <prefix>_<n> (a CMake list cannot hold C++
# code: it contains semicolons) and their file names in <prefix>_<n>_file, numbering from
# `start_index`; sets `out_count` to the next free number.
function(collect_regions path prefix start_index out_count)
  file(READ "${path}" text)
  string(REPLACE "\r\n" "\n" text "${text}")
  set(text "\n${text}\n")  # every marker line is now "\n// [readme]\n", the first and last too
  set(index ${start_index})
  string(LENGTH "${marker}" marker_length)
  while(TRUE)
    string(FIND "${text}" "\n${marker}\n" open)
    if(open EQUAL -1)
      break()
    endif()
    math(EXPR body_start "${open} + ${marker_length} + 2")
    string(SUBSTRING "${text}" ${body_start} -1 rest)
    # in "\n" + rest the closing marker line starts one character later than in rest
    string(FIND "\n${rest}" "\n${marker}\n" close)
    if(close EQUAL -1)
      message(FATAL_ERROR "readme_snippets: ${path} opens a '${marker}' region that is never closed")
    endif()
    string(SUBSTRING "${rest}" 0 ${close} body)  # the region, with its last line's newline
    set(${prefix}_${index} "${body}" PARENT_SCOPE)
    set(${prefix}_${index}_file "${path}" PARENT_SCOPE)
    math(EXPR index "${index} + 1")
    math(EXPR after_marker "${close} + ${marker_length}")
    string(SUBSTRING "${rest}" ${after_marker} -1 text)  # starts with the closing marker's newline
  endwhile()
  set(${out_count} ${index} PARENT_SCOPE)
endfunction()

file(GLOB_RECURSE example_files LIST_DIRECTORIES false
  "${EXAMPLES}/*.cpp" "${EXAMPLES}/*.hpp" "${EXAMPLES}/*.h" "${EXAMPLES}/*.cc")
list(SORT example_files)
set(region_count 0)
foreach(path IN LISTS example_files)
  collect_regions("${path}" region ${region_count} region_count)
endforeach()

# The README's C++ blocks.
file(READ "${README}" readme)
string(REPLACE "\r\n" "\n" readme "${readme}")
set(readme "\n${readme}")
string(TOLOWER "${readme}" readme_lower)  # same length: fence names are matched case-insensitively
set(block_count 0)
set(failures 0)
set(offset 0)
while(TRUE)
  string(SUBSTRING "${readme_lower}" ${offset} -1 lower_rest)
  set(found -1)
  set(found_fence "")
  foreach(fence "```cpp" "```c++" "```cxx" "```cc")
    string(FIND "${lower_rest}" "\n${fence}\n" at)
    if(NOT at EQUAL -1 AND (found EQUAL -1 OR at LESS found))
      set(found ${at})
      set(found_fence "${fence}")
    endif()
  endforeach()
  if(found EQUAL -1)
    break()
  endif()
  string(LENGTH "${found_fence}" fence_length)
  math(EXPR body_start "${offset} + ${found} + ${fence_length} + 2")
  string(SUBSTRING "${readme}" ${body_start} -1 rest)
  string(FIND "\n${rest}" "\n```" close)
  if(close EQUAL -1)
    message(FATAL_ERROR "readme_snippets: a ${found_fence} block of ${README} is never closed")
  endif()
  string(SUBSTRING "${rest}" 0 ${close} block)  # up to and including the last line's newline
  math(EXPR block_count "${block_count} + 1")
  # the README line the block starts on, for the message
  string(SUBSTRING "${readme}" 0 ${body_start} before)
  string(REGEX MATCHALL "\n" newlines "${before}")
  list(LENGTH newlines line)
  math(EXPR line "${line} - 1")

  set(matched "")
  if(region_count GREATER 0)
    math(EXPR last_region "${region_count} - 1")
    foreach(i RANGE 0 ${last_region})
      if("${region_${i}}" STREQUAL "${block}")
        set(matched "${region_${i}_file}")
        break()
      endif()
    endforeach()
  endif()
  if(matched)
    file(RELATIVE_PATH shown "${EXAMPLES}" "${matched}")
    message(STATUS "README.md:${line}: C++ block ${block_count} is the '${marker}' region of examples/${shown}")
  else()
    math(EXPR failures "${failures} + 1")
    message(SEND_ERROR
      "README.md:${line}: C++ block ${block_count} is not, verbatim, a '${marker}' region of any file in "
      "${EXAMPLES} (${region_count} regions found). README code must be copied from a built example: edit the "
      "example, then paste its marked region into the README (or mark the new code in an example).\n"
      "The block:\n${block}")
  endif()
  math(EXPR offset "${body_start} + ${close}")
endwhile()

if(block_count EQUAL 0)
  message(FATAL_ERROR "readme_snippets: ${README} has no C++ block (```cpp); the check found nothing to check")
endif()
if(failures GREATER 0)
  message(FATAL_ERROR "readme_snippets: ${failures} of ${block_count} C++ blocks of README.md are not taken from examples/")
endif()
message(STATUS "readme_snippets: all ${block_count} C++ blocks of README.md are marked regions of built examples")
