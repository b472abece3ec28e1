#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "mlq/config/compose.hpp"
#include "mlq/config/tree.hpp"
#include "mlq/util/text.hpp"
#include "support/config_helpers.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using mlq::test::config_error;
using mlq::test::CwdGuard;
using mlq::test::TempDir;
using mlq::test::write_file;

namespace {

mlq::Config config_from(const std::string& text, const std::string& origin) {
  toml::table table = toml::parse(text);
  std::map<std::string, std::string> origins;
  mlq::Config config(table, {});
  for (const auto& [key, value] : config.flatten()) origins[key] = origin;
  return mlq::Config(std::move(table), std::move(origins));
}

const char* kTrainer = R"(
[trainer]
max_steps = 100
lr = 0.001
name = "sgd"
verbose = true
betas = [0.9, 1]
sizes = [1, 2, 3]
tags = ["a", "b"]
steps_text = "ten"
[trainer.optimizer]
momentum = 0.5
)";

// configs/exp.toml plus the regression groups model (mlp, cnn), trainer (default), data.
void write_tree(const fs::path& root) {
  write_file(root / "configs/exp.toml", R"(task = "regression"

[defaults]
model = "mlp"
trainer = "default"
data = "synthetic"

[trainer]
max_steps = 200
)");
  write_file(root / "configs/regression/model/mlp.toml", R"(name = "mlp"
width = 32
depth = 2
dropout = 0.1
)");
  write_file(root / "configs/regression/model/cnn.toml", R"(name = "cnn"
channels = [8, 16]
)");
  write_file(root / "configs/regression/trainer/default.toml", R"(max_steps = 100
lr = 0.001
batch_size = 16
[optimizer]
name = "adam"
betas = [0.9, 0.999]
)");
  write_file(root / "configs/regression/data/synthetic.toml", R"(n = 256
noise = 0.1
)");
}

}  // namespace

TEST_CASE("Config getters return typed values") {
  const mlq::Config config = config_from(kTrainer, "configs/exp.toml");
  CHECK(config.has("trainer.max_steps"));
  CHECK(config.has("trainer.optimizer"));
  CHECK_FALSE(config.has("trainer.nope"));
  CHECK_FALSE(config.has("trainer.max_steps.deeper"));
  CHECK(config.get_int("trainer.max_steps") == 100);
  CHECK(config.get_double("trainer.lr") == doctest::Approx(0.001));
  CHECK(config.get_double("trainer.max_steps") == 100.0);  // integers are accepted
  CHECK(config.get_bool("trainer.verbose") == true);
  CHECK(config.get_string("trainer.name") == "sgd");
  CHECK(config.get_doubles("trainer.betas") == std::vector<double>{0.9, 1.0});
  CHECK(config.get_ints("trainer.sizes") == std::vector<int64_t>{1, 2, 3});
  CHECK(config.get_strings("trainer.tags") == std::vector<std::string>{"a", "b"});
  CHECK(config.get_double("trainer.optimizer.momentum") == 0.5);
  CHECK(config.origin("trainer.lr") == "configs/exp.toml");
  CHECK(config.origin("trainer.nope") == "");
}

TEST_CASE("Config getters with a fallback") {
  const mlq::Config config = config_from(kTrainer, "configs/exp.toml");
  CHECK(config.get_int("trainer.max_steps", 7) == 100);
  CHECK(config.get_int("trainer.missing", 7) == 7);
  CHECK(config.get_double("trainer.missing", 2.5) == 2.5);
  CHECK(config.get_bool("trainer.missing", true) == true);
  CHECK(config.get_string("trainer.missing", "x") == "x");
  CHECK(config.get_string("trainer.name", "x") == "sgd");
  // A present key of the wrong type still throws.
  CHECK_HAS(config_error([&] { config.get_int("trainer.steps_text", 3); }),
            "expected an integer, got string \"ten\"");
}

