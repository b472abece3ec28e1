// Event files decoded by an independent reader (tests/tools/read_tfevents.py): TFRecord framing
// and masked CRC-32C of every record, the Event/Summary fields, the PNG and WAV inside.
#include <doctest/doctest.h>

#include <cstring>
#include <thread>
#include <vector>

#include "loggers/tensorboard_file.hpp"
#include "mlq/media/png.hpp"
#include "mlq/media/wav.hpp"
#include "mlq/util/error.hpp"
#include "support/small_filesystem.hpp"
#include "support/temp_dir.hpp"
#include "support/tfevents.hpp"

namespace fs = std::filesystem;
using mlq::EventFileWriter;
using nlohmann::json;
using namespace mlq::test;

namespace {

// Writes the file every case below reads: scalars, an image, audio, hparams, a restart, the end.
fs::path write_sample(const TempDir& dir) {
  EventFileWriter writer(dir / "tb");
  writer.add_hparams({{"trainer.lr", 0.003},
                      {"trainer.seed", 0.0},
                      {"model.name", "mlp"},
                      {"trainer.deterministic", false}},
                     "/runs/x/checkpoints", 1700000000.5);
  writer.add_hparams_experiment({{"trainer.lr", 0.003}, {"model.name", "mlp"}},
                                {"train_loss", "val_loss"});
  writer.add_scalar("train_loss", 0.25, 1);
  writer.add_scalar("lr", 1e-3, 1);
  writer.add_scalar("train_loss", -2.5, 300);
  // 4 x 2 pixels: red, green, blue, white / black, ...
  std::vector<uint8_t> rgb = {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255,
                              0,   0, 0, 9, 9,   9, 9, 9, 9,   9,   9,   9};
  writer.add_image("val_piano_roll", mlq::encode_png_rgb(rgb.data(), 4, 2), 4, 2, 300);
  std::vector<float> samples(1600);
  for (size_t i = 0; i < samples.size(); ++i) samples[i] = static_cast<float>(i) / 800.0f - 1.0f;
  samples[0] = -3.0f;  // clipped
  samples[1] = 1.5f;   // clipped
  writer.add_audio("val_audio", mlq::encode_wav_pcm16(samples.data(), samples.size(), 16000), 16000,
                   static_cast<int64_t>(samples.size()), 300);
  writer.add_session_start(200);
  writer.add_session_end(mlq::SessionStatus::Success, 1700000100.25);
  return writer.path();
}

const json& summary_of(const json& event) {
  REQUIRE_MESSAGE(event.contains("summary"), event.dump());
  REQUIRE(event["summary"].size() == 1);
  return event["summary"][0];
}

}  // namespace

TEST_CASE("tensorboard: CRC-32C and its TFRecord mask match the published check values") {
  CHECK(mlq::crc32c("123456789", 9) == 0xE3069283u);
  CHECK(mlq::crc32c("", 0) == 0u);
  const uint32_t crc = mlq::crc32c("123456789", 9);
  CHECK(mlq::masked_crc32c("123456789", 9) == ((crc >> 15) | (crc << 17)) + 0xa282ead8u);
}

