# mlq_add_plugin(<task> SOURCES ...): builds libmlq_<task>.so into the plugin folder.
function(mlq_add_plugin name)
  cmake_parse_arguments(P "" "OUTPUT_DIR" "SOURCES" ${ARGN})
  if(NOT P_OUTPUT_DIR)
    set(P_OUTPUT_DIR ${MLQ_PLUGIN_OUTPUT_DIR})
  endif()
  add_library(mlq_${name} MODULE ${P_SOURCES})
  target_link_libraries(mlq_${name} PRIVATE mlq::train)
  set_target_properties(mlq_${name} PROPERTIES
    PREFIX "lib" OUTPUT_NAME "mlq_${name}"
    LIBRARY_OUTPUT_DIRECTORY ${P_OUTPUT_DIR}
    CXX_VISIBILITY_PRESET hidden)
endfunction()