TEST_CASE("Config type errors name the key, the origin and the expected type") {
  const mlq::Config config = config_from(kTrainer, "configs/exp.toml");
  CHECK_THROWS_WITH_AS(
      config.get_int("trainer.steps_text"),
      "config key 'trainer.steps_text' (configs/exp.toml): expected an integer, got string \"ten\"",
      mlq::ConfigError);
  CHECK(config_error([&] { config.get_int("trainer.lr"); }) ==
        "config key 'trainer.lr' (configs/exp.toml): expected an integer, got float 0.001");
  CHECK(config_error([&] { config.get_bool("trainer.max_steps"); }) ==
        "config key 'trainer.max_steps' (configs/exp.toml): expected a boolean, got integer 100");
  CHECK(config_error([&] { config.get_string("trainer.optimizer"); }) ==
        "config key 'trainer.optimizer' (configs/exp.toml): expected a string, got a table");
  CHECK(config_error([&] { config.get_double("trainer.name"); }) ==
        "config key 'trainer.name' (configs/exp.toml): expected a number, got string \"sgd\"");
  CHECK(config_error([&] { config.get_doubles("trainer.tags"); }) ==
        "config key 'trainer.tags' (configs/exp.toml): expected an array of numbers, got array "
        "[\"a\", \"b\"]");
  CHECK_HAS(config_error([&] { config.get_ints("trainer.betas"); }),
            "expected an array of integers");
  CHECK_HAS(config_error([&] { config.get_strings("trainer.sizes"); }),
            "expected an array of strings, got array [1, 2, 3]");
}

TEST_CASE("Config missing keys suggest the nearest existing key") {
  const mlq::Config config = config_from(kTrainer, "configs/exp.toml");
  CHECK_THROWS_WITH_AS(config.get_int("trainer.max_stpes"),
                       "config key 'trainer.max_stpes' is missing; did you mean "
                       "'trainer.max_steps'?",
                       mlq::ConfigError);
  CHECK(config_error([&] { config.get_string("completely.different"); }) ==
        "config key 'completely.different' is missing");
}

TEST_CASE("Config::section keeps full keys and origins in errors") {
  const mlq::Config config = config_from(kTrainer, "configs/exp.toml");
  const mlq::Config trainer = config.section("trainer");
  CHECK(trainer.get_int("max_steps") == 100);
  CHECK(trainer.get_double("optimizer.momentum") == 0.5);
  CHECK(trainer.origin("lr") == "configs/exp.toml");
  CHECK(trainer.keys() == std::vector<std::string>{"betas", "lr", "max_steps", "name", "optimizer",
                                                   "sizes", "steps_text", "tags", "verbose"});
  CHECK(config_error([&] { trainer.get_int("steps_text"); }) ==
        "config key 'trainer.steps_text' (configs/exp.toml): expected an integer, got string "
        "\"ten\"");
  CHECK(config_error([&] { trainer.get_int("max_stepz"); }) ==
        "config key 'trainer.max_stepz' is missing; did you mean 'trainer.max_steps'?");

  const mlq::Config optimizer = trainer.section("optimizer");
  CHECK(config_error([&] { optimizer.get_bool("momentum"); }) ==
        "config key 'trainer.optimizer.momentum' (configs/exp.toml): expected a boolean, got "
        "float 0.5");

  const mlq::Config missing = config.section("nothing");
  CHECK_FALSE(missing.has("x"));
  CHECK(missing.keys().empty());
  CHECK(missing.get_int("x", 4) == 4);
  CHECK(config_error([&] { missing.get_int("x"); }) == "config key 'nothing.x' is missing");
  CHECK(config_error([&] { config.section("trainer.lr"); }) ==
        "config key 'trainer.lr' (configs/exp.toml): expected a table, got float 0.001");
}

TEST_CASE("Config::keys lists direct children, sorted") {
  const mlq::Config config = config_from("b = 1\na = 2\n[c]\nz = 1\ny = 2\n", "f.toml");
  CHECK(config.keys() == std::vector<std::string>{"a", "b", "c"});
  CHECK(config.keys("c") == std::vector<std::string>{"y", "z"});
  CHECK(config.keys("missing").empty());
}

TEST_CASE("Config::set creates tables and records the origin") {
  mlq::Config config = config_from("[a]\nx = 1\n", "f.toml");
  config.set("a.b.c", toml::value<int64_t>(5), "override 'a.b.c=5'");
  CHECK(config.get_int("a.b.c") == 5);
  CHECK(config.origin("a.b.c") == "override 'a.b.c=5'");
  CHECK(config.origin("a.x") == "f.toml");

  toml::table sub;
  sub.insert("p", 1);
  sub.insert("q", "s");
  config.set("a.x", sub, "code");  // replaces a leaf by a table
  CHECK(config.get_string("a.x.q") == "s");
  CHECK(config.origin("a.x.p") == "code");
  CHECK(config.origin("a.x") == "code");

  CHECK(config_error([&] { config.set("a.b.c.d", toml::value<int64_t>(1), "x"); }) ==
        "cannot set config key 'a.b.c.d': 'a.b.c' is integer 5, not a table");
}

