#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "mlq/audio/maestro.hpp"
#include "mlq/util/error.hpp"
#include "mlq/util/text.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using mlq::MaestroRecord;
using mlq::test::TempDir;
using mlq::test::write_file;

namespace {

const std::string kHeader =
    "canonical_composer,canonical_title,split,year,midi_filename,audio_filename,duration";

MaestroRecord make(std::string composer, std::string title, std::string split, int year,
                   std::string midi, std::string audio, double duration) {
  MaestroRecord r;
  r.canonical_composer = std::move(composer);
  r.canonical_title = std::move(title);
  r.split = std::move(split);
  r.year = year;
  r.midi_filename = std::move(midi);
  r.audio_filename = std::move(audio);
  r.duration = duration;
  return r;
}

void check_records(const std::vector<MaestroRecord>& actual,
                   const std::vector<MaestroRecord>& expected) {
  REQUIRE(actual.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("record " << i);
    CHECK(actual[i].canonical_composer == expected[i].canonical_composer);
    CHECK(actual[i].canonical_title == expected[i].canonical_title);
    CHECK(actual[i].split == expected[i].split);
    CHECK(actual[i].year == expected[i].year);
    CHECK(actual[i].midi_filename == expected[i].midi_filename);
    CHECK(actual[i].audio_filename == expected[i].audio_filename);
    CHECK(actual[i].duration == expected[i].duration);
  }
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string read_error(const fs::path& file) {
  try {
    mlq::read_maestro_metadata(file);
  } catch (const mlq::UserError& error) {
    return error.what();
  }
  return "(no error)";
}

std::string write_error(const fs::path& file, const std::vector<MaestroRecord>& records) {
  try {
    mlq::write_maestro_csv(file, records);
  } catch (const mlq::UserError& error) {
    return error.what();
  }
  return "(no error)";
}

// The message is one line, names the file and contains every detail.
void check_message(const std::string& message, const fs::path& file,
                   const std::vector<std::string>& details) {
  INFO("message: " << message);
  CHECK(message.find(file.string()) != std::string::npos);
  CHECK(message.find('\n') == std::string::npos);
  CHECK(message.find('\r') == std::string::npos);
  for (const auto& detail : details) {
    INFO("expected detail: " << detail);
    CHECK(message.find(detail) != std::string::npos);
  }
}

// Writes `content` to dir/name and checks the error reading it.
void check_read_error(const TempDir& dir, const std::string& name, const std::string& content,
                      const std::vector<std::string>& details) {
  INFO("file " << name);
  const fs::path file = dir / name;
  write_file(file, content);
  check_message(read_error(file), file, details);
}

const std::string kTrickyTitle = "\xC3\x89tude Op. 10, No. 3 \"Tristesse\"";  // Étude

// Eleven rows; row 3 has the tricky strings.
std::vector<MaestroRecord> eleven_rows() {
  const char* splits[] = {"train", "validation", "test"};
  std::vector<MaestroRecord> rows;
  for (int i = 0; i <= 10; ++i) {
    const std::string n = std::to_string(i);
    rows.push_back(make(i == 3 ? "Fr\xC3\xA9\x64\xC3\xA9ric Chopin" : "Composer " + n,
                        i == 3 ? kTrickyTitle : "Title " + n, splits[i % 3], 2004 + i,
                        "2004/" + n + ".midi", "2004/" + n + ".wav", 100.25 + i));
  }
  return rows;
}

std::string number_text(double value) {
  return std::to_string(value);
}  // exact for x.25

}  // namespace

TEST_CASE("maestro: CSV with BOM, CRLF and tricky quoted fields parses exactly") {
  TempDir dir;
  const fs::path file = dir / "maestro-v3.0.0.csv";
  write_file(
      file, "\xEF\xBB\xBF" + kHeader +
                "\r\n"
                "Alban Berg,Sonata Op. 1,train,2018,2018/MIDI-Unprocessed_01.midi,"
                "2018/MIDI-Unprocessed_01.wav,698.661160312\r\n"
                "Fr\xC3\xA9\x64\xC3\xA9ric Chopin,\"\xC3\x89tude Op. 10, No. 3 \"\"Tristesse\"\"\","
                "validation,2009,2009/a.midi,2009/a.wav,180.5\r\n"
                "\"Johann Sebastian Bach / Ferruccio Busoni\",\"Chaconne, \"\"BWV 1004\"\"\r\n"
                "(arr.)\",test,2004,\"2004/b,1.midi\",2004/b.wav,1e3\r\n"
                "Sergei Rachmaninoff,\"\",train, 2017 ,2017/c.midi,2017/c.wav,0\r\n");
  check_records(
      mlq::read_maestro_metadata(file),
      {make("Alban Berg", "Sonata Op. 1", "train", 2018, "2018/MIDI-Unprocessed_01.midi",
            "2018/MIDI-Unprocessed_01.wav", 698.661160312),
       make("Fr\xC3\xA9\x64\xC3\xA9ric Chopin", kTrickyTitle, "validation", 2009, "2009/a.midi",
            "2009/a.wav", 180.5),
       make("Johann Sebastian Bach / Ferruccio Busoni", "Chaconne, \"BWV 1004\"\r\n(arr.)", "test",
            2004, "2004/b,1.midi", "2004/b.wav", 1000),
       make("Sergei Rachmaninoff", "", "train", 2017, "2017/c.midi", "2017/c.wav", 0)});
}

TEST_CASE("maestro: CSV columns in any order, extra columns ignored, LF and no final newline") {
  TempDir dir;
  const fs::path file = dir / "meta.csv";
  write_file(file,
             "duration,extra,split,canonical_title,year,canonical_composer,audio_filename,"
             "midi_filename,notes\n"
             "12.5,\"x, y\",test,Waltz,2011,Chopin,2011/w.wav,2011/w.midi,\n"
             "3,,train,\"Sonata \"\"Pathetique\"\"\",2015,Beethoven,2015/s.wav,2015/s.midi,ok");
  check_records(
      mlq::read_maestro_metadata(file),
      {make("Chopin", "Waltz", "test", 2011, "2011/w.midi", "2011/w.wav", 12.5),
       make("Beethoven", "Sonata \"Pathetique\"", "train", 2015, "2015/s.midi", "2015/s.wav", 3)});
}

TEST_CASE("maestro: header-only CSV and an empty JSON list have no rows") {
  TempDir dir;
  write_file(dir / "header.csv", kHeader + "\n");
  write_file(dir / "empty.json", " [ ] ");
  CHECK(mlq::read_maestro_metadata(dir / "header.csv").empty());
  CHECK(mlq::read_maestro_metadata(dir / "empty.json").empty());
}

TEST_CASE("maestro: v1 record JSON and v2/v3 column JSON give the same records") {
  TempDir dir;
  const std::vector<MaestroRecord> rows = eleven_rows();

  // v1: a list of records, with an extra key in each.
  std::string v1 = "[\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const MaestroRecord& r = rows[i];
    v1 += std::string(i ? ",\n" : "") +
          "  {\"canonical_composer\": " + mlq::in_quotes(r.canonical_composer) +
          ", \"canonical_title\": " + mlq::in_quotes(r.canonical_title) +
          ", \"split\": " + mlq::in_quotes(r.split) + ", \"year\": " + std::to_string(r.year) +
          ", \"midi_filename\": " + mlq::in_quotes(r.midi_filename) +
          ", \"audio_filename\": " + mlq::in_quotes(r.audio_filename) +
          ", \"duration\": " + number_text(r.duration) + ", \"extra\": [1, {\"a\": null}]}";
  }
  v1 += "\n]\n";
  write_file(dir / "maestro-v1.0.0.json", v1);

