#!/usr/bin/python3
"""Decodes a TensorBoard event file independently of the C++ writer and prints it as JSON.

Own bitwise CRC-32C and own protobuf wire-format parser; the field numbers are those of
tensorboard/compat/proto/{event,summary,tensor}.proto and the hparams plugin's
plugin_data.proto/api.proto. Embedded PNGs are checked with Python's zlib (chunk CRCs, the
inflated size), WAV headers with struct. Any framing or CRC error prints {"error": ...} and
exits 1.

usage: read_tfevents.py EVENTS_FILE
"""
import json
import struct
import sys
import zlib


class DecodeError(Exception):
    pass


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def masked(crc):
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def records(data):
    offset = 0
    while offset < len(data):
        if len(data) - offset < 12:
            raise DecodeError("truncated record header at byte %d" % offset)
        header = data[offset:offset + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[offset + 8:offset + 12])
        if masked(crc32c(header)) != length_crc:
            raise DecodeError("length crc mismatch at byte %d" % offset)
        start = offset + 12
        if start + length + 4 > len(data):
            raise DecodeError("truncated record at byte %d" % offset)
        payload = data[start:start + length]
        (data_crc,) = struct.unpack("<I", data[start + length:start + length + 4])
        if masked(crc32c(payload)) != data_crc:
            raise DecodeError("data crc mismatch in the record at byte %d" % offset)
        yield payload
        offset = start + length + 4