TEST_CASE("check_known_keys rejects unknown keys with a suggestion") {
  const mlq::Config config =
      config_from("[trainer]\nmax_step = 10\nlr = 0.1\n[other]\nx = 1\n", "configs/exp.toml");
  const std::vector<std::string> known{"max_steps", "lr", "batch_size"};
  CHECK_THROWS_WITH_AS(config.check_known_keys("trainer", known),
                       "unknown key 'trainer.max_step' (configs/exp.toml); did you mean "
                       "'max_steps'?",
                       mlq::ConfigError);
  CHECK(config_error([&] { config.check_known_keys("other", known); }) ==
        "unknown key 'other.x' (configs/exp.toml); known keys: batch_size, lr, max_steps");
  CHECK(config_error([&] { config.check_known_keys("other", {}); }) ==
        "unknown key 'other.x' (configs/exp.toml); this table takes no keys");
  CHECK_NOTHROW(config.check_known_keys("other", {"x"}));
  CHECK_NOTHROW(config.check_known_keys("absent", {}));
  // In a section the message still names the full key.
  CHECK(config_error([&] { config.section("trainer").check_known_keys("", known); }) ==
        "unknown key 'trainer.max_step' (configs/exp.toml); did you mean 'max_steps'?");
  // A whole unknown sub-table is reported with the origin of its values.
  const mlq::Config nested = config_from("[m]\n[m.extra]\nk = 1\n", "m.toml");
  CHECK(config_error([&] { nested.check_known_keys("m", {"width"}); }) ==
        "unknown key 'm.extra' (m.toml); known keys: width");
}

TEST_CASE("to_toml is canonical: sorted keys, scalars before tables") {
  const mlq::Config config = config_from(R"(
zeta = 1
[b]
y = "s"
x = 1.0
[b.inner]
k = [1, 2]
[a]
flag = false
"odd key" = 1e-5
)",
                                         "f.toml");
  CHECK(config.to_toml() == R"(zeta = 1

[a]
flag = false
"odd key" = 1e-05

[b]
x = 1.0
y = "s"

[b.inner]
k = [1, 2]
)");
}

TEST_CASE("to_toml parses back to the same table") {
  const mlq::Config config = config_from(R"(
s = "quote \" backslash \\ newline \n tab \t"
f = 3.0
big = 1e300
neg = -0.25
i = -42
inf = inf
date = 2024-01-02
empty = {}
points = [{x = 1, y = "a"}, {x = 2}]
nested = [[1, 2], ["a"]]
[t]
[t.u]
v = true
)",
                                         "f.toml");
  const std::string text = config.to_toml();
  const toml::table reparsed = toml::parse(text);
  CHECK(reparsed == config.table());
  CHECK(mlq::Config(reparsed, {}).to_toml() == text);
  CHECK_HAS(text, "points = [{ x = 1, y = \"a\" }, { x = 2 }]\n");
  CHECK_HAS(text, "f = 3.0\n");
  CHECK_HAS(text, "inf = inf\n");
  CHECK_HAS(text, "date = 2024-01-02\n");
  CHECK_HAS(text, "[t.u]\nv = true\n");
}

TEST_CASE("to_toml and hash_hex ignore the order of keys in the files") {
  TempDir dir;
  write_file(dir / "one.toml", "b = 2\na = 1\n[t]\ny = [1, 2]\nx = \"s\"\n[s]\nk = 0.5\n");
  write_file(dir / "two.toml", "[s]\nk = 0.5\n\n[t]\nx = \"s\"\ny = [1,2]\n\n# comment\n");
  write_file(dir / "three.toml", "a = 1\nb = 2\n[t]\nx = \"s\"\ny = [1, 3]\n[s]\nk = 0.5\n");
  // two.toml lacks a and b at the root; add them in another order.
  std::string two = mlq::test::read_file(dir / "two.toml");
  write_file(dir / "two.toml", "a = 1\nb = 2\n" + two);
  const mlq::Config one(toml::parse_file((dir / "one.toml").string()), {});
  const mlq::Config other(toml::parse_file((dir / "two.toml").string()), {});
  const mlq::Config three(toml::parse_file((dir / "three.toml").string()), {});
  CHECK(one.to_toml() == other.to_toml());
  CHECK(mlq::hash_hex(one.to_toml()) == mlq::hash_hex(other.to_toml()));
  CHECK(mlq::hash_hex(one.to_toml()) != mlq::hash_hex(three.to_toml()));
}

