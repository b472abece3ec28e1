#pragma once
// A protocol buffer message written field by field (the wire format, without generated code):
// enough for the TensorBoard event files. Fields are written when called, defaults included, so
// a oneof member holding 0 or false is still present.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace mlq {

class ProtoMessage {
 public:
  // int32, int64, uint64, bool and enum fields (negative values take ten bytes, as protobuf's).
  ProtoMessage& varint(int field, uint64_t value) {
    key(field, 0);
    put_varint(value);
    return *this;
  }
  ProtoMessage& double_field(int field, double value) {
    key(field, 1);
    uint64_t bits = 0;
    std::memcpy(&bits, &value, sizeof bits);
    for (int shift = 0; shift < 64; shift += 8) bytes_ += static_cast<char>((bits >> shift) & 0xFF);
    return *this;
  }
  ProtoMessage& float_field(int field, float value) {
    key(field, 5);
    uint32_t bits = 0;
    std::memcpy(&bits, &value, sizeof bits);
    for (int shift = 0; shift < 32; shift += 8) bytes_ += static_cast<char>((bits >> shift) & 0xFF);
    return *this;
  }
  // string, bytes and embedded message fields.
  ProtoMessage& bytes(int field, std::string_view value) {
    key(field, 2);
    put_varint(value.size());
    bytes_.append(value);
    return *this;
  }
  ProtoMessage& message(int field, const ProtoMessage& value) { return bytes(field, value.bytes_); }

  const std::string& data() const { return bytes_; }

 private:
  void key(int field, int wire_type) {
    put_varint((static_cast<uint64_t>(field) << 3) | static_cast<uint64_t>(wire_type));
  }
  void put_varint(uint64_t value) {
    while (value >= 0x80) {
      bytes_ += static_cast<char>((value & 0x7F) | 0x80);
      value >>= 7;
    }
    bytes_ += static_cast<char>(value);
  }
  std::string bytes_;
};

}  // namespace mlq
