#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "mlq/config/compose.hpp"
#include "mlq/config/override.hpp"
#include "mlq/config/tree.hpp"
#include "support/config_helpers.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using mlq::test::config_error;
using mlq::test::CwdGuard;
using mlq::test::TempDir;
using mlq::test::write_file;

namespace {

// A configs/ tree in a temp dir, composed from inside it so origins are relative paths.
struct Tree {
  TempDir dir;
  CwdGuard cwd{dir.path()};
  Tree() {
    write_file(dir / "configs/exp.toml", R"(task = "regression"

[defaults]
model = "mlp"
trainer = "default"

[trainer]
max_steps = 200
)");
    write_file(dir / "configs/regression/model/mlp.toml", R"(name = "mlp"
width = 32
dropout = 0.1
)");
    write_file(dir / "configs/regression/model/cnn.toml", R"(name = "cnn"
channels = [8, 16]
)");
    write_file(dir / "configs/regression/model/crnn_small.toml", "name = \"crnn\"\n");
    write_file(dir / "configs/regression/trainer/default.toml", R"(max_steps = 100
lr = 0.001
batch_size = 16
[optimizer]
name = "adam"
betas = [0.9, 0.999]
)");
    write_file(dir / "configs/regression/extras/plot.toml", "dpi = 100\n");
  }
  mlq::Config compose(std::vector<std::string> overrides,
                      const std::string& file = "configs/exp.toml") const {
    return mlq::compose({file, "", std::move(overrides)});
  }
};

using Lists = std::vector<std::vector<std::string>>;

}  // namespace

TEST_CASE("parse_override recognises every kind") {
  mlq::Override set = mlq::parse_override("trainer.lr=1e-3");
  CHECK(set.kind == mlq::Override::Kind::Set);
  CHECK(set.key == "trainer.lr");
  CHECK(set.value == "1e-3");
  CHECK(set.text == "trainer.lr=1e-3");
  mlq::Override add = mlq::parse_override("+trainer.seed=3");
  CHECK(add.kind == mlq::Override::Kind::Add);
  CHECK(add.key == "trainer.seed");
  CHECK(add.value == "3");
  mlq::Override upsert = mlq::parse_override("++a.b={x=1}");
  CHECK(upsert.kind == mlq::Override::Kind::Upsert);
  CHECK(upsert.key == "a.b");
  CHECK(upsert.value == "{x=1}");
  mlq::Override del = mlq::parse_override("~model.dropout");
  CHECK(del.kind == mlq::Override::Kind::Delete);
  CHECK(del.key == "model.dropout");
  CHECK(del.value == "");
  mlq::Override eq_in_value = mlq::parse_override("data.path=a=b");
  CHECK(eq_in_value.key == "data.path");
  CHECK(eq_in_value.value == "a=b");
  CHECK(mlq::parse_override("name=").value == "");
}

TEST_CASE("parse_override rejects malformed text, quoting it") {
  CHECK_THROWS_WITH_AS(mlq::parse_override("=3"), "override '=3': missing key before '='",
                       mlq::ConfigError);
  CHECK_HAS(config_error([] { mlq::parse_override("a.b"); }), "override 'a.b': expected key=value");
  CHECK_HAS(config_error([] { mlq::parse_override("+a.b"); }), "override '+a.b': expected");
  CHECK(config_error([] { mlq::parse_override("~"); }) == "override '~': missing key after '~'");
  CHECK(config_error([] { mlq::parse_override("~a=1"); }) ==
        "override '~a=1': a delete override takes no value; write ~key");
  CHECK_HAS(config_error([] { mlq::parse_override("a..b=1"); }),
            "override 'a..b=1': invalid key 'a..b'");
  CHECK_HAS(config_error([] { mlq::parse_override("a b=1"); }), "invalid key 'a b'");
  CHECK_HAS(config_error([] { mlq::parse_override(""); }), "empty override");
}