TEST_CASE("tensorboard: every record, tag, step, value, image and clip decodes independently") {
  TempDir dir;
  const fs::path file = write_sample(dir);
  CHECK(file.parent_path() == dir / "tb");
  CHECK(file.filename().string().rfind("events.out.tfevents.", 0) == 0);
  const json decoded = decode_tfevents(file);
  const json& events = decoded["events"];
  REQUIRE(decoded["records"] == 10);
  REQUIRE(events.size() == 10);
  CHECK(events[0]["file_version"] == "brain.Event:2");
  for (const auto& event : events) CHECK(event["wall_time"].get<double>() > 1.6e9);

  const json& start = summary_of(events[1]);
  CHECK(start["tag"] == "_hparams_/session_start_info");
  CHECK(start["metadata"]["plugin_name"] == "hparams");
  CHECK(start["metadata"]["data_class"] == 2);
  CHECK(start["tensor"]["dtype"] == 1);
  CHECK(start["tensor"]["dims"] == json::array({0}));
  const json& info = start["metadata"]["hparams"]["session_start_info"];
  CHECK(start["metadata"]["hparams"]["version"] == 0);
  CHECK(info["hparams"]["trainer.lr"].get<double>() == 0.003);
  CHECK(info["hparams"]["trainer.seed"] == 0.0);  // a zero is still set in the oneof
  CHECK(info["hparams"]["model.name"] == "mlp");
  CHECK(info["hparams"]["trainer.deterministic"] == false);
  CHECK(info["model_uri"] == "/runs/x/checkpoints");
  CHECK(info["start_time_secs"] == 1700000000.5);

  const json& experiment = summary_of(events[2])["metadata"]["hparams"]["experiment"];
  CHECK(summary_of(events[2])["tag"] == "_hparams_/experiment");
  REQUIRE(experiment["hparam_infos"].size() == 2);
  CHECK(experiment["hparam_infos"][0] ==
        json({{"name", "model.name"}, {"type", 1}, {"domain_discrete", {"mlp"}}}));
  CHECK(experiment["hparam_infos"][1] == json({{"name", "trainer.lr"}, {"type", 3}}));
  CHECK(experiment["metric_infos"] == json::array({{{"group", ""}, {"tag", "train_loss"}},
                                                   {{"group", ""}, {"tag", "val_loss"}}}));

  CHECK(events[3]["step"] == 1);
  CHECK(summary_of(events[3])["tag"] == "train_loss");
  CHECK(summary_of(events[3])["simple_value"] == 0.25);
  CHECK(summary_of(events[4])["tag"] == "lr");
  CHECK(summary_of(events[4])["simple_value"].get<double>() == doctest::Approx(1e-3).epsilon(1e-7));
  CHECK(events[5]["step"] == 300);
  CHECK(summary_of(events[5])["simple_value"] == -2.5);

  const json& image = summary_of(events[6]);
  CHECK(image["tag"] == "val_piano_roll");
  CHECK(events[6]["step"] == 300);
  CHECK(image["image"]["width"] == 4);
  CHECK(image["image"]["height"] == 2);
  CHECK(image["image"]["colorspace"] == 3);
  const json& png = image["image"]["png"];
  CHECK(png["signature"] == true);
  CHECK(png["crc_ok"] == true);
  CHECK(png["chunks"] == json::array({"IHDR", "IDAT", "IEND"}));
  CHECK(png["width"] == 4);
  CHECK(png["height"] == 2);
  CHECK(png["bit_depth"] == 8);
  CHECK(png["color_type"] == 2);
  CHECK(png["inflated_bytes"] == 2 * (4 * 3 + 1));
  CHECK(png["colours"] ==
        json::array({"000000", "0000ff", "00ff00", "090909", "ff0000", "ffffff"}));

  const json& audio = summary_of(events[7]);
  CHECK(audio["tag"] == "val_audio");
  CHECK(audio["audio"]["sample_rate"] == 16000.0);
  CHECK(audio["audio"]["num_channels"] == 1);
  CHECK(audio["audio"]["length_frames"] == 1600);
  CHECK(audio["audio"]["content_type"] == "audio/wav");
  const json& wav = audio["audio"]["wav"];
  CHECK(wav["riff"] == "RIFF");
  CHECK(wav["wave"] == "WAVE");
  CHECK(wav["fmt"] == "fmt ");
  CHECK(wav["riff_size"] == 36 + 3200);
  CHECK(wav["codec"] == 1);
  CHECK(wav["channels"] == 1);
  CHECK(wav["sample_rate"] == 16000);
  CHECK(wav["byte_rate"] == 32000);
  CHECK(wav["block_align"] == 2);
  CHECK(wav["bits"] == 16);
  CHECK(wav["data"] == "data");
  CHECK(wav["data_bytes"] == 3200);
  CHECK(wav["file_bytes"] == 44 + 3200);
  CHECK(wav["min"] == -32767);
  CHECK(wav["max"] == 32767);

  CHECK(events[8]["step"] == 200);
  CHECK(events[8]["session_log"] == 1);  // START: TensorBoard drops steps >= 200 seen before
  const json& end = summary_of(events[9]);
  CHECK(end["tag"] == "_hparams_/session_end_info");
  CHECK(end["metadata"]["hparams"]["session_end_info"] ==
        json({{"status", 1}, {"end_time_secs", 1700000100.25}}));
}