TEST_CASE("flatten lists every leaf with its TOML literal, sorted") {
  const mlq::Config config =
      config_from("z = \"s\"\n[a]\nlist = [1, 2.5]\n[a.b]\nflag = true\nx = 2.0\n", "f.toml");
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  CHECK(config.flatten() ==
        Pairs{{"a.b.flag", "true"}, {"a.b.x", "2.0"}, {"a.list", "[1, 2.5]"}, {"z", "\"s\""}});
  CHECK(config.section("a").flatten() ==
        Pairs{{"b.flag", "true"}, {"b.x", "2.0"}, {"list", "[1, 2.5]"}});
}

TEST_CASE("toml_literal formats values on one line") {
  CHECK(mlq::toml_literal(toml::value<double>(1.0)) == "1.0");
  CHECK(mlq::toml_literal(toml::value<double>(0.001)) == "0.001");
  CHECK(mlq::toml_literal(toml::value<int64_t>(-3)) == "-3");
  CHECK(mlq::toml_literal(toml::value<std::string>("a\nb")) == "\"a\\nb\"");
  CHECK(mlq::toml_literal(toml::table{{"b", 1}, {"a", "x"}}) == "{ a = \"x\", b = 1 }");
  CHECK(mlq::toml_literal(toml::array{1, "x", false}) == "[1, \"x\", false]");
}

TEST_CASE("nearest suggests only close candidates") {
  const std::vector<std::string> words{"max_steps", "lr", "batch_size"};
  CHECK(mlq::nearest("max_step", words) == "max_steps");
  CHECK(mlq::nearest("batchsize", words) == "batch_size");
  CHECK(mlq::nearest("l", words) == "lr");
  CHECK(mlq::nearest("momentum", words) == "");
  CHECK(mlq::nearest("anything", {}) == "");
  // The limit grows with the word: max(2, size / 3).
  CHECK(mlq::nearest("abcdefghijkl", {"abcdefghxxxx"}) == "abcdefghxxxx");  // 4 <= 12 / 3
  CHECK(mlq::nearest("abcdefghijkl", {"abcdefgxxxxx"}) == "");              // 5 > 4
  CHECK(mlq::nearest("ab", {"xb"}) == "xb");                                // 1 <= 2
  CHECK(mlq::nearest("abc", {"xyc"}) == "xyc");                             // 2 <= 2
  CHECK(mlq::nearest("abcd", {"xycd", "ab"}) == "xycd");                    // first of the closest
  // Nothing in common (every character edited) is never a suggestion.
  CHECK(mlq::nearest("ab", {"xy"}) == "");
  CHECK(mlq::nearest("x", {"lr"}) == "");
}

TEST_CASE("hash_hex is 64-bit FNV-1a in 16 lowercase hex digits") {
  CHECK(mlq::hash_hex("") == "cbf29ce484222325");
  CHECK(mlq::hash_hex("a") == "af63dc4c8601ec8c");
  CHECK(mlq::hash_hex("foobar") == "85944171f73967e8");
}

TEST_CASE("compose loads one file per defaults group and merges the experiment over it") {
  TempDir dir;
  write_tree(dir.path());
  CwdGuard cwd(dir.path());
  const mlq::Config config = mlq::compose({"configs/exp.toml", "", {}});
  CHECK(config.get_string("task") == "regression");
  CHECK_FALSE(config.has("defaults"));
  CHECK(config.keys() == std::vector<std::string>{"data", "model", "task", "trainer"});
  CHECK(config.get_int("model.width") == 32);
  CHECK(config.get_string("trainer.optimizer.name") == "adam");
  CHECK(config.get_int("data.n") == 256);
  // The experiment's tables merge over the defaults key by key.
  CHECK(config.get_int("trainer.max_steps") == 200);
  CHECK(config.get_double("trainer.lr") == 0.001);
  CHECK(config.origin("trainer.max_steps") == "configs/exp.toml");
  CHECK(config.origin("trainer.lr") == "configs/regression/trainer/default.toml");
  CHECK(config.origin("model.width") == "configs/regression/model/mlp.toml");
  CHECK(config.origin("task") == "configs/exp.toml");
  CHECK(config_error([&] { config.get_string("model.depth"); }) ==
        "config key 'model.depth' (configs/regression/model/mlp.toml): expected a string, got "
        "integer 2");
}