TEST_CASE("parse_value reads TOML literals - bare words are strings") {
  auto value = [](const char* text) { return mlq::parse_value(text, "override 'x'"); };
  CHECK(value("1e-3")->as_floating_point()->get() == 0.001);
  CHECK(value("42")->as_integer()->get() == 42);
  CHECK(value("true")->as_boolean()->get() == true);
  CHECK(value("\"quoted s\"")->as_string()->get() == "quoted s");
  CHECK(value("'literal'")->as_string()->get() == "literal");
  CHECK(mlq::toml_literal(*value("[1,2]")) == "[1, 2]");
  CHECK(mlq::toml_literal(*value("{a=1, b=\"x\"}")) == "{ a = 1, b = \"x\" }");
  CHECK(value("adam")->as_string()->get() == "adam");
  CHECK(value("crnn_small")->as_string()->get() == "crnn_small");
  CHECK(value("some/path.wav")->as_string()->get() == "some/path.wav");
  CHECK(value("1.2.3")->as_string()->get() == "1.2.3");
  CHECK(value("")->as_string()->get() == "");
  CHECK(value("2024-01-02")->is_date());
  CHECK_HAS(config_error([&] { value("[1,2"); }), "override 'x': invalid TOML value [1,2 (");
  CHECK_HAS(config_error([&] { value("\"open"); }), "invalid TOML value \"open");
}

TEST_CASE("override a.b=v sets an existing key and records its origin") {
  Tree tree;
  const mlq::Config config = tree.compose({"trainer.lr=1e-2", "model.name=wide", "model.width=64",
                                           "trainer.optimizer.betas=[0.5, 0.6]"});
  CHECK(config.get_double("trainer.lr") == 0.01);
  CHECK(config.get_string("model.name") == "wide");
  CHECK(config.get_int("model.width") == 64);
  CHECK(config.get_doubles("trainer.optimizer.betas") == std::vector<double>{0.5, 0.6});
  CHECK(config.origin("trainer.lr") == "override 'trainer.lr=1e-2'");
  CHECK(config.origin("trainer.batch_size") == "configs/regression/trainer/default.toml");
  // Later overrides win; the experiment file's value is overridden too.
  const mlq::Config twice = tree.compose({"trainer.max_steps=5", "trainer.max_steps=6"});
  CHECK(twice.get_int("trainer.max_steps") == 6);
  CHECK(twice.origin("trainer.max_steps") == "override 'trainer.max_steps=6'");
}

TEST_CASE("override of a missing key fails with did-you-mean") {
  Tree tree;
  CHECK_THROWS_WITH_AS(tree.compose({"trainer.max_stpes=3"}),
                       "override 'trainer.max_stpes=3': key 'trainer.max_stpes' does not exist "
                       "(use +trainer.max_stpes=... to add it); did you mean 'trainer.max_steps'?",
                       mlq::ConfigError);
  CHECK(config_error([&] { tree.compose({"zzzzzz.qqqq=1"}); }) ==
        "override 'zzzzzz.qqqq=1': key 'zzzzzz.qqqq' does not exist (use +zzzzzz.qqqq=... to add "
        "it)");
}

TEST_CASE("override values must keep the type of the value they replace") {
  Tree tree;
  CHECK_THROWS_WITH_AS(tree.compose({"trainer.batch_size=abc"}),
                       "override 'trainer.batch_size=abc': expected an integer (the value set in "
                       "configs/regression/trainer/default.toml), got string 'abc'",
                       mlq::ConfigError);
  CHECK(config_error([&] { tree.compose({"trainer.max_steps=1.5"}); }) ==
        "override 'trainer.max_steps=1.5': expected an integer (the value set in "
        "configs/exp.toml), got float 1.5");
  CHECK(config_error([&] { tree.compose({"model.name=3"}); }) ==
        "override 'model.name=3': expected a string (the value set in "
        "configs/regression/model/mlp.toml), got integer 3");
  CHECK(config_error([&] { tree.compose({"trainer.optimizer=3"}); }) ==
        "override 'trainer.optimizer=3': expected a table (the value set in "
        "configs/regression/trainer/default.toml), got integer 3");
  CHECK(config_error([&] { tree.compose({"trainer.lr=[1]"}); }) ==
        "override 'trainer.lr=[1]': expected a float (the value set in "
        "configs/regression/trainer/default.toml), got array [1]");
  // A table value sets the keys of an existing table one by one.
  const mlq::Config merged = tree.compose({"trainer.optimizer={name=\"sgd\"}"});
  CHECK(merged.get_string("trainer.optimizer.name") == "sgd");
  CHECK(merged.get_doubles("trainer.optimizer.betas") == std::vector<double>{0.9, 0.999});
  CHECK(config_error([&] { tree.compose({"trainer.optimizer={name=1}"}); }) ==
        "override 'trainer.optimizer={name=1}': expected a string for 'trainer.optimizer.name' "
        "(the value set in configs/regression/trainer/default.toml), got integer 1");
}