  // v2/v3: columns keyed by row number, keys shuffled ("10" before "2"), an extra column of a
  // different length, and the columns themselves in a different order.
  const int order[] = {10, 3, 0, 7, 2, 9, 1, 5, 8, 4, 6};
  auto column = [&](const std::string& name, auto value_of) {
    std::string text = mlq::in_quotes(name) + ": {";
    for (size_t k = 0; k < 11; ++k)
      text += std::string(k ? ", " : "") + "\"" + std::to_string(order[k]) +
              "\": " + value_of(rows[order[k]]);
    return text + "}";
  };
  auto quoted = [](const std::string& s) { return mlq::in_quotes(s); };
  std::string v3 = "\xEF\xBB\xBF{\n";
  v3 += column("duration", [](const MaestroRecord& r) { return number_text(r.duration); }) + ",\n";
  v3 +=
      column("canonical_title", [&](const MaestroRecord& r) { return quoted(r.canonical_title); }) +
      ",\n";
  v3 += "\"extra\": {\"0\": 1},\n";
  v3 += column("canonical_composer",
               [&](const MaestroRecord& r) { return quoted(r.canonical_composer); }) +
        ",\n";
  v3 += column("split", [&](const MaestroRecord& r) { return quoted(r.split); }) + ",\n";
  v3 += column("year", [](const MaestroRecord& r) { return std::to_string(r.year); }) + ",\n";
  v3 += column("midi_filename", [&](const MaestroRecord& r) { return quoted(r.midi_filename); }) +
        ",\n";
  v3 += column("audio_filename", [&](const MaestroRecord& r) { return quoted(r.audio_filename); }) +
        "\n}\n";
  write_file(dir / "maestro-v3.0.0.json", v3);

