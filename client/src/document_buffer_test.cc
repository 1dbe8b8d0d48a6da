// DocumentBuffer: documents read in place from the batches they came in, in order across
// batches, and damaged lengths (a reply the client cannot trust) handed on whole for BSON
// validation to refuse rather than read past.

#include "document_buffer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <micromongo/document.h>

namespace micromongo::internal {
namespace {

std::string Bson(int i) { return Document{{"i", i}}.ToBson(); }

// Everything the buffer yields, in order.
std::vector<std::string> Drain(DocumentBuffer* buffer) {
  std::vector<std::string> out;
  while (!buffer->empty()) {
    out.emplace_back(buffer->Front());
    buffer->PopFront();
  }
  return out;
}

TEST(DocumentBufferTest, YieldsDocumentsInOrderAcrossBatches) {
  DocumentBuffer buffer;
  EXPECT_TRUE(buffer.empty());
  buffer.AddSequence("");  // an empty batch adds nothing
  EXPECT_TRUE(buffer.empty());
  buffer.Add(Bson(1));
  buffer.AddSequence(Bson(2) + Bson(3) + Bson(4));
  buffer.AddSequence(Bson(5));
  EXPECT_EQ(Drain(&buffer), (std::vector<std::string>{Bson(1), Bson(2), Bson(3), Bson(4), Bson(5)}));
  // An empty single document is yielded (as empty bytes, which decoding refuses).
  buffer.Add("");
  buffer.Add(Bson(6));
  EXPECT_EQ(Drain(&buffer), (std::vector<std::string>{"", Bson(6)}));
}

TEST(DocumentBufferTest, DamagedLengthsYieldTheRestOfTheirBatch) {
  std::string good = Bson(1);
  std::string too_long = Bson(2);
  too_long[0] = static_cast<char>(too_long.size() + 1);  // says one byte more than there is
  std::string too_short = Bson(3);
  too_short[0] = 4;  // below the smallest document (5 bytes)
  struct Case {
    std::string batch;
    std::vector<std::string> want;
  } cases[] = {
      {too_long, {too_long}},
      {too_short + good, {too_short + good}},
      {good + too_long, {good, too_long}},
      {good + std::string("\x05\0\0", 3), {good, std::string("\x05\0\0", 3)}},  // a cut-off length
  };
  for (const Case& c : cases) {
    DocumentBuffer buffer;
    buffer.AddSequence(c.batch);
    buffer.Add(Bson(9));  // the next batch is unaffected
    std::vector<std::string> want = c.want;
    want.push_back(Bson(9));
    EXPECT_EQ(Drain(&buffer), want);
  }
}

}  // namespace
}  // namespace micromongo::internal
