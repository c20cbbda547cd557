#!/usr/bin/python3
"""Oracle for packages/cql tests: Debian's python3-cassandra driver (an
independent implementation of the CQL native protocol) encodes requests,
decodes responses and computes murmur3 tokens for the C++ tests.

Usage: cql_oracle.py {encode|decode|murmur3} < input > output
  encode : one JSON request spec per line -> hex of the frame the driver encodes
  decode : one hex response frame per line -> canonical JSON of what the driver decoded
  murmur3: one hex partition key per line -> decimal Murmur3Partitioner token
  uuid1micros: one hex version-1 uuid per line -> its microseconds since the epoch (Python's uuid)
Every output line answers the input line at the same position; a failure
prints "ERROR <reason>" on that line instead of stopping.
"""
import calendar
import datetime
import json
import struct
import sys
import uuid

from cassandra.metadata import Murmur3Token
from cassandra.protocol import (AuthResponseMessage, BatchMessage, ExecuteMessage,
                                OptionsMessage, PrepareMessage, ProtocolHandler,
                                QueryMessage, RegisterMessage, StartupMessage,
                                _UNSET_VALUE)

PROTOCOL_V4 = 4


class _BatchType:
    def __init__(self, value):
        self.value = value


def _bytes(h):
    return None if h is None else bytes.fromhex(h)


def _text(h):
    return bytes.fromhex(h).decode('utf8')


def _value(v):
    if v is None:
        return None
    if v == 'unset':
        return _UNSET_VALUE
    return bytes.fromhex(v)


def _params(msg, p):
    # The driver's QueryMessage never sets values itself; bind them as the
    # driver's own ExecuteMessage does, through query_params.
    msg.query_params = None if p['values'] is None else [_value(v) for v in p['values']]
    return msg


def build(spec):
    op = spec['op']
    if op == 'startup':
        opts = dict((k, v) for k, v in spec['options'])
        return StartupMessage(cqlversion=opts.get('CQL_VERSION', '3.0.0'), options=opts)
    if op == 'options':
        return OptionsMessage()
    if op == 'auth_response':
        return AuthResponseMessage(_bytes(spec['token']))
    if op == 'prepare':
        return PrepareMessage(_text(spec['query']))
    if op == 'register':
        return RegisterMessage(spec['events'])
    if op in ('query', 'execute'):
        p = spec['params']
        common = dict(consistency_level=p['consistency'],
                      serial_consistency_level=p['serial'],
                      fetch_size=p['page_size'],
                      paging_state=_bytes(p['paging_state']),
                      timestamp=p['timestamp'])
        if op == 'query':
            return _params(QueryMessage(_text(spec['query']), **common), p)
        msg = ExecuteMessage(_bytes(spec['id']), None, **common)
        return _params(msg, p)
    if op == 'batch':
        queries = []
        for s in spec['statements']:
            values = [_value(v) for v in s['values']]
            if s['prepared']:
                queries.append((True, _bytes(s['id']), values))
            else:
                queries.append((False, _text(s['query']), values))
        return BatchMessage(_BatchType(spec['type']), queries, spec['consistency'],
                            serial_consistency_level=spec['serial'],
                            timestamp=spec['timestamp'])
    raise ValueError('unknown op %r' % op)


def encode(line):
    spec = json.loads(line)
    frame = ProtocolHandler.encode_message(build(spec), spec['stream'], PROTOCOL_V4, None, False)
    return frame.hex()


def norm(v):
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).hex()
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, datetime.datetime):
        return calendar.timegm(v.utctimetuple()) * 1000 + v.microsecond // 1000
    if isinstance(v, dict) or hasattr(v, 'items'):
        return sorted([norm(k), norm(x)] for k, x in v.items())
    if isinstance(v, (list, tuple, set, frozenset)) or hasattr(v, '__iter__'):
        return [norm(x) for x in v]
    return str(v)


def describe(msg):
    d = {'type': msg.name, 'stream': msg.stream_id}
    if msg.warnings:
        d['warnings'] = list(msg.warnings)
    name = msg.name
    if name == 'ERROR':
        d.update(code=msg.code, message=msg.message, info=norm(msg.info))
    elif name == 'AUTHENTICATE':
        d['authenticator'] = msg.authenticator
    elif name == 'SUPPORTED':
        d['cql_versions'] = msg.cql_versions
        d['options'] = norm(msg.options)
    elif name in ('AUTH_SUCCESS', 'AUTH_CHALLENGE'):
        d['token'] = norm(getattr(msg, 'token', getattr(msg, 'challenge', None)))
    elif name == 'RESULT':
        d['kind'] = msg.kind
        if msg.kind == 2:
            d['columns'] = [[c[0], c[1], c[2], c[3].cql_parameterized_type()]
                            for c in (msg.column_metadata or [])]
            d['rows'] = [norm(r) for r in msg.parsed_rows]
            d['paging_state'] = norm(msg.paging_state)
        elif msg.kind == 3:
            d['keyspace'] = msg.new_keyspace
        elif msg.kind == 4:
            d['id'] = msg.query_id.hex()
            d['pk_indexes'] = msg.pk_indexes
            d['bind'] = [[c.keyspace_name, c.table_name, c.name, c.type.cql_parameterized_type()]
                         for c in msg.bind_metadata]
            d['result_columns'] = [[c[0], c[1], c[2], c[3].cql_parameterized_type()]
                                   for c in (msg.column_metadata or [])]
        elif msg.kind == 5:
            d['event'] = norm(msg.schema_change_event)
    return json.dumps(d, sort_keys=True, separators=(',', ':'), ensure_ascii=False)


def decode(line):
    frame = bytes.fromhex(line)
    version, flags, stream, opcode, length = struct.unpack('>BBhBi', frame[:9])
    if version != 0x84:
        raise ValueError('version 0x%02x' % version)
    body = frame[9:]
    if len(body) != length:
        raise ValueError('length %d != body %d' % (length, len(body)))
    msg = ProtocolHandler.decode_message(PROTOCOL_V4, {}, stream, flags, opcode, body, None, None)
    return describe(msg)


def murmur3(line):
    return str(Murmur3Token.hash_fn(bytes.fromhex(line)))


def uuid1micros(line):
    u = uuid.UUID(hex=line)
    if u.version != 1:
        raise ValueError('version %r' % u.version)
    return str((u.time - 0x01B21DD213814000) // 10)


def main():
    fn = {'encode': encode, 'decode': decode, 'murmur3': murmur3,
          'uuid1micros': uuid1micros}[sys.argv[1]]
    out = []
    for line in sys.stdin.read().splitlines():
        try:
            out.append(fn(line.strip()))
        except Exception as e:  # reported per line; the C++ test fails on it
            out.append('ERROR %s: %s' % (type(e).__name__, e))
    sys.stdout.write('\n'.join(out) + '\n')


if __name__ == '__main__':
    main()