  const auto from_v1 = mlq::read_maestro_metadata(dir / "maestro-v1.0.0.json");
  const auto from_v3 = mlq::read_maestro_metadata(dir / "maestro-v3.0.0.json");
  check_records(from_v1, rows);
  check_records(from_v3, rows);
  REQUIRE(from_v3.size() == 11);
  CHECK(from_v3[2].midi_filename == "2004/2.midi");
  CHECK(from_v3[10].midi_filename == "2004/10.midi");
}

TEST_CASE("maestro: write_maestro_csv round-trips tricky fields atomically") {
  TempDir dir;
  const fs::path file = dir / "out.csv";
  const std::vector<MaestroRecord> records = {
      make("Fr\xC3\xA9\x64\xC3\xA9ric Chopin", kTrickyTitle, "validation", 2009, "2009/a.midi",
           "2009/a.wav", 180.5),
      make("Bach, J. S.", "\"Goldberg\"\nVariations\r\nAria", "train", 2018, "2018/b b.midi",
           "2018/b,b.wav", 698.661160312),
      make("  spaced  ", "", "test", 0, "\"q\".midi", "x.wav", 0.1),
      make("Liszt", "Tr\xC3\xA4umerei, \xE2\x80\x9C\xE5\xA4\xA2\xE2\x80\x9D", "train", 2006,
           "m.midi", "m.wav", 1e-7),
  };
  mlq::write_maestro_csv(file, records);
  check_records(mlq::read_maestro_metadata(file), records);
  CHECK(names_in(dir.path()) == std::vector<std::string>{"out.csv"});

  const std::string text = mlq::test::read_file(file);
  CHECK(text.rfind(kHeader + "\n", 0) == 0);
  CHECK(text.find("\nFr\xC3\xA9\x64\xC3\xA9ric Chopin,\"\xC3\x89tude Op. 10, No. 3 "
                  "\"\"Tristesse\"\"\",validation,2009,2009/a.midi,2009/a.wav,180.5\n") !=
        std::string::npos);

  // Overwriting replaces the whole file.
  mlq::write_maestro_csv(file, {records[2]});
  check_records(mlq::read_maestro_metadata(file), {records[2]});
  CHECK(names_in(dir.path()) == std::vector<std::string>{"out.csv"});
}

TEST_CASE("maestro: write_maestro_csv failures leave no temporary file") {
  TempDir dir;
  const std::vector<MaestroRecord> good = {
      make("Chopin", "Waltz", "train", 2011, "w.midi", "w.wav", 1)};

  const fs::path no_parent = dir / "missing" / "out.csv";
  check_message(write_error(no_parent, good), no_parent, {"cannot write"});
  CHECK(names_in(dir.path()).empty());

  // Renaming onto a non-empty directory fails after the temporary file was written.
  const fs::path occupied = dir / "occupied.csv";
  write_file(occupied / "inside", "keep");
  check_message(write_error(occupied, good), occupied, {"cannot write", "renaming"});
  CHECK(names_in(dir.path()) == std::vector<std::string>{"occupied.csv"});
  CHECK(names_in(occupied) == std::vector<std::string>{"inside"});

  // Records the reader would refuse are refused.
  const fs::path bad = dir / "bad.csv";
  std::vector<MaestroRecord> bad_split = good;
  bad_split.push_back(make("Liszt", "Etude", "dev", 2006, "e.midi", "e.wav", 2));
  check_message(write_error(bad, bad_split), bad, {"records[1]", "\"dev\""});
  std::vector<MaestroRecord> bad_duration = good;
  bad_duration[0].duration = -1;
  check_message(write_error(bad, bad_duration), bad, {"records[0]", "duration", "-1"});
  CHECK(names_in(dir.path()) == std::vector<std::string>{"occupied.csv"});
}

