# The layers of src/ as static libraries, from the table in
# cmake/layers.txt (docs/architecture.md, "Layers").
#
# Invariants:
#  * ch_<layer> links exactly the layers and libraries its table row names;
#  * ch_<layer> exposes one include directory, build/layers/<layer>, which
#    holds a single entry: <layer> -> src/<layer>. A target therefore sees
#    the headers of the layers it links, directly or through the layers
#    below, and no others: `#include "store/store.h"` in src/core/ finds
#    no file, so an upward include does not compile;
#  * coordhub_included_layers() gives the layers a source includes, for
#    the tests and fuzz drivers to link no more than those.

set(COORDHUB_LAYER_TABLE ${PROJECT_SOURCE_DIR}/cmake/layers.txt)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${COORDHUB_LAYER_TABLE})

# Read the table: COORDHUB_LAYERS (lowest first), COORDHUB_LAYER_<n>_DEPS,
# COORDHUB_LAYER_<n>_LIBS and COORDHUB_LIB_<n> (the CMake target).
set(COORDHUB_LAYERS "")
file(STRINGS ${COORDHUB_LAYER_TABLE} coordhub_rows)
foreach(row IN LISTS coordhub_rows)
  if(row MATCHES "^[ \t]*(#|$)")
    continue()
  elseif(row MATCHES "^layer[ \t]+([a-z]+):([^|]*)\\|([^|]*)$")
    set(name ${CMAKE_MATCH_1})
    set(libs_text "${CMAKE_MATCH_3}") # the next regex resets CMAKE_MATCH_*
    string(REGEX MATCHALL "[^ \t]+" deps "${CMAKE_MATCH_2}")
    string(REGEX MATCHALL "[^ \t]+" libs "${libs_text}")
    if(name IN_LIST COORDHUB_LAYERS)
      message(FATAL_ERROR "cmake/layers.txt: layer ${name} is listed twice")
    endif()
    foreach(dep IN LISTS deps)
      if(NOT dep IN_LIST COORDHUB_LAYERS)
        message(FATAL_ERROR "cmake/layers.txt: layer ${name} uses ${dep}, "
                            "which is not a layer listed before it")
      endif()
    endforeach()
    list(APPEND COORDHUB_LAYERS ${name})
    set(COORDHUB_LAYER_${name}_DEPS ${deps})
    set(COORDHUB_LAYER_${name}_LIBS ${libs})
  elseif(row MATCHES "^lib[ \t]+([a-z0-9_]+)[ \t]+([^ \t]+)")
    set(COORDHUB_LIB_${CMAKE_MATCH_1} ${CMAKE_MATCH_2})
  else()
    message(FATAL_ERROR "cmake/layers.txt: cannot read the line \"${row}\" "
                        "(want `layer NAME: LAYERS | LIBS` or `lib NAME TARGET HEADERS`)")
  endif()
endforeach()

# A directory of src/ that is not in the table would silently not be built.
file(GLOB coordhub_dirs LIST_DIRECTORIES true ${PROJECT_SOURCE_DIR}/src/*)
foreach(dir IN LISTS coordhub_dirs)
  get_filename_component(name ${dir} NAME)
  if(IS_DIRECTORY ${dir} AND NOT name IN_LIST COORDHUB_LAYERS)
    message(FATAL_ERROR "src/${name}/ is not a layer of cmake/layers.txt: "
                        "add a `layer ${name}:` line naming what it uses")
  endif()
endforeach()

# One static library per layer (an interface library while it has no
# sources); src/app/main.c is the executable's, not the layer's.
function(coordhub_layer name)
  set(targets "")
  foreach(dep IN LISTS COORDHUB_LAYER_${name}_DEPS)
    list(APPEND targets ch_${dep})
  endforeach()
  foreach(lib IN LISTS COORDHUB_LAYER_${name}_LIBS)
    if(NOT DEFINED COORDHUB_LIB_${lib})
      message(FATAL_ERROR "cmake/layers.txt: layer ${name} uses the library ${lib}, "
                          "which has no `lib ${lib}` line")
    endif()
    list(APPEND targets ${COORDHUB_LIB_${lib}})
  endforeach()
  set(inc ${PROJECT_BINARY_DIR}/layers/${name})
  file(MAKE_DIRECTORY ${inc})
  file(CREATE_LINK ${PROJECT_SOURCE_DIR}/src/${name} ${inc}/${name} SYMBOLIC)
  file(GLOB srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${name}/*.c)
  list(FILTER srcs EXCLUDE REGEX ".*/src/app/main\\.c$")
  if(srcs)
    add_library(ch_${name} STATIC ${srcs})
    target_include_directories(ch_${name} PUBLIC ${inc})
    target_link_libraries(ch_${name} PUBLIC ${targets})
  else()
    add_library(ch_${name} INTERFACE)
    target_include_directories(ch_${name} INTERFACE ${inc})
    target_link_libraries(ch_${name} INTERFACE ${targets})
  endif()
endfunction()

foreach(name IN LISTS COORDHUB_LAYERS)
  coordhub_layer(${name})
endforeach()

# The layers the given sources include, in ${out}: a `#include "L/…"` of a
# layer L counts, a `#include "f.h"` naming a file beside the includer is
# followed (a test's fixtures). Any other quoted include fails the
# configure, naming the file. The sources are configure dependencies, so
# an include added to a test relinks it against the right layers.
function(coordhub_included_layers out)
  set(layers "")
  set(seen "")
  set(todo ${ARGN})
  while(todo)
    list(POP_FRONT todo file)
    if(file IN_LIST seen)
      continue()
    endif()
    list(APPEND seen ${file})
    get_filename_component(dir ${file} DIRECTORY)
    file(STRINGS ${file} includes REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
    foreach(line IN LISTS includes)
      string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]*)\".*$" "\\1" inc "${line}")
      if(EXISTS ${dir}/${inc} AND NOT IS_DIRECTORY ${dir}/${inc})
        get_filename_component(path ${dir}/${inc} ABSOLUTE)
        list(APPEND todo ${path})
      elseif(inc MATCHES "^([a-z]+)/[^/]+$" AND CMAKE_MATCH_1 IN_LIST COORDHUB_LAYERS)
        list(APPEND layers ${CMAKE_MATCH_1})
      else()
        file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${file})
        message(FATAL_ERROR "${rel}: #include \"${inc}\" is neither a file beside it "
                            "nor a header of a layer in cmake/layers.txt")
      endif()
    endforeach()
  endwhile()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${seen})
  list(REMOVE_DUPLICATES layers)
  set(${out} ${layers} PARENT_SCOPE)
endfunction()

# Link target against the layers its sources include (none: it links no
# layer) and record them in build/layers/links.txt, where the layering
# test reads which libraries the target may have on its link line.
function(coordhub_link_included target)
  coordhub_included_layers(layers ${ARGN})
  set(libs "")
  foreach(layer IN LISTS layers)
    list(APPEND libs ch_${layer})
  endforeach()
  target_link_libraries(${target} PRIVATE ${libs})
  list(JOIN layers " " text)
  file(APPEND ${PROJECT_BINARY_DIR}/layers/links.txt "${target}: ${text}\n")
endfunction()
file(WRITE ${PROJECT_BINARY_DIR}/layers/links.txt
     "# target: the layers it links (written by cmake/layers.cmake)\n")