TEST_CASE("tensorboard: the independent reader rejects a flipped byte, a bad length and a cut") {
  TempDir dir;
  const fs::path file = write_sample(dir);
  const std::string bytes = read_file(file);
  bool ok = false;
  decode_tfevents(file, &ok);
  REQUIRE(ok);

  // The 4th record (train_loss at step 1): a byte of its data, then a byte of its length.
  size_t offset = 0;
  for (int r = 0; r < 3; ++r) {
    uint64_t length = 0;
    std::memcpy(&length, bytes.data() + offset, 8);
    offset += 12 + length + 4;
  }
  std::string corrupt = bytes;
  corrupt[offset + 12 + 5] ^= 0x01;
  write_file(dir / "data.tfevents", corrupt);
  json error = decode_tfevents(dir / "data.tfevents", &ok);
  CHECK(!ok);
  CHECK_MESSAGE(error["error"].get<std::string>().find("data crc mismatch") != std::string::npos,
                error.dump());

  corrupt = bytes;
  corrupt[offset] ^= 0x04;
  write_file(dir / "length.tfevents", corrupt);
  error = decode_tfevents(dir / "length.tfevents", &ok);
  CHECK(!ok);
  CHECK_MESSAGE(error["error"].get<std::string>().find("length crc mismatch") != std::string::npos,
                error.dump());

  corrupt = bytes;
  corrupt[bytes.size() - 1] ^= 0x80;  // the last record's data CRC
  write_file(dir / "crc.tfevents", corrupt);
  decode_tfevents(dir / "crc.tfevents", &ok);
  CHECK(!ok);

  write_file(dir / "cut.tfevents", bytes.substr(0, bytes.size() - 3));
  error = decode_tfevents(dir / "cut.tfevents", &ok);
  CHECK(!ok);
  CHECK_MESSAGE(error["error"].get<std::string>().find("truncated") != std::string::npos,
                error.dump());
}

TEST_CASE("tensorboard: a second writer in the same second gets a file of its own") {
  TempDir dir;
  const fs::path first = EventFileWriter(dir / "tb").path();
  const fs::path second = EventFileWriter(dir / "tb").path();
  CHECK(first != second);
  CHECK(tfevents_files(dir / "tb").size() == 2);
  for (const auto& file : tfevents_files(dir / "tb"))
    CHECK(decode_tfevents(file)["events"][0]["file_version"] == "brain.Event:2");
}

TEST_CASE("tensorboard: a folder that cannot be made is a one-line error naming it") {
  TempDir dir;
  write_file(dir / "file", "x");
  try {
    EventFileWriter writer(dir / "file" / "tb");
    FAIL("no error");
  } catch (const mlq::UserError& error) {
    const std::string message = error.what();
    CHECK_MESSAGE(message.find((dir / "file" / "tb").string()) != std::string::npos, message);
    CHECK(message.find('\n') == std::string::npos);
  }
}