TEST_CASE("maestro: file-level errors") {
  TempDir dir;
  const fs::path missing = dir / "nope.csv";
  check_message(read_error(missing), missing, {"not found"});
  check_read_error(dir, "empty.csv", "", {"empty file"});
  check_read_error(dir, "blank.json", "\xEF\xBB\xBF \r\n\n", {"empty file"});
}

TEST_CASE("maestro: CSV errors name the line, column and value") {
  TempDir dir;
  const std::string ok = "Chopin,Waltz,train,2011,w.midi,w.wav,1.5\n";
  auto at = [&](const std::string& name, int line) {
    return (dir / name).string() + ":" + std::to_string(line) + ":";
  };

  SUBCASE("missing columns") {
    check_read_error(dir, "cols.csv",
                     "canonical_composer,canonical_title,year,midi_filename,audio_filename\n",
                     {at("cols.csv", 1), "'split', 'duration'"});
    CHECK(read_error(dir / "cols.csv").find("'year'") == std::string::npos);
  }
  SUBCASE("field count") {
    check_read_error(dir, "count.csv",
                     kHeader + "\n" + ok + "Chopin,Waltz,train,2011,w.midi,w.wav\n",
                     {at("count.csv", 3), "expected 7 fields", "got 6"});
    check_read_error(dir, "count2.csv",
                     kHeader + "\r\n\"a\nb\",Waltz,train,2011,w.midi,w.wav,1\r\n" + ok + ok +
                         ",Waltz,train,2011,w.midi,w.wav,1,extra\r\n",
                     {at("count2.csv", 6), "got 8"});
  }
  SUBCASE("unterminated quote") {
    check_read_error(dir, "quote.csv",
                     kHeader + "\n" + ok + "Chopin,\"Waltz, op. 64\ntrain,2011,w.midi,w.wav,1.5\n",
                     {at("quote.csv", 3), "unterminated", "column 'canonical_title'"});
  }
  SUBCASE("stray quotes") {
    check_read_error(dir, "stray.csv", kHeader + "\n" + ok + "Chopin,Wal\"tz,train,2011,m,a,1\n",
                     {at("stray.csv", 3), "column 'canonical_title'", "'\"'"});
    check_read_error(dir, "after.csv", kHeader + "\n\"Chopin\"x,Waltz,train,2011,m,a,1\n",
                     {at("after.csv", 2), "column 'canonical_composer'", "\"x\""});
  }
  SUBCASE("bad split") {
    check_read_error(dir, "split.csv", kHeader + "\n" + ok + ok + "C,T,dev,2011,m,a,1\n",
                     {at("split.csv", 4), "column 'split'", "\"dev\"", "validation"});
  }
  SUBCASE("bad year") {
    check_read_error(dir, "year.csv", kHeader + "\nC,T,train,20x8,m,a,1\n",
                     {at("year.csv", 2), "column 'year'", "\"20x8\""});
    check_read_error(dir, "year2.csv", kHeader + "\nC,T,train,,m,a,1\n",
                     {at("year2.csv", 2), "column 'year'", "got \"\""});
  }
  SUBCASE("bad duration") {
    check_read_error(dir, "dur.csv", kHeader + "\n" + ok + "C,T,train,2011,m,a,long\n",
                     {at("dur.csv", 3), "column 'duration'", "\"long\""});
    check_read_error(dir, "dur2.csv", kHeader + "\nC,T,train,2011,m,a,nan\n",
                     {at("dur2.csv", 2), "column 'duration'", "\"nan\""});
    check_read_error(dir, "dur3.csv", kHeader + "\nC,T,train,2011,m,a,-2\n",
                     {at("dur3.csv", 2), "column 'duration'", "\"-2\""});
  }
}

