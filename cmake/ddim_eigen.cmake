# Provides the Eigen3::Eigen target ddim links against.
# - A parent project that already defines Eigen3::Eigen keeps its own (ddim never replaces it).
# - Otherwise an installed Eigen (3.3 or newer) is found through its CMake package.
# - Otherwise, with DDIM_FETCH_EIGEN=ON, Eigen 3.4.0 is downloaded; without it configuration stops
#   with a message that says what to install.
if(TARGET Eigen3::Eigen)
  return()
endif()

find_package(Eigen3 3.3 QUIET NO_MODULE)
if(TARGET Eigen3::Eigen)
  return()
endif()

if(DDIM_FETCH_EIGEN)
  include(FetchContent)
  message(STATUS "ddim: Eigen not found; downloading Eigen 3.4.0 (DDIM_FETCH_EIGEN=ON)")
  FetchContent_Declare(ddim_eigen
    URL https://gitlab.com/libeigen/eigen/-/archive/3.4.0/eigen-3.4.0.tar.gz
    URL_HASH SHA256=8586084f71f9bde545ee7fa6d00288b264a2b7ac3607b974e54d13e7162c1c72)
  FetchContent_GetProperties(ddim_eigen)
  if(NOT ddim_eigen_POPULATED)
    FetchContent_Populate(ddim_eigen)
  endif()
  add_library(ddim_eigen_headers INTERFACE)
  target_include_directories(ddim_eigen_headers SYSTEM INTERFACE
    $<BUILD_INTERFACE:${ddim_eigen_SOURCE_DIR}>)
  add_library(Eigen3::Eigen ALIAS ddim_eigen_headers)
  return()
endif()

message(FATAL_ERROR
  "ddim needs Eigen 3.3 or newer, and no Eigen CMake package was found.\n"
  "Install it and configure again:\n"
  "  Debian/Ubuntu:  sudo apt-get install libeigen3-dev\n"
  "  Fedora:         sudo dnf install eigen3-devel\n"
  "  Homebrew:       brew install eigen\n"
  "  vcpkg:          vcpkg install eigen3\n"
  "  conda:          conda install -c conda-forge eigen\n"
  "or point CMake at an Eigen install with -DEigen3_DIR=<prefix>/share/eigen3/cmake,\n"
  "or let ddim download Eigen 3.4.0 with -DDDIM_FETCH_EIGEN=ON.")
