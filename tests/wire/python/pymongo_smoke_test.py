#!/usr/bin/python3
"""pymongo 3.11 (Debian's python3-pymongo) against micromongo-server's wire protocol
listener: connect, CRUD, cursors across batches, errors with MongoDB's codes.

    pymongo_smoke_test.py [<mongodb uri>]   (default: $MONGODB_URI)
"""
import os
import sys
import unittest

import pymongo
from bson.decimal128 import Decimal128
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

URI = None


class PymongoSmokeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.client = pymongo.MongoClient(URI, serverSelectionTimeoutMS=5000)
        cls.db = cls.client.pysmoke

    @classmethod
    def tearDownClass(cls):
        cls.client.drop_database('pysmoke')
        cls.client.close()

    def test_connect(self):
        self.assertEqual(self.client.admin.command('ping')['ok'], 1.0)
        self.assertEqual(self.client.server_info()['version'], '8.0.0')

    def test_crud(self):
        c = self.db.crud
        c.insert_many([{'_id': i, 'v': i % 3, 'd': Decimal128('0.1')} for i in range(10)])
        self.assertEqual(c.count_documents({'v': 1}), 3)
        self.assertEqual([d['_id'] for d in c.find({'v': 2}).sort('_id', -1)], [8, 5, 2])
        r = c.update_many({'v': 0}, {'$inc': {'d': Decimal128('0.2')}})
        self.assertEqual((r.matched_count, r.modified_count), (4, 4))
        self.assertEqual(c.find_one({'_id': 3})['d'], Decimal128('0.3'))
        r = c.replace_one({'_id': 100}, {'x': 1}, upsert=True)
        self.assertEqual(r.upserted_id, 100)
        doc = c.find_one_and_update({'_id': 100}, {'$set': {'x': 2}},
                                    return_document=pymongo.ReturnDocument.AFTER)
        self.assertEqual(doc, {'_id': 100, 'x': 2})
        self.assertEqual(c.delete_many({'v': {'$gte': 1}}).deleted_count, 6)
        self.assertEqual(sorted(c.distinct('v')), [0])
        out = list(c.aggregate([{'$group': {'_id': '$v', 'n': {'$sum': 1}}}, {'$sort': {'_id': 1}}]))
        self.assertEqual(out, [{'_id': None, 'n': 1}, {'_id': 0, 'n': 4}])

    def test_cursor_batches(self):
        c = self.db.cursor
        c.insert_many([{'i': i} for i in range(500)])
        seen = [d['i'] for d in c.find().sort('i', 1).batch_size(7)]
        self.assertEqual(seen, list(range(500)))
        self.assertEqual([d['i'] for d in c.find().sort('i', -1).skip(10).limit(2)], [489, 488])

    def test_errors(self):
        c = self.db.errors
        c.insert_one({'_id': 1})
        with self.assertRaises(DuplicateKeyError) as e:
            c.insert_one({'_id': 1})
        self.assertEqual(e.exception.code, 11000)
        with self.assertRaises(BulkWriteError) as e:
            c.insert_many([{'_id': 2}, {'_id': 1}, {'_id': 3}])
        self.assertEqual(e.exception.details['nInserted'], 1)
        self.assertEqual(e.exception.details['writeErrors'][0]['index'], 1)
        with self.assertRaises(OperationFailure) as e:
            list(c.find({'$bogus': 1}))
        self.assertEqual(e.exception.code, 2)
        with self.assertRaises(OperationFailure) as e:
            self.db.command('noSuchCommand')
        self.assertEqual(e.exception.code, 59)

    def test_indexes(self):
        c = self.db.indexes
        self.assertEqual(c.create_index([('a', pymongo.ASCENDING)], unique=True), 'a_1')
        self.assertEqual(sorted(c.index_information()), ['_id_', 'a_1'])
        c.drop_index('a_1')
        self.assertEqual(sorted(c.index_information()), ['_id_'])
        self.assertIn('indexes', self.db.list_collection_names())

    def test_transactions(self):
        # The worker presents a replica set: pymongo's sessions run transactions.
        c = self.db.txn
        c.insert_one({'_id': 1, 'n': 0})
        with self.client.start_session() as session:
            def body(s):
                c.update_one({'_id': 1}, {'$inc': {'n': 1}}, session=s)
                c.insert_one({'_id': 2}, session=s)
                self.assertEqual(c.count_documents({}, session=s), 2)
                self.assertEqual(c.count_documents({}), 1)  # not yet outside
            session.with_transaction(body)
            self.assertEqual(c.find_one({'_id': 1})['n'], 1)
            session.start_transaction()
            c.delete_many({}, session=session)
            session.abort_transaction()
        self.assertEqual(c.count_documents({}), 2)
        with self.client.start_session() as a, self.client.start_session() as b:
            a.start_transaction()
            b.start_transaction()
            c.update_one({'_id': 1}, {'$set': {'n': 10}}, session=a)
            with self.assertRaises(OperationFailure) as e:
                c.update_one({'_id': 1}, {'$set': {'n': 20}}, session=b)
            self.assertEqual(e.exception.code, 112)
            self.assertTrue(e.exception.has_error_label('TransientTransactionError'))
            a.commit_transaction()
        self.assertEqual(c.find_one({'_id': 1})['n'], 10)


if __name__ == '__main__':
    URI = sys.argv.pop(1) if len(sys.argv) > 1 else os.environ['MONGODB_URI']
    unittest.main(verbosity=2)