TEST_CASE("maestro: JSON errors name the row, column and value") {
  TempDir dir;
  const std::string record =
      "{\"canonical_composer\": \"C\", \"canonical_title\": \"T\", \"split\": \"train\", "
      "\"year\": 2011, \"midi_filename\": \"m\", \"audio_filename\": \"a\", \"duration\": 1.5}";

  SUBCASE("malformed") {
    check_read_error(dir, "bad.json", "[\n" + record + ",\n{\"canonical_composer\": }\n]",
                     {"malformed JSON", "parse error", "line 3"});
  }
  SUBCASE("v1 record problems") {
    check_read_error(dir, "v1a.json",
                     "[" + record + ", {\"canonical_composer\": \"C\", \"extra\": 1}]",
                     {"row 1", "'audio_filename'", "'duration'"});
    CHECK(read_error(dir / "v1a.json").find("'canonical_composer'") == std::string::npos);
    check_read_error(dir, "v1b.json", "[\"just a string\"]",
                     {"row 0", "expected an object", "\"just a string\""});
    std::string year_text = record;
    year_text.replace(year_text.find("2011"), 4, "\"2011\"");
    check_read_error(dir, "v1c.json", "[" + record + "," + record + "," + year_text + "]",
                     {"row 2, column 'year'", "integer", "\"2011\""});
    std::string dev = record;
    dev.replace(dev.find("\"train\""), 7, "\"dev\"");
    check_read_error(dir, "v1d.json", "[" + dev + "]", {"row 0, column 'split'", "\"dev\""});
    std::string no_duration = record;
    no_duration.replace(no_duration.find("1.5"), 3, "null");
    check_read_error(dir, "v1e.json", "[" + no_duration + "]",
                     {"row 0, column 'duration'", "null"});
  }

  auto columns = [](const std::string& duration, const std::string& year) {
    return "{\"canonical_composer\": {\"0\": \"C\", \"1\": \"D\"}, "
           "\"canonical_title\": {\"1\": \"U\", \"0\": \"T\"}, "
           "\"split\": {\"0\": \"train\", \"1\": \"test\"}, \"year\": " +
           year +
           ", \"midi_filename\": {\"0\": \"m\", \"1\": \"n\"}, "
           "\"audio_filename\": {\"0\": \"a\", \"1\": \"b\"}, \"duration\": " +
           duration + "}";
  };
  const std::string good_year = "{\"0\": 2011, \"1\": 2012}";
  const std::string good_duration = "{\"0\": 1.5, \"1\": 2.5}";
  SUBCASE("v2/v3 sanity: the fixture itself parses") {
    write_file(dir / "ok.json", columns(good_duration, good_year));
    check_records(mlq::read_maestro_metadata(dir / "ok.json"),
                  {make("C", "T", "train", 2011, "m", "a", 1.5),
                   make("D", "U", "test", 2012, "n", "b", 2.5)});
  }
  SUBCASE("v2/v3 columns of different lengths") {
    check_read_error(dir, "len.json", columns("{\"0\": 1.5}", good_year),
                     {"row 1", "missing in column 'duration'", "different lengths"});
    check_read_error(dir, "len2.json",
                     columns(good_duration, "{\"0\": 2011, \"1\": 2012, \"2\": 1}"),
                     {"row 2", "column 'year'", "'canonical_composer'"});
  }
  SUBCASE("v2/v3 bad row key, column shape and value") {
    check_read_error(dir, "key.json", columns(good_duration, "{\"0\": 2011, \"x1\": 2012}"),
                     {"column 'year'", "row numbers", "\"x1\""});
    check_read_error(dir, "shape.json", columns("[1.5, 2.5]", good_year),
                     {"column 'duration'", "expected an object"});
    check_read_error(dir, "value.json", columns("{\"0\": 1.5, \"1\": \"long\"}", good_year),
                     {"row 1, column 'duration'", "\"long\""});
    check_read_error(dir, "missing.json", "{\"canonical_composer\": {\"0\": \"C\"}}",
                     {"missing required columns", "'midi_filename'", "'duration'"});
  }
}