TEST_CASE("override promotes an integer to a float key") {
  Tree tree;
  const mlq::Config config = tree.compose({"trainer.lr=1"});
  CHECK(config.table().at_path("trainer.lr").is_floating_point());
  CHECK(config.get_double("trainer.lr") == 1.0);
  CHECK_HAS(config.to_toml(), "lr = 1.0\n");
}

TEST_CASE("override +a.b=v adds a new key only") {
  Tree tree;
  const mlq::Config config = tree.compose({"+trainer.seed=7", "+logging.dir=runs/x"});
  CHECK(config.get_int("trainer.seed") == 7);
  CHECK(config.get_string("logging.dir") == "runs/x");
  CHECK(config.origin("logging.dir") == "override '+logging.dir=runs/x'");
  CHECK_THROWS_WITH_AS(tree.compose({"+trainer.lr=1"}),
                       "override '+trainer.lr=1': key 'trainer.lr' already exists "
                       "(configs/regression/trainer/default.toml); use trainer.lr=1 to change it "
                       "or ++trainer.lr=1 to set or add",
                       mlq::ConfigError);
  CHECK(config_error([&] { tree.compose({"+trainer.lr.x=1"}); }) ==
        "override '+trainer.lr.x=1': cannot add 'trainer.lr.x' because 'trainer.lr' "
        "(configs/regression/trainer/default.toml) is float 0.001, not a table");
}

TEST_CASE("override ++a.b=v sets or adds, without a type check") {
  Tree tree;
  const mlq::Config config = tree.compose({"++trainer.lr=fast", "++model.extra.deep=[1]"});
  CHECK(config.get_string("trainer.lr") == "fast");
  CHECK(config.get_ints("model.extra.deep") == std::vector<int64_t>{1});
  CHECK(config.origin("model.extra.deep") == "override '++model.extra.deep=[1]'");
}

TEST_CASE("override ~a.b deletes a key") {
  Tree tree;
  const mlq::Config config = tree.compose({"~model.dropout", "~trainer.optimizer"});
  CHECK_FALSE(config.has("model.dropout"));
  CHECK_FALSE(config.has("trainer.optimizer"));
  CHECK_FALSE(config.has("trainer.optimizer.name"));
  CHECK(config.origin("trainer.optimizer.name") == "");
  CHECK(config.has("model.width"));
  CHECK_THROWS_WITH_AS(tree.compose({"~model.dropuot"}),
                       "override '~model.dropuot': key 'model.dropuot' does not exist; did you "
                       "mean 'model.dropout'?",
                       mlq::ConfigError);
  // Deleted then added again.
  CHECK(tree.compose({"~model.width", "+model.width=1.5"}).get_double("model.width") == 1.5);
}

TEST_CASE("override group=option swaps a defaults entry before loading") {
  Tree tree;
  // The model.* override comes first but applies to the swapped-in group.
  const mlq::Config config = tree.compose({"model.channels=[4]", "model=cnn"});
  CHECK(config.get_string("model.name") == "cnn");
  CHECK(config.get_ints("model.channels") == std::vector<int64_t>{4});
  CHECK_FALSE(config.has("model.width"));
  CHECK(config.origin("model.name") == "configs/regression/model/cnn.toml");
  CHECK(tree.compose({"model=crnn_small"}).get_string("model.name") == "crnn");
  CHECK(tree.compose({"model=\"cnn\""}).get_string("model.name") == "cnn");
  CHECK_THROWS_WITH_AS(tree.compose({"model=rnn"}),
                       "override 'model=rnn': option 'rnn' of group 'model' not found (no file "
                       "configs/regression/model/rnn.toml); available: cnn, crnn_small, mlp",
                       mlq::ConfigError);
  CHECK(config_error([&] { tree.compose({"model=3"}); }) ==
        "override 'model=3': expected an option name of group 'model', got integer 3");
  // +group=option adds a group that has a folder but no defaults entry.
  const mlq::Config added = tree.compose({"+extras=plot"});
  CHECK(added.get_int("extras.dpi") == 100);
}

TEST_CASE("override task=... picks the task before groups load - --task wins") {
  Tree tree;
  write_file(tree.dir / "configs/other/model/mlp.toml", "size = 1\n");
  write_file(tree.dir / "configs/other/trainer/default.toml", "lr = 0.5\n");
  const mlq::Config config = tree.compose({"task=other"});
  CHECK(config.get_string("task") == "other");
  CHECK(config.origin("task") == "override 'task=other'");
  CHECK(config.get_int("model.size") == 1);
  const mlq::Config cli = mlq::compose({"configs/exp.toml", "regression", {"task=other"}});
  CHECK(cli.get_string("task") == "regression");
  CHECK(cli.get_int("model.width") == 32);
}