def varint(data, pos):
    result = shift = 0
    while True:
        if pos >= len(data):
            raise DecodeError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def fields(data):
    """Yields (field number, wire type, value): ints for varints, bytes otherwise."""
    pos = 0
    while pos < len(data):
        key, pos = varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = varint(data, pos)
        elif wire == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == 2:
            length, pos = varint(data, pos)
            value, pos = data[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            raise DecodeError("unsupported wire type %d" % wire)
        if pos > len(data):
            raise DecodeError("field %d runs past its message" % number)
        yield number, wire, value


def f64(raw):
    return struct.unpack("<d", raw)[0]


def f32(raw):
    return struct.unpack("<f", raw)[0]


def signed64(n):
    return n - (1 << 64) if n >= 1 << 63 else n


def google_value(data):
    for number, _, value in fields(data):
        if number == 2:
            return f64(value)
        if number == 3:
            return value.decode()
        if number == 4:
            return bool(value)
    return None


def session_start(data):
    out = {"hparams": {}}
    for number, _, value in fields(data):
        if number == 1:
            entry = dict((n, v) for n, _, v in fields(value))
            out["hparams"][entry[1].decode()] = google_value(entry.get(2, b""))
        elif number == 2:
            out["model_uri"] = value.decode()
        elif number == 4:
            out["group_name"] = value.decode()
        elif number == 5:
            out["start_time_secs"] = f64(value)
    return out


def experiment(data):
    out = {"hparam_infos": [], "metric_infos": []}
    for number, _, value in fields(data):
        if number == 3:
            out["time_created_secs"] = f64(value)
        elif number == 4:
            info = {}
            for n, _, v in fields(value):
                if n == 1:
                    info["name"] = v.decode()
                elif n == 4:
                    info["type"] = v
                elif n == 5:
                    info["domain_discrete"] = [google_value(x) for _, _, x in fields(v)]
            out["hparam_infos"].append(info)
        elif number == 5:
            for n, _, v in fields(value):
                if n == 1:
                    name = dict((a, b.decode()) for a, _, b in fields(v))
                    out["metric_infos"].append({"group": name.get(1, ""), "tag": name.get(2, "")})
    return out


def hparams_plugin_data(data):
    out = {"version": 0}
    for number, _, value in fields(data):
        if number == 1:
            out["version"] = value
        elif number == 2:
            out["experiment"] = experiment(value)
        elif number == 3:
            out["session_start_info"] = session_start(value)
        elif number == 4:
            end = dict((n, v) for n, _, v in fields(value))
            out["session_end_info"] = {"status": end.get(1, 0),
                                       "end_time_secs": f64(end[2]) if 2 in end else 0}
    return out


def png_info(data):
    out = {"signature": data[:8] == b"\x89PNG\r\n\x1a\n", "chunks": [], "crc_ok": True}
    pos, idat = 8, b""
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        out["crc_ok"] &= zlib.crc32(kind + body) & 0xFFFFFFFF == crc
        out["chunks"].append(kind.decode("latin-1"))
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            out.update(width=width, height=height, bit_depth=depth, color_type=color)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    try:
        pixels = zlib.decompress(idat)
        out["inflated_bytes"] = len(pixels)
        rows = [pixels[r * (out["width"] * 3 + 1):(r + 1) * (out["width"] * 3 + 1)]
                for r in range(out["height"])]
        out["filters"] = sorted(set(row[0] for row in rows))
        colours = set()
        for row in rows:
            for x in range(1, len(row), 3):
                colours.add("%02x%02x%02x" % (row[x], row[x + 1], row[x + 2]))
        out["colours"] = sorted(colours)
    except (zlib.error, KeyError) as error:
        out["inflate_error"] = str(error)
    return out


def wav_info(data):
    riff, size, wave, fmt, fmt_size, codec, channels, rate, byte_rate, align, bits, tag, length = (
        struct.unpack("<4sI4s4sIHHIIHH4sI", data[:44]))
    samples = struct.unpack("<%dh" % (length // 2), data[44:44 + length])
    return {"riff": riff.decode(), "riff_size": size, "wave": wave.decode(), "fmt": fmt.decode(),
            "fmt_size": fmt_size, "codec": codec, "channels": channels, "sample_rate": rate,
            "byte_rate": byte_rate, "block_align": align, "bits": bits, "data": tag.decode(),
            "data_bytes": length, "file_bytes": len(data),
            "min": min(samples) if samples else 0, "max": max(samples) if samples else 0}


def summary_value(data):
    out = {}
    for number, _, value in fields(data):
        if number == 1:
            out["tag"] = value.decode()
        elif number == 2:
            out["simple_value"] = f32(value)
        elif number == 4:
            image = {}
            for n, _, v in fields(value):
                if n == 1:
                    image["height"] = v
                elif n == 2:
                    image["width"] = v
                elif n == 3:
                    image["colorspace"] = v
                elif n == 4:
                    image["png"] = png_info(v)
            out["image"] = image
        elif number == 6:
            clip = {}
            for n, _, v in fields(value):
                if n == 1:
                    clip["sample_rate"] = f32(v)
                elif n == 2:
                    clip["num_channels"] = v
                elif n == 3:
                    clip["length_frames"] = v
                elif n == 4:
                    clip["wav"] = wav_info(v)
                elif n == 5:
                    clip["content_type"] = v.decode()
            out["audio"] = clip
        elif number == 8:
            tensor = {"dims": []}
            for n, _, v in fields(value):
                if n == 1:
                    tensor["dtype"] = v
                elif n == 2:
                    for dn, _, dim in fields(v):
                        if dn == 2:
                            size = dict((a, b) for a, _, b in fields(dim)).get(1, 0)
                            tensor["dims"].append(size)
            out["tensor"] = tensor
        elif number == 9:
            meta = {}
            for n, _, v in fields(value):
                if n == 1:
                    plugin = dict((a, b) for a, _, b in fields(v))
                    meta["plugin_name"] = plugin.get(1, b"").decode()
                    if meta["plugin_name"] == "hparams":
                        meta["hparams"] = hparams_plugin_data(plugin.get(2, b""))
                elif n == 4:
                    meta["data_class"] = v
            out["metadata"] = meta
    return out


def event(data):
    out = {}
    for number, _, value in fields(data):
        if number == 1:
            out["wall_time"] = f64(value)
        elif number == 2:
            out["step"] = signed64(value)
        elif number == 3:
            out["file_version"] = value.decode()
        elif number == 5:
            out["summary"] = [summary_value(v) for n, _, v in fields(value) if n == 1]
        elif number == 7:
            out["session_log"] = dict((n, v) for n, _, v in fields(value)).get(1, 0)
        else:
            out.setdefault("other_fields", []).append(number)
    out.setdefault("step", 0)
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(sys.argv[1], "rb") as f:
        data = f.read()
    try:
        events = [event(r) for r in records(data)]
    except (DecodeError, UnicodeDecodeError, struct.error, KeyError) as error:
        print(json.dumps({"error": str(error)}))
        sys.exit(1)
    print(json.dumps({"records": len(events), "events": events}, indent=1))


if __name__ == "__main__":
    main()
