#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "eval/confusion_image.hpp"
#include "eval/scores.hpp"

using namespace mlq::classification;

TEST_CASE("clip scores: accuracy, top-k, per-class and macro F1 as scikit-learn defines them") {
  // 3 classes, 5 clips. Clip 4's best is class 2 (true 0); its runner-up is class 0.
  const std::vector<float> p{0.7f, 0.2f, 0.1f,   // true 0 -> 0
                             0.1f, 0.8f, 0.1f,   // true 1 -> 1
                             0.2f, 0.5f, 0.3f,   // true 2 -> 1 (2 second)
                             0.1f, 0.1f, 0.8f,   // true 2 -> 2
                             0.4f, 0.1f, 0.5f};  // true 0 -> 2 (0 second)
  const std::vector<int64_t> labels{0, 1, 2, 2, 0};
  const Scores s = score_clips(p, labels, 3, 2);
  CHECK(s.clips == 5);
  CHECK(s.accuracy == doctest::Approx(0.6));
  CHECK(s.top_k_accuracy == doctest::Approx(1.0));
  CHECK(score_clips(p, labels, 3, 1).top_k_accuracy == doctest::Approx(0.6));
  CHECK(s.confusion == std::vector<std::vector<int64_t>>{{1, 0, 1}, {0, 1, 0}, {0, 1, 1}});
  // class 0: P 1/1, R 1/2; class 1: P 1/2, R 1/1; class 2: P 1/2, R 1/2.
  CHECK(s.classes[0].f1 == doctest::Approx(2.0 / 3));
  CHECK(s.classes[1].f1 == doctest::Approx(2.0 / 3));
  CHECK(s.classes[2].f1 == doctest::Approx(0.5));
  CHECK(s.classes[2].support == 2);
  CHECK(s.macro_f1 == doctest::Approx((2.0 / 3 + 2.0 / 3 + 0.5) / 3));

  // A class with neither clips nor predictions does not count in the macro mean.
  const std::vector<float> p4{0.9f, 0.1f, 0, 0, 0.1f, 0.9f, 0, 0};
  const Scores two = score_clips(p4, {0, 1}, 4, 1);
  CHECK(two.macro_f1 == doctest::Approx(1.0));
  CHECK(two.accuracy == doctest::Approx(1.0));
  CHECK_THROWS(score_clips(p4, {0}, 4, 1));
  CHECK_THROWS(score_clips(p4, {0, 7}, 4, 1));
}

TEST_CASE("top classes: best first, ties to the lower index") {
  const float p[] = {0.1f, 0.4f, 0.1f, 0.4f};
  CHECK(top_classes(p, 4, 3) == std::vector<int64_t>{1, 3, 0});
  CHECK(top_classes(p, 4, 9).size() == 4);
}

TEST_CASE("the confusion matrix as CSV and as a picture") {
  const std::vector<std::vector<int64_t>> m{{5, 1}, {0, 3}};
  CHECK(confusion_csv(m, {"bass", "synth, lead"}) ==
        "true\\predicted,bass,\"synth, lead\"\nbass,5,1\n\"synth, lead\",0,3\n");
  const Picture picture = confusion_picture(m, {"bass", "brass"});
  REQUIRE(picture.rgb.size() == static_cast<size_t>(picture.width) * picture.height * 3);
  CHECK(picture.width > 2 * 26);
  CHECK(picture.height > 2 * 26);
  // The bottom-right cell (3 of 3 right) is the full green of the diagonal at its corner, the
  // top-right one (1 of 6 wrong) a light red.
  auto pixel = [&](int x, int y) {
    const size_t at = (static_cast<size_t>(y) * picture.width + x) * 3;
    return std::vector<int>{picture.rgb[at], picture.rgb[at + 1], picture.rgb[at + 2]};
  };
  CHECK(pixel(picture.width - 4 - 2, picture.height - 4 - 2) == std::vector<int>{30, 150, 70});
  const std::vector<int> light_red = pixel(picture.width - 4 - 2, picture.height - 4 - 26 - 2);
  CHECK(light_red[0] > light_red[1]);
  CHECK(light_red[1] > 200);
}
