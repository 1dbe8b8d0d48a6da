/* libmongoc 1.23 (Debian's libmongoc-dev) against micromongo-server's wire protocol
 * listener: connect, CRUD, a cursor across batches, errors with MongoDB's codes.
 *   mongoc_smoke_test [<mongodb uri>]   (default: $MONGODB_URI)
 * Exit status 0 when every check passed; each failure is printed. */
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>

static int failures = 0;

#define CHECK(cond, what)                                   \
  do {                                                      \
    if (!(cond)) {                                          \
      fprintf(stderr, "FAILED: %s (line %d)\n", what, __LINE__); \
      failures++;                                           \
    }                                                       \
  } while (0)

int main(int argc, char** argv) {
  const char* uri_string = argc > 1 ? argv[1] : getenv("MONGODB_URI");
  if (argc > 2 || uri_string == NULL) {
    fprintf(stderr, "usage: mongoc_smoke_test [<mongodb uri>]   (default: $MONGODB_URI)\n");
    return 2;
  }
  mongoc_init();
  bson_error_t error;
  mongoc_uri_t* uri = mongoc_uri_new_with_error(uri_string, &error);
  if (uri == NULL) {
    fprintf(stderr, "bad uri: %s\n", error.message);
    return 2;
  }
  mongoc_client_t* client = mongoc_client_new_from_uri(uri);
  mongoc_client_set_error_api(client, MONGOC_ERROR_API_VERSION_2);

  bson_t* ping = BCON_NEW("ping", BCON_INT32(1));
  bson_t reply;
  CHECK(mongoc_client_command_simple(client, "admin", ping, NULL, &reply, &error), error.message);
  bson_destroy(&reply);
  bson_destroy(ping);

  mongoc_collection_t* coll = mongoc_client_get_collection(client, "csmoke", "c");
  mongoc_collection_drop(coll, NULL);
  for (int i = 0; i < 300; i++) {
    bson_t* doc = BCON_NEW("_id", BCON_INT32(i), "even", BCON_BOOL(i % 2 == 0));
    CHECK(mongoc_collection_insert_one(coll, doc, NULL, NULL, &error), error.message);
    bson_destroy(doc);
  }

  /* A cursor over several batches: 150 even _ids in batches of 40. */
  bson_t* filter = BCON_NEW("even", BCON_BOOL(true));
  bson_t* opts = BCON_NEW("batchSize", BCON_INT32(40), "sort", "{", "_id", BCON_INT32(1), "}");
  mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(coll, filter, opts, NULL);
  const bson_t* doc;
  int n = 0, expected = 0, in_order = 1;
  while (mongoc_cursor_next(cursor, &doc)) {
    bson_iter_t it;
    if (!bson_iter_init_find(&it, doc, "_id") || bson_iter_int32(&it) != expected) in_order = 0;
    expected += 2;
    n++;
  }
  CHECK(!mongoc_cursor_error(cursor, &error), error.message);
  CHECK(n == 150, "150 even documents");
  CHECK(in_order, "sorted by _id");
  mongoc_cursor_destroy(cursor);
  bson_destroy(opts);

  int64_t count = mongoc_collection_count_documents(coll, filter, NULL, NULL, NULL, &error);
  CHECK(count == 150, "count_documents");
  bson_destroy(filter);

  bson_t* selector = BCON_NEW("_id", "{", "$lt", BCON_INT32(10), "}");
  bson_t* update = BCON_NEW("$set", "{", "small", BCON_BOOL(true), "}");
  bson_t update_reply;
  CHECK(mongoc_collection_update_many(coll, selector, update, NULL, &update_reply, &error), error.message);
  bson_iter_t it;
  CHECK(bson_iter_init_find(&it, &update_reply, "modifiedCount") && bson_iter_as_int64(&it) == 10,
        "modifiedCount 10");
  bson_destroy(&update_reply);
  bson_destroy(update);
  bson_t delete_reply;
  CHECK(mongoc_collection_delete_many(coll, selector, NULL, &delete_reply, &error), error.message);
  CHECK(bson_iter_init_find(&it, &delete_reply, "deletedCount") && bson_iter_as_int64(&it) == 10,
        "deletedCount 10");
  bson_destroy(&delete_reply);
  bson_destroy(selector);

  /* A duplicate _id: MongoDB's 11000. */
  bson_t* dup = BCON_NEW("_id", BCON_INT32(100));
  CHECK(!mongoc_collection_insert_one(coll, dup, NULL, NULL, &error), "duplicate refused");
  CHECK(error.code == 11000, "duplicate key code 11000");
  bson_destroy(dup);

  /* An unknown operator: MongoDB's 2 (BadValue). */
  bson_t* bad = BCON_NEW("a", "{", "$bogus", BCON_INT32(1), "}");
  cursor = mongoc_collection_find_with_opts(coll, bad, NULL, NULL);
  CHECK(!mongoc_cursor_next(cursor, &doc), "no documents for a bad filter");
  CHECK(mongoc_cursor_error(cursor, &error) && error.code == 2, "bad filter code 2");
  mongoc_cursor_destroy(cursor);
  bson_destroy(bad);

  CHECK(mongoc_collection_drop(coll, &error), error.message);
  mongoc_collection_destroy(coll);
  mongoc_client_destroy(client);
  mongoc_uri_destroy(uri);
  mongoc_cleanup();
  if (failures == 0) printf("mongoc smoke test: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