TEST_CASE("interpolation: typed copies, embedded text, nesting") {
  Tree tree;
  write_file(tree.dir / "configs/interp.toml", R"(task = "regression"
[defaults]
model = "mlp"
trainer = "default"
[paths]
width = "${model.width}"
steps = "${trainer.max_steps}"
run = "runs/${task}/${model.name}-w${model.width}-lr${trainer.lr}"
chain = "${paths.run}/ckpt"
chain2 = "${paths.chain}"
optimizer = "${trainer.optimizer}"
list = ["${model.name}", "${model.width}", 3]
escaped = '\${not.a.ref}'
)");
  const mlq::Config config = tree.compose({"model.width=64"}, "configs/interp.toml");
  CHECK(config.table().at_path("paths.width").is_integer());
  CHECK(config.get_int("paths.width") == 64);
  CHECK(config.get_int("paths.steps") == 100);
  CHECK(config.get_string("paths.run") == "runs/regression/mlp-w64-lr0.001");
  CHECK(config.get_string("paths.chain") == "runs/regression/mlp-w64-lr0.001/ckpt");
  CHECK(config.get_string("paths.chain2") == "runs/regression/mlp-w64-lr0.001/ckpt");
  CHECK(config.get_string("paths.optimizer.name") == "adam");
  CHECK(config.get_doubles("paths.optimizer.betas") == std::vector<double>{0.9, 0.999});
  CHECK(mlq::toml_literal(config.table().at_path("paths.list").ref<toml::array>()) ==
        "[\"mlp\", 64, 3]");
  CHECK(config.get_string("paths.escaped") == "${not.a.ref}");
  // Interpolated values keep the origin of the string that held the reference.
  CHECK(config.origin("paths.width") == "configs/interp.toml");
  CHECK(config.origin("paths.optimizer.name") == "configs/interp.toml");
}

TEST_CASE("interpolation: environment variables") {
  Tree tree;
  setenv("MLQ_TEST_DATA_ROOT", "/data/x", 1);
  unsetenv("MLQ_TEST_UNSET_VAR");
  write_file(tree.dir / "configs/env.toml", R"(task = "regression"
[data]
root = "${env:MLQ_TEST_DATA_ROOT}"
file = "${env:MLQ_TEST_DATA_ROOT}/train.csv"
cache = "${env:MLQ_TEST_UNSET_VAR,/tmp/cache}"
empty = "${env:MLQ_TEST_UNSET_VAR,}"
)");
  const mlq::Config config = tree.compose({}, "configs/env.toml");
  CHECK(config.get_string("data.root") == "/data/x");
  CHECK(config.get_string("data.file") == "/data/x/train.csv");
  CHECK(config.get_string("data.cache") == "/tmp/cache");
  CHECK(config.get_string("data.empty") == "");

  write_file(tree.dir / "configs/env_missing.toml",
             "task = \"regression\"\n[data]\nroot = \"${env:MLQ_TEST_UNSET_VAR}\"\n");
  CHECK_THROWS_WITH_AS(tree.compose({}, "configs/env_missing.toml"),
                       "config key 'data.root' (configs/env_missing.toml): environment variable "
                       "'MLQ_TEST_UNSET_VAR' is not set (referenced as ${env:MLQ_TEST_UNSET_VAR}; "
                       "write ${env:MLQ_TEST_UNSET_VAR,default} to give a default)",
                       mlq::ConfigError);
  // An override can carry a reference too.
  CHECK(tree.compose({"+data.where=${env:MLQ_TEST_DATA_ROOT}"}, "configs/env.toml")
            .get_string("data.where") == "/data/x");
}