TEST_CASE("compose: the experiment replaces non-table values and adds new sections") {
  TempDir dir;
  write_tree(dir.path());
  write_file(dir / "configs/exp.toml", R"(task = "regression"
seed = 3
[defaults]
model = "mlp"
trainer = "default"
[trainer]
optimizer = "sgd"
[extra]
note = "hi"
)");
  const mlq::Config config = mlq::compose({dir / "configs/exp.toml", "", {}});
  CHECK(config.get_string("trainer.optimizer") == "sgd");  // a table replaced by a string
  CHECK(config.get_int("seed") == 3);
  CHECK(config.get_string("extra.note") == "hi");
  CHECK_FALSE(config.has("data"));
  CHECK(config.origin("trainer.optimizer") == (dir / "configs/exp.toml").string());
}

TEST_CASE("compose: --task wins over the file's task - no task is an error") {
  TempDir dir;
  write_tree(dir.path());
  write_file(dir / "configs/classification/model/mlp.toml", "classes = 10\n");
  write_file(dir / "configs/classification/trainer/default.toml", "max_steps = 5\n");
  write_file(dir / "configs/classification/data/synthetic.toml", "n = 1\n");
  CwdGuard cwd(dir.path());
  const mlq::Config config = mlq::compose({"configs/exp.toml", "classification", {}});
  CHECK(config.get_string("task") == "classification");
  CHECK(config.origin("task") == "--task");
  CHECK(config.get_int("model.classes") == 10);
  CHECK_FALSE(config.has("model.width"));
  CHECK(config.get_int("trainer.max_steps") == 200);  // the experiment still merges over it

  write_file(dir / "configs/notask.toml", "[defaults]\nmodel = \"mlp\"\n");
  CHECK(config_error([] {
          mlq::compose({"configs/notask.toml", "", {}});
        }) == "no task given: set task = \"...\" in configs/notask.toml or pass --task");
  CHECK(mlq::compose({"configs/notask.toml", "regression", {}}).get_int("model.width") == 32);
  write_file(dir / "configs/badtask.toml", "task = 3\n");
  CHECK(config_error([] {
          mlq::compose({"configs/badtask.toml", "", {}});
        }) == "config key 'task' (configs/badtask.toml): expected a task name, got integer 3");
}

TEST_CASE("compose: missing files and TOML syntax errors") {
  TempDir dir;
  write_tree(dir.path());
  CwdGuard cwd(dir.path());
  CHECK(config_error([] {
          mlq::compose({"configs/nope.toml", "", {}});
        }) == "config file 'configs/nope.toml' not found");

  write_file(dir / "configs/broken.toml", "task = \"regression\"\n\n[trainer]\nlr = = 3\n");
  const std::string message = config_error([] { mlq::compose({"configs/broken.toml", "", {}}); });
  CHECK_HAS(message, "configs/broken.toml:4:");
  CHECK_HAS(message, "TOML parse error");
  CHECK(message.find('\n') == std::string::npos);

  write_file(dir / "configs/regression/model/bad.toml", "width = 3\nwidth = 4\n");
  write_file(dir / "configs/usebad.toml", "task = \"regression\"\n[defaults]\nmodel = \"bad\"\n");
  const std::string group_message = config_error([] {
    mlq::compose({"configs/usebad.toml", "", {}});
  });
  CHECK_HAS(group_message, "configs/regression/model/bad.toml:2:");
  CHECK(group_message.find('\n') == std::string::npos);

  write_file(dir / "configs/baddefaults.toml", "task = \"regression\"\ndefaults = 3\n");
  CHECK_HAS(config_error([] {
              mlq::compose({"configs/baddefaults.toml", "", {}});
            }),
            "config key 'defaults' (configs/baddefaults.toml): expected a table");
}

TEST_CASE("compose: a missing default option lists the available ones") {
  TempDir dir;
  write_tree(dir.path());
  write_file(dir / "configs/exp2.toml", "task = \"regression\"\n[defaults]\nmodel = \"rnn\"\n");
  CwdGuard cwd(dir.path());
  CHECK(config_error([] {
          mlq::compose({"configs/exp2.toml", "", {}});
        }) ==
        "config key 'defaults.model' (configs/exp2.toml): option 'rnn' of group 'model' not "
        "found (no file configs/regression/model/rnn.toml); available: cnn, mlp");
  write_file(dir / "configs/exp3.toml", "task = \"regression\"\n[defaults]\noptim = \"adam\"\n");
  CHECK_HAS(config_error([] {
              mlq::compose({"configs/exp3.toml", "", {}});
            }),
            "available: none (no folder configs/regression/optim)");
}
