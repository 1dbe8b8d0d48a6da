#!/usr/bin/python3
"""pymongo 3.11 (Debian's python3-pymongo) over TLS with SCRAM-SHA-256, against the server
tests/wire/secure_wire_test.sh starts (MM_A_PORT, MM_CA, MM_TOKEN)."""
import os
import sys
import unittest

import pymongo
from pymongo.errors import OperationFailure

PORT = int(os.environ['MM_A_PORT'])
CA = os.environ['MM_CA']
TOKEN = os.environ['MM_TOKEN']


def client(**kwargs):
    return pymongo.MongoClient('127.0.0.1', PORT, tls=True, tlsCAFile=CA, directConnection=True,
                               serverSelectionTimeoutMS=3000, **kwargs)


class PymongoTlsAuthTest(unittest.TestCase):
    def test_login_and_crud(self):
        with client(username='micromongo', password=TOKEN) as c:
            coll = c.pytls.items
            coll.insert_one({'_id': 'py', 'n': 1})
            self.assertEqual(coll.find_one({'_id': 'py'}), {'_id': 'py', 'n': 1})
            users = c.admin.command('connectionStatus')['authInfo']['authenticatedUsers']
            self.assertEqual(users, [{'user': 'micromongo', 'db': 'admin'}])

    def test_wrong_password(self):
        with client(username='micromongo', password='not-the-token') as c:
            with self.assertRaises(OperationFailure) as e:
                c.admin.command('ping')
            self.assertEqual(e.exception.code, 18)

    def test_no_login(self):
        with client() as c:
            self.assertEqual(c.admin.command('ping')['ok'], 1.0)
            with self.assertRaises(OperationFailure) as e:
                c.pytls.items.find_one()
            self.assertEqual(e.exception.code, 13)


if __name__ == '__main__':
    unittest.main(argv=sys.argv[:1], verbosity=2)