TEST_CASE("png and wav: sizes and clipping") {
  const uint8_t pixel[3] = {1, 2, 3};
  const std::string png = mlq::encode_png_rgb(pixel, 1, 1);
  CHECK(png.substr(0, 8) == "\x89PNG\r\n\x1a\n");
  CHECK_THROWS_AS(mlq::encode_png_rgb(pixel, 0, 1), std::invalid_argument);
  // More than one stored deflate block (65535 bytes each).
  std::vector<uint8_t> big(300 * 100 * 3, 7);
  TempDir dir;
  {
    EventFileWriter writer(dir / "tb");
    writer.add_image("big", mlq::encode_png_rgb(big.data(), 300, 100), 300, 100, 0);
  }
  const json png_info =
      summary_of(decode_tfevents(tfevents_files(dir / "tb")[0])["events"][1])["image"]["png"];
  CHECK(png_info["inflated_bytes"] == 100 * (300 * 3 + 1));
  CHECK(png_info["colours"] == json::array({"070707"}));
  CHECK(png_info["crc_ok"] == true);

  const float samples[3] = {0.5f, -0.5f, 2.0f};
  const std::string wav = mlq::encode_wav_pcm16(samples, 3, 8000);
  REQUIRE(wav.size() == 44 + 6);
  CHECK(static_cast<uint8_t>(wav[44]) == (16384 & 0xFF));  // lround(0.5 * 32767) = 16384
  CHECK(static_cast<uint8_t>(wav[48]) == 0xFF);            // 32767, clipped
  CHECK(static_cast<uint8_t>(wav[49]) == 0x7F);
}

TEST_CASE("an event file on a full disk: a named error, and only whole records stay") {
  mlq::test::SmallFilesystem disk(64 << 10);
  MLQ_REQUIRE_MOUNTED(disk);
  EventFileWriter writer(disk / "tb");
  std::string error;
  try {
    for (int step = 0; step < 100000; ++step) writer.add_scalar("loss", 1.0 / (step + 1), step);
  } catch (const mlq::UserError& e) {
    error = e.what();
  }
  CHECK(error == writer.path().string() + ": cannot write: No space left on device");
  // The file still decodes to its end (CRCs, framing): the failed record was cut off whole.
  const nlohmann::json decoded = decode_tfevents(writer.path());
  CHECK(decoded["events"].size() > 100);
}

TEST_CASE("PNG images are deflated and decode in PIL pixel for pixel") {
  TempDir dir;
  const int width = 300, height = 88;  // a piano roll's shape: mostly one colour
  std::vector<uint8_t> rgb(static_cast<size_t>(width * height * 3), 255);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      if ((x / 7 + y) % 13 == 0) {
        uint8_t* pixel = &rgb[static_cast<size_t>((y * width + x) * 3)];
        pixel[0] = static_cast<uint8_t>(x % 256), pixel[1] = static_cast<uint8_t>(y * 2),
        pixel[2] = 40;
      }
  const std::string png = mlq::encode_png_rgb(rgb.data(), width, height);
  CHECK(png.size() < rgb.size() / 10);  // stored blocks were larger than the pixels
  write_file(dir / "roll.png", png);
  const auto decoded =
      run_process({"/usr/bin/python3", "-c",
                   "import sys, hashlib; from PIL import Image; im = Image.open(sys.argv[1]); "
                   "print(im.format, im.mode, im.size[0], im.size[1], "
                   "hashlib.sha256(im.tobytes()).hexdigest())",
                   (dir / "roll.png").string()});
  REQUIRE_MESSAGE(decoded.exit_code == 0, decoded.out);
  write_file(dir / "pixels.raw",
             std::string(reinterpret_cast<const char*>(rgb.data()), rgb.size()));
  const auto expected = run_process({"/usr/bin/python3", "-c",
                                     "import sys, hashlib; "
                                     "print(hashlib.sha256(open(sys.argv[1], 'rb').read())"
                                     ".hexdigest())",
                                     (dir / "pixels.raw").string()});
  CHECK(decoded.out == "PNG RGB 300 88 " + expected.out);
}
