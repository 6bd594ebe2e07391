# Warning and sanitizer flags for ddim's own tests, examples and benchmarks. They are set on those
# targets only, never on the INTERFACE target, so consumers' flags are never touched.
function(ddim_set_warnings target)
  if(MSVC)
    target_compile_options(${target} PRIVATE /W4 /permissive-)
    if(DDIM_WARNINGS_AS_ERRORS)
      target_compile_options(${target} PRIVATE /WX)
    endif()
  else()
    target_compile_options(${target} PRIVATE
      -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow)
    if(DDIM_WARNINGS_AS_ERRORS)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
  endif()
  if(DDIM_SANITIZE)
    target_compile_options(${target} PRIVATE
      -fsanitize=${DDIM_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=${DDIM_SANITIZE})
  endif()
endfunction()