TEST_CASE("interpolation: cycles and unknown references fail") {
  Tree tree;
  write_file(tree.dir / "configs/cycle.toml",
             "task = \"regression\"\n[x]\na = \"${x.b}\"\nb = \"pre-${x.c}\"\nc = \"${x.a}\"\n");
  CHECK_THROWS_WITH_AS(tree.compose({}, "configs/cycle.toml"),
                       "config key 'x.c' (configs/cycle.toml): interpolation cycle: x.a -> x.b -> "
                       "x.c -> x.a",
                       mlq::ConfigError);
  write_file(tree.dir / "configs/self.toml", "task = \"regression\"\n[x]\na = \"${x}\"\n");
  CHECK_HAS(config_error([&] { tree.compose({}, "configs/self.toml"); }),
            "interpolation cycle: x -> x.a -> x");

  write_file(
      tree.dir / "configs/unknown.toml",
      "task = \"regression\"\n[defaults]\nmodel = \"mlp\"\n[paths]\nw = \"${model.widht}\"\n");
  CHECK_THROWS_WITH_AS(tree.compose({}, "configs/unknown.toml"),
                       "config key 'paths.w' (configs/unknown.toml): interpolation ${model.widht} "
                       "refers to missing key 'model.widht'; did you mean 'model.width'?",
                       mlq::ConfigError);
  write_file(tree.dir / "configs/open.toml", "task = \"regression\"\nv = \"a${b\"\n");
  CHECK_HAS(config_error([&] { tree.compose({}, "configs/open.toml"); }),
            "config key 'v' (configs/open.toml): unterminated interpolation");
}

TEST_CASE("expand_sweeps: cartesian product, first override varies slowest") {
  const Lists runs = mlq::expand_sweeps({"trainer.lr=1e-3,1e-2", "seed=1", "model.width=8,16"});
  CHECK(runs == Lists{{"trainer.lr=1e-3", "seed=1", "model.width=8"},
                      {"trainer.lr=1e-3", "seed=1", "model.width=16"},
                      {"trainer.lr=1e-2", "seed=1", "model.width=8"},
                      {"trainer.lr=1e-2", "seed=1", "model.width=16"}});
  CHECK(mlq::expand_sweeps({}) == Lists{{}});
  CHECK(mlq::expand_sweeps({"a=1", "~b"}) == Lists{{"a=1", "~b"}});
  CHECK(mlq::expand_sweeps({"model=mlp,cnn"}) == Lists{{"model=mlp"}, {"model=cnn"}});
  CHECK(mlq::expand_sweeps({"+x=1,2"}) == Lists{{"+x=1"}, {"+x=2"}});
}

TEST_CASE("expand_sweeps respects brackets, braces and quotes") {
  CHECK(mlq::expand_sweeps({"a=[1,2]"}) == Lists{{"a=[1,2]"}});
  CHECK(mlq::expand_sweeps({"a=[1,2],[3,[4,5]]"}) == Lists{{"a=[1,2]"}, {"a=[3,[4,5]]"}});
  CHECK(mlq::expand_sweeps({"a={x=1,y=2}"}) == Lists{{"a={x=1,y=2}"}});
  CHECK(mlq::expand_sweeps({"a=\"x,y\",'p,q'"}) == Lists{{"a=\"x,y\""}, {"a='p,q'"}});
  CHECK(mlq::expand_sweeps({"a=\"q\\\",x\",z"}) == Lists{{"a=\"q\\\",x\""}, {"a=z"}});
  CHECK(mlq::expand_sweeps({"~a,b"}) == Lists{{"~a,b"}});
  CHECK_THROWS_WITH_AS(mlq::expand_sweeps({"a=1,,2"}),
                       "override 'a=1,,2': empty value in sweep list", mlq::ConfigError);
}

TEST_CASE("overrides may replace an interpolation with any type and false with a string") {
  TempDir dir;
  write_file(dir / "exp.toml", R"(task = "t"
[data]
input_dim = 8
metadata = false
label_ext = "midi"
deterministic = true
[model]
input_dim = "${data.input_dim}"
)");
  auto composed = [&](std::vector<std::string> overrides) {
    return mlq::compose({dir / "exp.toml", "", std::move(overrides)});
  };
  mlq::Config config =
      composed({"model.input_dim=4", "data.metadata=maestro.csv", "data.label_ext=false"});
  CHECK(config.get_int("model.input_dim") == 4);
  CHECK(config.get_string("data.metadata") == "maestro.csv");
  CHECK(config.get_bool("data.label_ext") == false);
  // Only false stands for "none": true and other types are still refused.
  CHECK_HAS(config_error([&] { composed({"data.deterministic=yes"}); }), "expected a boolean");
  CHECK_HAS(config_error([&] { composed({"data.label_ext=true"}); }), "expected a string");
  CHECK_HAS(config_error([&] { composed({"data.input_dim=\"8\""}); }), "expected an integer");
}
