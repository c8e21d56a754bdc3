# proto: the wire and file schemas (Payment, Alert, RulePack, engine state).
# Generated code lives in its own target; include it as "proto/payment.pb.h".
#
# Included from the top-level CMakeLists.txt (not add_subdirectory) because
# CMake 3.25's protobuf_generate() passes -I ${CMAKE_CURRENT_SOURCE_DIR}: from
# the repository root the files keep their "proto/..." names, so imports and
# #includes are rooted at the repository like every other header.
add_library(txflag_proto
  proto/payment.proto
  proto/alert.proto
  proto/repartition.proto
  proto/rule_pack.proto
  proto/state.proto)
add_library(txflag::proto ALIAS txflag_proto)
protobuf_generate(TARGET txflag_proto LANGUAGE cpp
  PROTOC_OUT_DIR ${PROJECT_BINARY_DIR})
target_include_directories(txflag_proto PUBLIC ${PROJECT_BINARY_DIR} ${Protobuf_INCLUDE_DIRS})
target_link_libraries(txflag_proto PUBLIC protobuf::libprotobuf)
# Generated code trips a few of our warnings; they are not ours to fix.
target_compile_options(txflag_proto PRIVATE -w)

# PaymentView and its protobuf-wire reader: the hot path's allocation-free
# view of a Payment (proto/payment_view.h). Built with our warnings, unlike
# the generated code.
add_library(txflag_payment_view proto/payment_view.cc proto/leg_view.cc)
add_library(txflag::payment_view ALIAS txflag_payment_view)
target_link_libraries(txflag_payment_view PUBLIC txflag::proto txflag::base)
txflag_test(payment_view_test SOURCES proto/payment_view_test.cc
  LIBS txflag::payment_view)
txflag_test(leg_view_test SOURCES proto/leg_view_test.cc
  LIBS txflag::payment_view)
