#include "service/retried_replies.h"

#include <gtest/gtest.h>

#include "document/bson_view.h"
#include "document/builder.h"
#include "document/json.h"

namespace micromongo::service {
namespace {

std::string IdDoc(int id) {
  bson::Builder b;
  b.AppendInt32("_id", id);
  return std::move(b).Finish();
}

storage::RetryOutcome Outcome(int64_t inserted, int64_t updated, int64_t deleted, int last_id = 0) {
  return {.inserted = inserted, .updated = updated, .deleted = deleted,
          .last_inserted_id = inserted > 0 ? IdDoc(last_id) : std::string()};
}

// Only a request whose reply the counts determine is answered.
TEST(RetriedRepliesTest, UpdatesAndDeletes) {
  struct Case {
    storage::RetryOutcome outcome;
    bool multi;
    bool answered;
    int64_t matched, modified;
    int upserted;  // 0: none
  } cases[] = {
      {Outcome(0, 1, 0), false, true, 1, 1, 0},
      {Outcome(1, 0, 0, 7), false, true, 0, 0, 7},  // an upsert
      {Outcome(0, 1, 0), true, false},              // a multi update may have been cut
      {Outcome(0, 2, 0), false, false},
      {Outcome(1, 1, 0, 3), false, false},
      {Outcome(0, 0, 1), false, false},
      {Outcome(0, 0, 0), false, false},
  };
  for (const Case& c : cases) {
    v1::UpdateRequest request;
    request.set_multi(c.multi);
    v1::UpdateReply reply;
    ASSERT_EQ(RetriedReply(c.outcome, request, &reply), c.answered);
    if (!c.answered) continue;
    EXPECT_EQ(reply.matched_count(), c.matched);
    EXPECT_EQ(reply.modified_count(), c.modified);
    if (c.upserted == 0) {
      EXPECT_FALSE(reply.has_upserted_id());
    } else {
      EXPECT_EQ(reply.upserted_id().bson(), IdDoc(c.upserted));
    }
  }
  v1::DeleteRequest one, many;
  many.set_multi(true);
  v1::DeleteReply reply;
  EXPECT_TRUE(RetriedReply(Outcome(0, 0, 1), one, &reply));
  EXPECT_EQ(reply.deleted_count(), 1);
  EXPECT_FALSE(RetriedReply(Outcome(0, 0, 1), many, &reply));
  EXPECT_FALSE(RetriedReply(Outcome(0, 1, 0), one, &reply));
}

TEST(RetriedRepliesTest, FindAndModifyNeedsItsDocument) {
  storage::RetryOutcome updated = Outcome(0, 1, 0);
  // BSON requests get BSON replies (JSON ones, JSON: the operation's rule).
  v1::FindAndModifyRequest update;
  update.mutable_filter()->set_bson(IdDoc(4));
  v1::FindAndModifyReply reply;
  EXPECT_FALSE(RetriedReply(updated, update, &reply));  // no document kept
  updated.has_image = true;
  updated.image = IdDoc(4);
  ASSERT_TRUE(RetriedReply(updated, update, &reply));
  EXPECT_EQ(reply.value().bson(), IdDoc(4));
  EXPECT_TRUE(reply.updated_existing());
  EXPECT_FALSE(reply.has_upserted_id());
  v1::FindAndModifyRequest remove;
  remove.mutable_filter()->set_bson(IdDoc(4));
  remove.set_remove(true);
  EXPECT_FALSE(RetriedReply(updated, remove, &reply));  // counts of another command
  storage::RetryOutcome removed = Outcome(0, 0, 1);
  removed.has_image = true;
  removed.image = IdDoc(4);
  reply.Clear();
  ASSERT_TRUE(RetriedReply(removed, remove, &reply));
  EXPECT_FALSE(reply.updated_existing());
  // An upsert that returned null.
  storage::RetryOutcome upserted = Outcome(1, 0, 0, 9);
  upserted.has_image = true;
  reply.Clear();
  ASSERT_TRUE(RetriedReply(upserted, update, &reply));
  EXPECT_FALSE(reply.has_value());
  EXPECT_EQ(reply.upserted_id().bson(), IdDoc(9));
}

TEST(RetriedRepliesTest, InsertsAnsweredOnlyWhenEveryDocumentWasInserted) {
  v1::InsertRequest request;
  request.add_documents()->set_bson(IdDoc(1));
  request.mutable_document_sequence()->append(IdDoc(2));
  v1::InsertReply reply;
  ASSERT_TRUE(RetriedReply(Outcome(2, 0, 0, 2), request, &reply));
  EXPECT_EQ(reply.inserted_count(), 2);
  EXPECT_EQ(bson::BsonToJson(reply.inserted_ids().bson()), R"({"0": 1, "1": 2})");
  EXPECT_FALSE(RetriedReply(Outcome(1, 0, 0, 1), request, &reply));  // an ordered insert cut short
  // A document whose _id the worker generated: its id is not known again.
  request.add_documents()->set_bson(bson::Builder().Finish());
  EXPECT_FALSE(RetriedReply(Outcome(3, 0, 0, 9), request, &reply));
  v1::InsertRequest json;
  json.add_documents()->set_json(R"({"_id": 1})");
  EXPECT_FALSE(RetriedReply(Outcome(1, 0, 0, 1), json, &reply));
}

}  // namespace
}  // namespace micromongo::service
